"""WHM API 1 as cPanel speaks it on port 2087: `/json-api/<function>` (a `/cpsessNNNNNNNNNN` prefix is ignored),
`Authorization: whm USER:TOKEN` in any case or HTTP Basic with root's or a reseller's password, `api.*`
meta-arguments, the `{data, metadata}` envelope with HTTP 200 for failures, and the frozen API 0 replies for calls
without `api.version=1`."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.auth import parse_authorization, parse_basic
from hostpanel.api.whm import envelope, legacy, meta, proxy
from hostpanel.domain.errors import HostpanelError, PermissionDenied
from hostpanel.domain.whm.access import AccessDenied
from hostpanel.functions.call import FailureWithData, Proxied, proxied_version
from hostpanel.functions.gate import Answer, Password, Presented, Target
from hostpanel.functions.listing import ListError, ListOptions, Presorted, apply
from hostpanel.functions.registry import FUNCTION_NAME, WHM1, UnknownFunction

MODULE = "WHM"  # WHM API 1's functions form one module of the registry's `whm1` namespace
ROUTES = ("/json-api/{function}", "/cpsess{session:digits}/json-api/{function}")
API_PATH = re.compile(r"(?:/cpsess[0-9]+)?/json-api/")
OTP_HEADER = "x-cpanel-otp"


class WhmDialect:
    """WHM API 1 (see `api.dialect.Dialect`); bound to a request, it knows the version asked for and the function."""

    meta_prefixes: tuple[str, ...] = (meta.PREFIX,)

    def __init__(self, version: int = 1, command: str = "", proxied: str = "2") -> None:
        self.version = version
        self.command = command
        self.proxied = proxied  # the API a `cpanel` proxy call asks for, whose shape its failures take

    def bind(self, request: Request, pairs: list[tuple[str, str]]) -> WhmDialect:
        return WhmDialect(meta.version(pairs), request.path_params.get("function", ""), _proxied(pairs))

    def bind_local(self, function: str, pairs: list[tuple[str, str]]) -> WhmDialect:  # always API 1
        return WhmDialect(1, function, _proxied(pairs))

    def local_target(self, module: str, function: str) -> Target:  # noqa: ARG002 - one module
        return Target(MODULE, function, WHM1)

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:  # noqa: ARG002 - in the path
        return Target(MODULE, request.path_params["function"], WHM1)

    def credentials(self, request: Request) -> Presented | None:
        header = request.headers.get("authorization")
        token = parse_authorization(header)
        if token is not None:
            return token
        basic = parse_basic(header)
        if basic is not None:
            return Password(basic[0], basic[1], request.headers.get(OTP_HEADER, ""))
        return None

    def list_options(self, meta_arguments: dict[str, str]) -> ListOptions:
        return meta.list_options(meta_arguments)

    def success(self, answer: Answer, options: ListOptions) -> Response:
        data, metadata = answer.data, dict(answer.metadata)
        if isinstance(data, Proxied):
            return JSONResponse(proxy.success(data))
        try:
            data = _post_processed(data, options, metadata)
        except ListError as error:
            return self.failure(str(error))
        if self.version == 0 and legacy.has_shape(self.command):
            return JSONResponse(legacy.success(self.command, data, metadata))
        return JSONResponse(envelope.whm_success(self.command, data, metadata))

    def error(self, error: HostpanelError) -> Response:
        name = self.command if FUNCTION_NAME.fullmatch(self.command) else "?"
        reason = envelope.whm_reason(name, error, self.version)
        if self.command == proxy.COMMAND:
            return JSONResponse(proxy.failure(self.proxied, reason))
        if self.version == 0 and legacy.has_shape(self.command) and not isinstance(error, UnknownFunction):
            denied = isinstance(error, PermissionDenied) and not isinstance(error, AccessDenied)
            return JSONResponse(legacy.failure(self.command, reason, denied))
        data = error.data if isinstance(error, FailureWithData) else None
        return JSONResponse(envelope.whm_failure(self.command, reason, data))

    def failure(self, message: str, status: int = 200) -> Response:
        if self.version == 0 and legacy.has_shape(self.command):
            return JSONResponse(legacy.failure(self.command, message), status_code=status)
        return JSONResponse(envelope.whm_failure(self.command, message), status_code=status)

    def unauthenticated(self) -> Response:
        return JSONResponse(envelope.ACCESS_DENIED, status_code=403)


def _proxied(pairs: list[tuple[str, str]]) -> str:
    given = dict(reversed(pairs))  # the first of a repeated argument counts
    return proxied_version(given.get)


def _post_processed(data: Any, options: ListOptions, metadata: dict[str, Any]) -> Any:
    """WHM's meta-arguments apply to the single list in `data` (`{"acct": [...]}` or the list itself)."""
    if not (options.filters or options.sorts or options.columns or options.page):
        return data
    if isinstance(data, list | Presorted):
        outcome = apply(data, options)
        metadata.update(_meta(outcome.metadata, outcome.messages))
        return outcome.records
    if isinstance(data, dict):
        lists = [
            key for key, value in data.items() if isinstance(value, list) and all(isinstance(i, dict) for i in value)
        ]
        if len(lists) == 1:
            outcome = apply(data[lists[0]], options)
            metadata.update(_meta(outcome.metadata, outcome.messages))
            return {**data, lists[0]: outcome.records}
    return data


def _meta(found: dict[str, Any], messages: list[str]) -> dict[str, Any]:
    """cPanel's names for what the list post-processing did."""
    shown: dict[str, Any] = {}
    if "paginate" in found:
        page = found["paginate"]
        shown["chunk"] = {
            "start": page["start_result"],
            "size": page["results_per_page"],
            "records": page["total_results"],
            "chunks": page["total_pages"],
            "current": page["current_page"],
        }
    if "records_before_filter" in found:
        shown["filter"] = {"records_before_filter": found["records_before_filter"]}
    if messages:
        shown["messages"] = messages
    return shown
