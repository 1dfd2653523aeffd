"""UAPI as cPanel speaks it: `/execute/<Module>/<function>`, `Authorization: cpanel USER:TOKEN`, `api.*`
meta-arguments for lists, and the bare result object (HTTP 200 even when `status` is 0)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.auth import parse_authorization
from hostpanel.api.uapi import envelope, meta
from hostpanel.domain.errors import HostpanelError
from hostpanel.functions.gate import Answer, Credentials, Target
from hostpanel.functions.listing import ListOptions
from hostpanel.functions.registry import UAPI
from hostpanel.functions.result import from_answer

ROUTES = ("/execute/{module}/{function}", "/cpsess{session:digits}/execute/{module}/{function}")
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'cpanel realm="hostpanel"'}


class UapiDialect:
    """The UAPI dialect (see `api.dialect.Dialect`)."""

    meta_prefixes: tuple[str, ...] = (meta.PREFIX,)

    def bind(self, request: Request, pairs: list[tuple[str, str]]) -> UapiDialect:  # noqa: ARG002 - one shape
        return self

    def bind_local(self, function: str, pairs: list[tuple[str, str]]) -> UapiDialect:  # noqa: ARG002 - one shape
        return self

    def local_target(self, module: str, function: str) -> Target:
        return Target(module, function, UAPI)

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:  # noqa: ARG002 - in the path
        return Target(request.path_params["module"], request.path_params["function"], UAPI)

    def credentials(self, request: Request) -> Credentials | None:
        return parse_authorization(request.headers.get("authorization"))

    def list_options(self, meta_arguments: dict[str, str]) -> ListOptions:
        return meta.list_options(meta_arguments)

    def success(self, answer: Answer, options: ListOptions) -> Response:
        body = from_answer(
            answer.data,
            None,
            messages=answer.messages,
            warnings=answer.warnings,
            metadata=answer.metadata,
            options=options,
        )
        return JSONResponse(body)

    def error(self, error: HostpanelError) -> Response:
        return JSONResponse(envelope.from_error(error))

    def failure(self, message: str, status: int = 200) -> Response:
        return JSONResponse(envelope.failure(message), status_code=status)

    def unauthenticated(self) -> Response:
        return JSONResponse(envelope.ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS)
