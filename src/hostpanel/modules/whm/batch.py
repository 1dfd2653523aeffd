"""batch: several WHM API 1 calls in one request, as WHMCS sends them (`command=<function>?<arguments>`, repeated);
each is admitted and answered on its own, in its own envelope."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from hostpanel.domain.errors import InvalidInput
from hostpanel.functions.args import Args
from hostpanel.functions.call import Call, FailureWithData
from hostpanel.functions.registry import Param
from hostpanel.functions.result import whm_failure, whm_reason, whm_success
from hostpanel.modules.whm.module import module, reason

MAX_COMMANDS = 100


@module.whm(
    "batch",
    (),
    "Several calls in one: `command=<function>?<url-encoded arguments>`, repeated; `data.result` holds one envelope "
    "per command, and `metadata.result` is 0 when any failed. Each command needs its own ACL.",
    own_transactions=True,
    params=(Param("command", "A call, e.g. `listaccts?search=bob`; repeat for more.", True, repeated=True),),
)
def batch(call: Call) -> dict[str, Any]:
    commands = call.args.require_multiple("command")
    if len(commands) > MAX_COMMANDS:
        raise InvalidInput("command", f"A batch may hold at most {MAX_COMMANDS} commands.")
    assert call.subcall is not None, "the gate hands every call its subcall"
    results = []
    for command in commands:
        name, _, query = command.partition("?")
        try:
            args = Args(parse_qsl(query, keep_blank_values=True), ("api.",))
        except InvalidInput as error:
            results.append(whm_failure(name, error.message))
            continue
        answer = call.subcall(name, args)
        if answer.error is not None:
            data = answer.error.data if isinstance(answer.error, FailureWithData) else None
            results.append(whm_failure(name, whm_reason(name, answer.error), data))
        else:
            results.append(whm_success(name, answer.data, answer.metadata))
    failed = [r for r in results if r["metadata"]["result"] != 1]
    if failed:
        call.metadata["result"] = 0
        reason(call, f"{len(failed)} of {len(results)} commands failed.")
    return {"result": results}
