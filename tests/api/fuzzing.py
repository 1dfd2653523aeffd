"""What every fuzzed answer must satisfy, shared by the CI fuzz test and the longer run in bench/fuzz_api.py."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from hostpanel.api.auth import TOKEN_ONLY_API
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.modules import default_registry
from tests.processes import installed

ENVELOPE_KEYS = {"status", "data", "errors", "messages", "warnings", "metadata"}
DOWNLOADS = {f"/execute/{f.module}/{f.name}" for f in default_registry().functions() if f.returns_file}
TOKEN_SHAPED = re.compile(r"hpat_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}")


@dataclass
class FuzzTarget:
    """A migrated installation with one account and a full-access token no generated input can name."""

    container: Container
    headers: dict[str, dict[str, str]]
    secrets: list[str]
    figures: dict[str, int] = field(default_factory=dict)

    def count(self, name: str) -> None:
        self.figures[name] = self.figures.get(name, 0) + 1


@contextmanager
def fuzz_target(home: Path, database_url: str | None = None) -> Iterator[FuzzTarget]:
    settings = Settings(
        home=home,
        database_url=database_url or f"sqlite:///{home / 'hostpanel.db'}",
        password_time_cost=1,
        password_memory_kib=8,
        password_parallelism=1,
        last_used_flush_seconds=3600,
        lockout_token_failures=0,  # the invalid-token half would otherwise block the address (tested elsewhere)
        token_rate_limit=0,
        leak_report_rate_limit=1_000_000,
    )
    container = installed(settings)
    with container.uow() as uow:
        account = container.accounts(uow).create("fuzzer", "Correct-Horse-Battery-9", "fuzzer@fuzz.test")
        issued = container.tokens(uow).create(Principal.admin(account), "fuzz-main-4b7e2c", None, Permissions.full())
        uow.commit()
    headers = {
        "valid": {"Authorization": f"cpanel fuzzer:{issued.secret}"},
        "invalid": {"Authorization": f"cpanel fuzzer:{secret.generate()}"},
    }
    try:
        yield FuzzTarget(container, headers, [issued.secret])
    finally:
        container.close()


def check_answer(target: FuzzTarget, path: str, status: int, headers: dict[str, str], body: bytes) -> None:
    """No 5xx; UAPI answers in the envelope; no token secret anywhere in the answer."""
    target.count("answers")
    assert status < 500, f"{path}: HTTP {status}: {body[:300]!r}"
    text = body.decode("utf-8", "replace") + " ".join(f"{k}: {v}" for k, v in headers.items())
    for value in target.secrets:
        assert value not in text, f"{path}: a token secret in the answer"
    if status == 403 and not path.startswith("/execute/"):
        assert body.decode() == TOKEN_ONLY_API  # a token sent anywhere but the API: cPanel's refusal
        return
    if status == 200 and headers.get("content-type") == "application/octet-stream":
        # A download names a real file (the skeleton holds empty ones): raw bytes, as its OpenAPI answer says.
        assert path in DOWNLOADS, f"{path}: raw bytes from a function that answers with the result object"
        assert headers.get("content-disposition", "").startswith("attachment;"), f"{path}: bytes shown inline"
        target.count("downloads")
        return
    if path.startswith("/execute/") or path == "/leaked-tokens":
        document: Any = json.loads(body)
        assert isinstance(document, dict) and set(document) == ENVELOPE_KEYS, (
            f"{path}: not a UAPI envelope: {body[:300]!r}"
        )
        assert document["status"] in (0, 1)
        if document["status"] == 0:
            assert document["errors"], f"{path}: a failure without an error message"
            target.count("failures answered")


def check_logs(target: FuzzTarget, records: list[logging.LogRecord]) -> None:
    for record in records:
        line = record.getMessage() + (str(record.exc_info[1]) if record.exc_info else "")
        for value in target.secrets:
            assert value not in line, "a token secret in a log line"
        target.count("log lines")


def _form_value(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=repr)


def send(client: Any, case: Any, target: FuzzTarget, credentials: str) -> Any:
    """Send a generated case; form fields and query values are flattened to text as a browser would send them."""
    kwargs = case.as_transport_kwargs(base_url="https://testserver")
    headers = {k: v for k, v in kwargs.get("headers", {}).items() if k.lower() != "authorization"}
    if credentials != "generated":
        headers.update(target.headers[credentials])
    elif "Authorization" in kwargs.get("headers", {}):
        headers["Authorization"] = _form_value(kwargs["headers"]["Authorization"])
    params = [(k, _form_value(v)) for k, v in (kwargs.get("params") or {}).items()]
    content: bytes | None = None
    if isinstance(kwargs.get("data"), dict):
        content = urlencode([(k, _form_value(v)) for k, v in kwargs["data"].items()]).encode()
    elif isinstance(kwargs.get("data"), bytes):
        content = kwargs["data"]
    elif kwargs.get("data") is not None:
        content = _form_value(kwargs["data"]).encode("utf-8", "surrogatepass")
    elif kwargs.get("content") is not None:
        raw = kwargs["content"]
        content = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "surrogatepass")
    return client.request(kwargs["method"], kwargs["url"], params=params, headers=headers, content=content)


def check_case(client: Any, case: Any, target: FuzzTarget, records: list[logging.LogRecord]) -> None:
    """One generated case, sent with each credential; then the log lines it caused (cleared after)."""
    target.count("cases")
    for credentials in ("valid", "invalid", "generated"):
        response = send(client, case, target, credentials)
        check_answer(target, case.path, response.status_code, dict(response.headers), response.content)
    check_logs(target, records)
    records.clear()
