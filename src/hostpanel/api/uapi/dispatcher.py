"""`/execute/<Module>/<function>`: authenticate, authorise, call, and answer with cPanel's bare result object.

Order matters: authentication comes first (an unknown module gets 401 without credentials, as cPanel answers),
then the function lookup, then the one authorisation check, then the call inside one transaction.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.address import client_address
from hostpanel.api.auth import parse_authorization
from hostpanel.api.uapi import envelope
from hostpanel.api.uapi.args import Args
from hostpanel.api.uapi.call import Call
from hostpanel.api.uapi.listing import ListError, ListOptions, Presorted, apply
from hostpanel.api.uapi.registry import Registry, UapiFunction, UnknownFunction
from hostpanel.container import Container
from hostpanel.domain.audit.service import AuditLog, scrub
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, InvalidInput, PermissionDenied
from hostpanel.domain.permissions import check_access
from hostpanel.domain.principal import Principal

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
UNAUTHORIZED_HEADERS = {**NO_STORE, "WWW-Authenticate": 'cpanel realm="hostpanel"'}
FORM_TYPE = "application/x-www-form-urlencoded"


class RequestTooLarge(Exception):
    pass


class UapiDispatcher:
    def __init__(self, container: Container, registry: Registry) -> None:
        self._container = container
        self._registry = registry

    async def handle(self, request: Request) -> Response:
        if request.method == "HEAD":  # Starlette adds HEAD to GET routes; a HEAD must never run a function
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        try:
            pairs = await self._arguments(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it; not an error of ours to log
        except RequestTooLarge:
            limit = self._container.settings.max_request_bytes
            body = envelope.failure(f"The request is larger than the limit of {limit} bytes.")
            # Close the connection: else the server goes on reading (and discarding) whatever the client still sends.
            return JSONResponse(body, status_code=413, headers={**NO_STORE, "Connection": "close"})
        client = client_address(request.scope)
        return await run_in_threadpool(
            self.dispatch,
            request.path_params["module"],
            request.path_params["function"],
            request.headers.get("authorization"),
            pairs,
            client,
        )

    async def _arguments(self, request: Request) -> list[tuple[str, str]]:
        """Query string and form body together, as cPanel parses them; `file-*` keys from the URL are dropped."""
        pairs = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if not k.startswith("file-")]
        if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
            body = await read_limited(request, self._container.settings.max_request_bytes)
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return pairs

    def dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        try:
            return self._dispatch(module, function, authorization, pairs, ip)
        except Exception:
            log.exception("UAPI %s::%s failed", scrub(module), scrub(function))
            return _json(envelope.failure("The system encountered an internal error."), status=500)

    def _dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        try:
            principal = self._authenticate(authorization, ip)
        except AuthenticationFailed as failure:
            task = BackgroundTask(self._record_failure, failure, ip, f"{module}::{function}")
            return JSONResponse(envelope.ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS, background=task)
        self._container.usage.note(principal)
        try:
            target = self._registry.find(module, function)
        except UnknownFunction as error:
            return _json(envelope.failure(str(error)))
        try:
            check_access(principal.permissions, principal.account.disabled_features, target.scope, target.feature)
        except PermissionDenied as denied:
            self._record_denial(principal, target, denied)
            return _json(envelope.from_error(denied))
        try:
            args = Args(pairs)
        except InvalidInput as error:
            return _json(envelope.from_error(error))
        return self._call(principal, target, args)

    def _authenticate(self, authorization: str | None, ip: str | None) -> Principal:
        credentials = parse_authorization(authorization)
        if credentials is None:
            raise AuthenticationFailed("missing or malformed Authorization header")
        user, token = credentials
        with self._container.uow(write=False) as uow:
            return self._container.authenticator.authenticate(uow.tokens, user, token, ip)

    def _call(self, principal: Principal, target: UapiFunction, args: Args) -> Response:
        options = ListOptions.from_meta(args.meta)
        try:
            with self._container.uow(write=target.writes) as uow:
                call = Call(principal, args, options, uow, self._container)
                data = target.handler(call)
                uow.commit()
        except HostpanelError as error:
            return _json(envelope.from_error(error))
        metadata = dict(call.metadata)
        if isinstance(data, list) and not all(isinstance(item, dict) for item in data):
            metadata["transformed"] = 1  # cPanel filters, sorts and pages only lists of objects
        elif isinstance(data, list | Presorted):
            try:
                outcome = apply(data, options)
            except ListError as error:
                return _json(envelope.failure(str(error), metadata=metadata))
            data = outcome.records
            metadata.update(outcome.metadata)
            call.messages.extend(outcome.messages)
        return _json(envelope.result(1, data, messages=call.messages, warnings=call.warnings, metadata=metadata))

    def _record_denial(self, principal: Principal, target: UapiFunction, denied: PermissionDenied) -> None:
        with self._container.uow() as uow:
            self._container.audit(uow).record_by(
                principal,
                AuditAction.ACCOUNT_PERMISSION_DENIED,
                target=f"{target.module}::{target.name}",
                outcome=Outcome.DENIED,
                details={"missing": denied.missing},
            )
            uow.commit()

    def _record_failure(self, failure: AuthenticationFailed, ip: str | None, target: str) -> None:
        """Runs after the 401 has been sent, so looking up the named account costs the caller nothing."""
        try:
            with self._container.uow() as uow:
                account = uow.accounts.get_by_username(failure.username) if failure.username else None
                AuditLog(uow.audit, self._container.clock).record(
                    AuditAction.ACCOUNT_AUTH_FAILURE,
                    actor="token",
                    account_id=account.id if account else None,
                    username=failure.username,
                    ip=ip,
                    target=target,
                    outcome=Outcome.FAILURE,
                    details={"reason": failure.reason},
                )
                uow.commit()
        except Exception:
            log.exception("could not record an authentication failure")


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, refused (RequestTooLarge) past `limit` bytes whether or not the client declared its length."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestTooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestTooLarge
        chunks.append(chunk)
    return b"".join(chunks)
