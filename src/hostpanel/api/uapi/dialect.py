"""UAPI as cPanel speaks it: `/execute/<Module>/<function>`, `Authorization: cpanel USER:TOKEN`, `api.*`
meta-arguments for lists, and the bare result object (HTTP 200 even when `status` is 0)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.auth import parse_authorization
from hostpanel.api.uapi import envelope, meta
from hostpanel.domain.errors import HostpanelError
from hostpanel.functions.gate import Answer, Credentials, Target
from hostpanel.functions.listing import ListError, ListOptions, Presorted, apply
from hostpanel.functions.registry import UAPI

ROUTES = ("/execute/{module}/{function}", "/cpsess{session:digits}/execute/{module}/{function}")
UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'cpanel realm="hostpanel"'}


class UapiDialect:
    """The UAPI dialect (see `api.dialect.Dialect`)."""

    meta_prefixes: tuple[str, ...] = (meta.PREFIX,)

    def target(self, request: Request, pairs: list[tuple[str, str]]) -> Target:  # noqa: ARG002 - in the path
        return Target(request.path_params["module"], request.path_params["function"], UAPI)

    def credentials(self, request: Request) -> Credentials | None:
        return parse_authorization(request.headers.get("authorization"))

    def list_options(self, meta_arguments: dict[str, str]) -> ListOptions:
        return meta.list_options(meta_arguments)

    def success(self, answer: Answer, options: ListOptions) -> Response:
        data, metadata, messages = answer.data, dict(answer.metadata), list(answer.messages)
        if isinstance(data, list) and not all(isinstance(item, dict) for item in data):
            metadata["transformed"] = 1  # cPanel filters, sorts and pages only lists of objects
        elif isinstance(data, list | Presorted):
            try:
                outcome = apply(data, options)
            except ListError as error:
                return JSONResponse(envelope.failure(str(error), metadata=metadata))
            data = outcome.records
            metadata.update(outcome.metadata)
            messages.extend(outcome.messages)
        body = envelope.result(1, data, messages=messages, warnings=answer.warnings, metadata=metadata)
        return JSONResponse(body)

    def error(self, error: HostpanelError) -> Response:
        return JSONResponse(envelope.from_error(error))

    def failure(self, message: str, status: int = 200) -> Response:
        return JSONResponse(envelope.failure(message), status_code=status)

    def unauthenticated(self) -> Response:
        return JSONResponse(envelope.ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS)
