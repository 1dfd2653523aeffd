"""cPanel API 2 as cPanel speaks it: `GET|POST /json-api/cpanel?cpanel_jsonapi_apiversion=2&
cpanel_jsonapi_module=M&cpanel_jsonapi_func=f&...` (`cpanel_jsonapi_user` optional: the token names the account),
the same `Authorization: cpanel USER:TOKEN` header as UAPI, and `{"cpanelresult": {...}}` answers, compact JSON
(clients read them with text patterns).

A failure carries the message three ways: `error` and `event.reason` (cPanel's framework failures), and a `data`
item `{"result": {"status": 0, "statusmsg": ..., "newserial": null}}`, which is what the ACME clients read
(acme.sh takes any answer without `"newserial":null` for success; certbot-dns-cpanel reads `data[0].result`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.auth import parse_authorization
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.tokens import secret
from hostpanel.functions.call import FailureWithData
from hostpanel.functions.gate import Answer, Credentials, Target
from hostpanel.functions.listing import ListOptions, Presorted
from hostpanel.functions.registry import API2

ROUTES = ("/json-api/cpanel", "/cpsess{session:digits}/json-api/cpanel")
PREFIX = "cpanel_jsonapi_"
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'cpanel realm="hostpanel"'}
ACCESS_DENIED = {
    "cpanelresult": {"apiversion": 2, "error": "Access denied", "data": {"reason": "Access denied", "result": "0"}}
}


def _namespace(version: str | None) -> str:
    """API 2 unless another version is asked for (that one this path does not offer)."""
    return API2 if version in (None, "", "2") else f"api{version[:10]}"


class Api2Dialect:
    """The cPanel API 2 dialect (see `api.dialect.Dialect`)."""

    meta_prefixes: tuple[str, ...] = (PREFIX,)

    def bind(self, request: Request, pairs: list[tuple[str, str]]) -> Api2Dialect:  # noqa: ARG002 - one shape
        return self

    def bind_local(self, function: str, pairs: list[tuple[str, str]]) -> Api2Dialect:  # noqa: ARG002 - one shape
        return self

    def local_target(self, module: str, function: str) -> Target:
        return Target(module, function, API2)

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:  # noqa: ARG002 - in the arguments
        given = dict(reversed(pairs))  # the first of a repeated meta-argument counts
        return Target(
            given.get(PREFIX + "module", ""),
            given.get(PREFIX + "func", ""),
            _namespace(given.get(PREFIX + "apiversion")),
            given.get(PREFIX + "user") or None,
        )

    def credentials(self, request: Request) -> Credentials | None:
        return parse_authorization(request.headers.get("authorization"))

    def list_options(self, meta_arguments: dict[str, str]) -> ListOptions:  # noqa: ARG002 - API 2 lists as they are
        return ListOptions()

    def success(self, answer: Answer, options: ListOptions) -> Response:  # noqa: ARG002
        function = answer.function
        names = (function.module, function.name) if function is not None else None
        return JSONResponse(success(answer.data, names))

    def error(self, error: HostpanelError) -> Response:
        return JSONResponse(from_error(error))

    def failure(self, message: str, status: int = 200) -> Response:
        return JSONResponse(_failure(message), status_code=status)

    def unauthenticated(self) -> Response:
        return JSONResponse(ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS)


def success(data: Any, names: tuple[str, str] | None) -> dict[str, Any]:
    """A function's data as API 2's answer, naming the module and function (`names`) when known; shared with WHM's
    `cpanel` proxy."""
    data = data.records if isinstance(data, Presorted) else data
    result: dict[str, Any] = {"apiversion": 2}
    if names is not None:
        result.update({"func": names[1], "module": names[0]})
    result.update({"data": data if isinstance(data, list) else [] if data is None else [data]})
    result["event"] = {"result": 1}
    return {"cpanelresult": result}


def from_error(error: HostpanelError, names: tuple[str, str] | None = None) -> dict[str, Any]:
    """A failure (with its data, for `FailureWithData`) as API 2's answer; shared with WHM's `cpanel` proxy."""
    body = _failure(error.message, error.data if isinstance(error, FailureWithData) else None)
    if names is not None:
        body["cpanelresult"].update({"func": names[1], "module": names[0]})
    return body


def _failure(message: str, data: Any = None) -> dict[str, Any]:
    text = secret.redact(message)  # messages may echo what the caller sent, a token included
    items = data if isinstance(data, list) else [{"result": {"status": 0, "statusmsg": text, "newserial": None}}]
    return {
        "cpanelresult": {
            "apiversion": 2,
            "data": items,
            "event": {"result": 0, "reason": text},
            "error": text,
        }
    }
