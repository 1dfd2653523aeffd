"""`/execute/<Module>/<function>`: authenticate, authorise, call, and answer with cPanel's bare result object.

Order matters: authentication comes first (an unknown module gets 401 without credentials, as cPanel answers),
then the function lookup, then the one authorisation check, then the call inside one transaction. A multipart body
(an upload) is read only after all three passed, so nobody without the right can make the server store a byte.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from hostpanel.api.auth import parse_authorization
from hostpanel.api.uapi import envelope
from hostpanel.api.uapi.args import Args
from hostpanel.api.uapi.call import Call
from hostpanel.api.uapi.listing import ListError, ListOptions, Presorted, apply
from hostpanel.api.uapi.registry import Registry, UapiFunction, UnknownFunction
from hostpanel.api.uapi.uploads import MULTIPART_TYPE, MultipartReceiver, UploadTooLarge
from hostpanel.container import Container
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, PermissionDenied, RestrictionDenied
from hostpanel.domain.files.service import Download, Upload
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
        client = request.client.host if request.client else None
        module, function = request.path_params["module"], request.path_params["function"]
        authorization = request.headers.get("authorization")
        if request.method == "POST" and request.headers.get("content-type", "").startswith(MULTIPART_TYPE):
            return await self._handle_multipart(request, module, function, authorization, client)
        try:
            pairs = await self._arguments(request)
        except RequestTooLarge:
            return _too_large(self._container.settings.max_request_bytes)
        return await run_in_threadpool(self.dispatch, module, function, authorization, pairs, client)

    async def _handle_multipart(
        self, request: Request, module: str, function: str, authorization: str | None, ip: str | None
    ) -> Response:
        """Admit first, then stream the body: fields to memory, files to the account's staging area."""
        label = f"{module}::{function}"
        admitted = await run_in_threadpool(self._guarded, label, self._admit, module, function, authorization, ip)
        if isinstance(admitted, Response):
            return admitted
        principal, target = admitted
        settings = self._container.settings
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_upload_bytes:
            return _too_large(settings.max_upload_bytes)
        try:
            receiver = MultipartReceiver(
                self._container.staging,
                principal.account.username,
                request.headers["content-type"],
                max_bytes=settings.max_upload_bytes,
                max_field_bytes=settings.max_request_bytes,
                accept_files=target.accepts_uploads,
            )
        except HostpanelError as error:
            return _json(envelope.from_error(error))
        try:
            try:
                async for chunk in request.stream():
                    await run_in_threadpool(receiver.feed, chunk)
                await run_in_threadpool(receiver.finish)
            except UploadTooLarge:
                return _too_large(settings.max_upload_bytes)
            except HostpanelError as error:
                return _json(envelope.from_error(error))
            pairs = _query_pairs(request) + receiver.fields
            uploads = receiver.uploads
            return await run_in_threadpool(self._guarded, label, self._call, principal, target, Args(pairs), uploads)
        finally:
            await run_in_threadpool(receiver.discard)

    async def _arguments(self, request: Request) -> list[tuple[str, str]]:
        """Query string and form body together, as cPanel parses them; `file-*` keys from the URL are dropped."""
        pairs = _query_pairs(request)
        if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
            body = await _read_limited(request, self._container.settings.max_request_bytes)
            pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return pairs

    def dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        label = f"{module}::{function}"
        response: Response = self._guarded(label, self._dispatch, module, function, authorization, pairs, ip)
        return response

    def _guarded(self, label: str, step: Any, *args: Any) -> Any:
        """Run a step of a request; an unexpected error is logged and answered as cPanel's internal error."""
        try:
            return step(*args)
        except Exception:
            log.exception("UAPI %s failed", label[:200])
            return _json(envelope.failure("The system encountered an internal error."), status=500)

    def _dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        admitted = self._admit(module, function, authorization, ip)
        if isinstance(admitted, Response):
            return admitted
        principal, target = admitted
        return self._call(principal, target, Args(pairs))

    def _admit(
        self, module: str, function: str, authorization: str | None, ip: str | None
    ) -> tuple[Principal, UapiFunction] | Response:
        """Authenticate, find the function, authorise: the caller and its target, or the answer refusing them."""
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
            check_access(
                principal.permissions,
                principal.account.disabled_features,
                target.scope,
                target.feature,
                principal.restrictions,
            )
        except PermissionDenied as denied:
            self._record_denial(principal, target, denied)
            return _json(envelope.from_error(denied))
        return principal, target

    def _authenticate(self, authorization: str | None, ip: str | None) -> Principal:
        credentials = parse_authorization(authorization)
        if credentials is None:
            raise AuthenticationFailed("missing or malformed Authorization header")
        user, token = credentials
        with self._container.uow(write=False) as uow:
            return self._container.authenticator.authenticate(uow.tokens, user, token, ip)

    def _call(
        self, principal: Principal, target: UapiFunction, args: Args, uploads: list[Upload] | None = None
    ) -> Response:
        options = ListOptions.from_meta(args.meta)
        try:
            with self._container.uow(write=target.writes) as uow:
                call = Call(principal, args, options, uow, self._container, uploads=uploads or [])
                data = target.handler(call)
                uow.commit()
        except PermissionDenied as denied:  # a restriction enforced inside the module (paths, mail domains)
            self._record_denial(principal, target, denied)
            return _json(envelope.from_error(denied))
        except HostpanelError as error:
            return _json(envelope.from_error(error))
        if isinstance(data, Download):
            return _download(data)
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
        action = AuditAction.ACCOUNT_PERMISSION_DENIED
        details: dict[str, DetailValue] = {"missing": denied.missing}
        if isinstance(denied, RestrictionDenied):
            action = AuditAction.ACCOUNT_RESTRICTION_DENIED
            details = {"restriction": denied.restriction, "detail": denied.detail}
        with self._container.uow() as uow:
            self._container.audit(uow).record_by(
                principal,
                action,
                target=f"{target.module}::{target.name}",
                outcome=Outcome.DENIED,
                details=details,
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
                    details=_failure_details(failure),
                )
                uow.commit()
        except Exception:
            log.exception("could not record an authentication failure")


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _failure_details(failure: AuthenticationFailed) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {"reason": failure.reason}
    if failure.restriction:
        details["restriction"] = failure.restriction
    return details


def _too_large(limit: int) -> JSONResponse:
    body = envelope.failure(f"The request is larger than the limit of {limit} bytes.")
    return JSONResponse(body, status_code=413, headers=NO_STORE)


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query string's arguments; `file-*` keys are dropped, as cPanel does (they name uploads)."""
    return [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True) if not k.startswith("file-")]


def _download(download: Download) -> StreamingResponse:
    """Raw bytes instead of the result object: the one UAPI answer that is not JSON."""
    name = quote(download.name, safe="")
    headers = {
        **NO_STORE,
        "Content-Length": str(download.size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
    }
    return StreamingResponse(
        _chunks(download.fd, download.size), media_type="application/octet-stream", headers=headers
    )


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    """At most the `size` announced in Content-Length, even if the file grows meanwhile."""
    try:
        while size > 0 and (chunk := os.read(fd, min(size, 1 << 16))):
            size -= len(chunk)
            yield chunk
    finally:
        os.close(fd)


async def _read_limited(request: Request, limit: int) -> bytes:
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
