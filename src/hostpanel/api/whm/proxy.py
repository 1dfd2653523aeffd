"""The answers of WHM's `cpanel` proxy, in the proxied API's shape rather than WHM's envelope (whatever
`api.version`): API 2's `{"cpanelresult": {...}}` (written by the API 2 dialect's own functions), UAPI's
`{"apiversion": 3, "module", "func", "result": {...}}`; and the proxy's own failures (no account named, one out of
reach, a missing privilege), `{"data": {"reason", "result": "0"}, "type": "text", "error"}`, inside `cpanelresult`
for API 2."""

from __future__ import annotations

from typing import Any

from hostpanel.api.api2 import dialect as api2
from hostpanel.domain.tokens import secret
from hostpanel.functions.call import Proxied
from hostpanel.functions.result import from_answer

COMMAND = "cpanel"


def success(proxied: Proxied) -> dict[str, Any]:
    names = (proxied.module, proxied.func)
    if proxied.apiversion == 2:
        if proxied.error is not None:
            return api2.from_error(proxied.error, names)
        return api2.success(proxied.data, names)
    result = from_answer(
        proxied.data,
        proxied.error,
        messages=proxied.messages,
        warnings=proxied.warnings,
        metadata=proxied.metadata,
    )
    return {"apiversion": 3, "module": proxied.module, "func": proxied.func, "result": result}


def failure(version: str, reason: str) -> dict[str, Any]:
    text = secret.redact(reason)
    body: dict[str, Any] = {"data": {"reason": text, "result": "0"}, "type": "text", "error": text}
    if version == "3":
        return {"apiversion": 3, **body}
    return {"cpanelresult": {"apiversion": 2, **body, "event": {"result": 0, "reason": text}}}
