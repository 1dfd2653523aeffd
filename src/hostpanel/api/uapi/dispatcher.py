"""`/execute/<Module>/<function>`: authenticate, authorise, call, and answer with cPanel's bare result object.

Order matters: a locked-out address is refused before anything is checked; then authentication (an unknown module
gets 401 without credentials, as cPanel answers), the token's rate limit, the function lookup, the one authorisation
check, and the call inside one transaction. A multipart body (an upload) is read only after all of these passed, so
nobody without the right can make the server store a byte.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote

from sqlalchemy.exc import OperationalError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from hostpanel.api.address import client_address
from hostpanel.api.auth import parse_authorization
from hostpanel.api.uapi import envelope
from hostpanel.api.uapi.args import Args
from hostpanel.api.uapi.call import Call, NoDatabase
from hostpanel.api.uapi.listing import ListError, ListOptions, Presorted, apply
from hostpanel.api.uapi.registry import Registry, UapiFunction, UnknownFunction
from hostpanel.api.uapi.uploads import MULTIPART_TYPE, MultipartReceiver, UploadTooLarge, receive
from hostpanel.container import Container
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog, scrub
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import (
    AuthenticationFailed,
    HostpanelError,
    InvalidInput,
    PermissionDenied,
    RestrictionDenied,
    Unavailable,
    WouldBlock,
)
from hostpanel.domain.files.service import Download, Upload
from hostpanel.domain.permissions import check_access
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.domain.security.ratelimit import RateDecision
from hostpanel.domain.tokens.cache import Found

log = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store"}
UNAUTHORIZED_HEADERS = {**NO_STORE, "WWW-Authenticate": 'cpanel realm="hostpanel"'}
FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FIELDS = 1000  # arguments per request: enough for any list call, few enough to parse cheaply
DATABASE_DOWN = "The system is temporarily unable to reach its database or its counters. Try again shortly."


class RequestTooLarge(Exception):
    pass


class BadArguments(Exception):
    """The query string or form body cannot be read as UTF-8 arguments; the message says why."""


@dataclass(frozen=True)
class Admitted:
    principal: Principal
    target: UapiFunction
    limit: RateDecision | None


class _FromMemory:
    """What authentication reads on the event loop: the token cache's current entries, never the database."""

    def __init__(self, container: Container) -> None:
        self._container = container

    def find_by_key(self, key: str) -> Found | None:
        return self._container.token_cache.find_in_memory(key)


class UapiDispatcher:
    def __init__(self, container: Container, registry: Registry) -> None:
        self._container = container
        self._registry = registry
        self._from_memory = _FromMemory(container)

    async def handle(self, request: Request) -> Response:
        if request.method == "HEAD":  # Starlette adds HEAD to GET routes; a HEAD must never run a function
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        client = client_address(request.scope)
        module, function = request.path_params["module"], request.path_params["function"]
        authorization = request.headers.get("authorization")
        try:
            if request.method == "POST" and request.headers.get("content-type", "").startswith(MULTIPART_TYPE):
                return await self._handle_multipart(request, module, function, authorization, client)
            pairs = await self._arguments(request)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it; not an error of ours to log
        except RequestTooLarge:
            return _too_large(self._container.settings.max_request_bytes)
        except BadArguments as error:
            return _json(envelope.failure(str(error)), status=400)
        return await self._answer(module, function, authorization, pairs, client)

    async def _answer(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        """Admitted from memory, a function that needs no database answers right here; one that does runs in a
        worker thread; anything else takes the full path in a worker thread."""
        admitted = self._admit_from_memory(module, function, authorization, ip)
        if admitted is None:
            return await run_in_threadpool(self.dispatch, module, function, authorization, pairs, ip)
        label = f"{module}::{function}"
        if not admitted.target.uses_database:
            return self._guarded(label, self._run, admitted, pairs, None)  # type: ignore[no-any-return]
        response: Response = await run_in_threadpool(self._guarded, label, self._run, admitted, pairs, None)
        return response

    async def _handle_multipart(
        self, request: Request, module: str, function: str, authorization: str | None, ip: str | None
    ) -> Response:
        """Admit first, then stream the body: fields to memory, files to the account's staging area."""
        label = f"{module}::{function}"
        query = _query_pairs(request)
        admitted = await run_in_threadpool(self._guarded, label, self._admit, module, function, authorization, ip)
        if isinstance(admitted, Response):
            return admitted
        settings = self._container.settings
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_upload_bytes:
            return _too_large(settings.max_upload_bytes)
        try:
            receiver = MultipartReceiver(
                self._container.staging,
                admitted.principal.account.username,
                request.headers["content-type"],
                max_bytes=settings.max_upload_bytes,
                max_field_bytes=settings.max_request_bytes,
                accept_files=admitted.target.accepts_uploads,
            )
        except HostpanelError as error:
            return _json(envelope.from_error(error))
        try:
            try:
                await receive(receiver, request)
            except UploadTooLarge:
                return _too_large(settings.max_upload_bytes)
            except HostpanelError as error:
                return _json(envelope.from_error(error))
            pairs, uploads = query + receiver.fields, receiver.uploads
            response: Response = await run_in_threadpool(self._guarded, label, self._run, admitted, pairs, uploads)
            return response
        finally:
            await run_in_threadpool(receiver.discard)

    async def _arguments(self, request: Request) -> list[tuple[str, str]]:
        """Query string and form body together, as cPanel parses them; `file-*` keys from the URL are dropped."""
        pairs = _query_pairs(request)
        if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
            body = await read_limited(request, self._container.settings.max_request_bytes)
            pairs += _parse_arguments(body, "form body", MAX_FIELDS - len(pairs))
        return pairs

    def dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        label = f"{module}::{function}"
        response: Response = self._guarded(label, self._dispatch, module, function, authorization, pairs, ip)
        return response

    def _guarded(self, label: str, step: Any, *args: Any) -> Any:
        """Run a step of a request: an unreachable database or Redis is a 503 to retry, anything else unexpected
        is logged and answered as cPanel's internal error."""
        try:
            return step(*args)
        except (OperationalError, Unavailable):
            log.warning("UAPI %s: the database or Redis is unreachable", scrub(label))
            return JSONResponse(
                envelope.failure(DATABASE_DOWN), status_code=503, headers={**NO_STORE, "Retry-After": "5"}
            )
        except Exception:
            log.exception("UAPI %s failed", scrub(label))
            return _json(envelope.failure("The system encountered an internal error."), status=500)

    def _dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        admitted = self._admit(module, function, authorization, ip)
        if isinstance(admitted, Response):
            return admitted
        return self._run(admitted, pairs, None)

    def _admit(self, module: str, function: str, authorization: str | None, ip: str | None) -> Admitted | Response:
        """Lockout, authentication, rate limit, lookup, authorisation: who calls what, or the answer refusing it."""
        guard = self._container.login_guard
        credentials = parse_authorization(authorization)
        refusal = guard.check(ip, credentials[0] if credentials else None, LoginKind.TOKEN)
        if refusal is not None:
            return _too_many(refusal.message, refusal.retry_after)
        try:
            principal = self._authenticate(credentials, ip)
        except AuthenticationFailed as failure:
            task = None
            # Presented credentials count towards a block and are recorded. A bare request (a browser, a probe) does
            # neither: never blocked, recording it would let anyone grow the append-only trail without bound.
            if authorization:
                guard.record_failure(ip, failure.username, LoginKind.TOKEN)
                task = BackgroundTask(self._record_failure, failure, ip, f"{module}::{function}")
            return JSONResponse(envelope.ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS, background=task)
        self._container.usage.note(principal)
        limit = self._rate_limit(principal)
        if limit is not None and not limit.allowed:
            return _too_many("This API token has exceeded its request rate limit.", limit.reset, limit.headers())
        try:
            target = self._registry.find(module, function)
        except UnknownFunction as error:
            return _with_limit(_json(envelope.failure(str(error))), limit)
        try:
            _authorise(principal, target)
        except PermissionDenied as denied:
            self._record_denial(principal, target, denied)
            return _with_limit(_json(envelope.from_error(denied)), limit)
        return Admitted(principal, target, limit)

    def _admit_from_memory(
        self, module: str, function: str, authorization: str | None, ip: str | None
    ) -> Admitted | None:
        """The common case without a thread hop or any I/O: a token verified recently (still current in the cache),
        no block known for the address, a per-process rate count, a function it may call. Anything else (a cache
        miss, a refusal to answer, a denial to record, counters in Redis) returns None: the full path in a worker
        thread then decides, and records what must be recorded. Runs on the event loop, so it must never wait."""
        credentials = parse_authorization(authorization)
        if credentials is None:
            return None
        user, token = credentials
        container = self._container
        try:
            container.login_guard.clear_in_memory(ip, user, LoginKind.TOKEN)
            principal = container.authenticator.authenticate(self._from_memory, user, token, ip)
            target = self._registry.find(module, function)
            _authorise(principal, target)
            limit = self._rate_limit(principal, in_memory_only=True)
        except (WouldBlock, AuthenticationFailed, UnknownFunction, PermissionDenied):
            return None
        if limit is not None and not limit.allowed:
            return None  # counted again on the full path, which answers the 429; only ever past the limit
        container.usage.note(principal)
        return Admitted(principal, target, limit)

    def _rate_limit(self, principal: Principal, in_memory_only: bool = False) -> RateDecision | None:
        token = principal.token
        if token is None:
            return None
        limit = token.rate_limit if token.rate_limit is not None else self._container.settings.token_rate_limit
        return self._container.rate_limiter.hit(f"token:{token.id}", limit, in_memory_only)

    def _authenticate(self, credentials: tuple[str, str] | None, ip: str | None) -> Principal:
        if credentials is None:
            raise AuthenticationFailed("missing or malformed Authorization header")
        user, token = credentials
        return self._container.authenticator.authenticate(self._container.token_cache, user, token, ip)

    def _run(self, admitted: Admitted, pairs: list[tuple[str, str]], uploads: list[Upload] | None) -> Response:
        try:
            args = Args(pairs)
        except InvalidInput as error:
            return _with_limit(_json(envelope.from_error(error)), admitted.limit)
        return _with_limit(self._call(admitted.principal, admitted.target, args, uploads), admitted.limit)

    def _call(
        self, principal: Principal, target: UapiFunction, args: Args, uploads: list[Upload] | None = None
    ) -> Response:
        options = ListOptions.from_meta(args.meta)
        try:
            if target.uses_database:
                with self._container.uow(write=target.writes) as uow:
                    call = Call(principal, args, options, uow, self._container, uploads=uploads or [])
                    data = target.handler(call)
                    uow.commit()
            else:
                call = Call(principal, args, options, NoDatabase(), self._container, uploads=uploads or [])
                data = target.handler(call)
        except PermissionDenied as denied:  # a restriction enforced inside the module (paths, mail domains)
            self._record_denial(principal, target, denied)
            return _json(envelope.from_error(denied))
        except HostpanelError as error:
            return _json(envelope.from_error(error))
        if isinstance(data, Download):
            return file_response(data)
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
                audit = AuditLog(uow.audit, self._container.clock)
                audit.record(
                    AuditAction.ACCOUNT_AUTH_FAILURE,
                    actor="token",
                    account_id=account.id if account else None,
                    username=failure.username,
                    ip=ip,
                    target=target,
                    outcome=Outcome.FAILURE,
                    details=_failure_details(failure),
                )
                if (misused := failure.misused) is not None:
                    audit.record(
                        AuditAction.ACCOUNT_AUTH_FAILURE,
                        actor=f"token:{misused.token_name}",
                        account_id=misused.account_id,
                        username=misused.username,
                        ip=ip,
                        target=target,
                        outcome=Outcome.FAILURE,
                        details={
                            "reason": "the token was presented under another username",
                            "presented_username": failure.username,
                        },
                    )
                uow.commit()
        except Exception:
            log.exception("could not record an authentication failure")


def _authorise(principal: Principal, target: UapiFunction) -> None:
    """The one rule, on both admission paths: raises PermissionDenied unless the caller may call the function."""
    check_access(
        principal.permissions, principal.account.disabled_features, target.scope, target.feature, principal.restrictions
    )


def _json(body: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=NO_STORE)


def _with_limit(response: Response, limit: RateDecision | None) -> Response:
    if limit is not None:
        response.headers.update(limit.headers())
    return response


def _too_many(message: str, retry_after: int, headers: dict[str, str] | None = None) -> JSONResponse:
    extra = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse(envelope.failure(message), status_code=429, headers={**NO_STORE, **extra})


def _too_large(limit: int) -> JSONResponse:
    body = envelope.failure(f"The request is larger than the limit of {limit} bytes.")
    # Close the connection: else the server goes on reading (and discarding) whatever the client still sends.
    return JSONResponse(body, status_code=413, headers={**NO_STORE, "Connection": "close"})


def _failure_details(failure: AuthenticationFailed) -> dict[str, DetailValue]:
    details: dict[str, DetailValue] = {"reason": failure.reason}
    if failure.restriction:
        details["restriction"] = failure.restriction
    return details


def _query_pairs(request: Request) -> list[tuple[str, str]]:
    """The query string's arguments; `file-*` keys are dropped, as cPanel does (they name uploads)."""
    query = _parse_arguments(request.scope.get("query_string", b""), "query string")
    return [(key, value) for key, value in query if not key.startswith("file-")]


def _parse_arguments(raw: bytes, where: str, max_fields: int = MAX_FIELDS) -> list[tuple[str, str]]:
    """URL-encoded pairs, refusing invalid UTF-8 and floods of fields with a message instead of guessing."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=max_fields)
    except UnicodeError:
        raise BadArguments(f"The {where} is not valid UTF-8 URL-encoded text.") from None
    except ValueError:
        raise BadArguments(f"The request has more than {MAX_FIELDS} arguments.") from None


def file_response(download: Download) -> StreamingResponse:
    """Raw bytes instead of the result object: the one UAPI answer that is not JSON (and the pages' downloads)."""
    name = quote(download.name, safe="")
    headers = {
        **NO_STORE,
        "Content-Length": str(download.size),
        "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
    }
    return _FileStream(download, media_type="application/octet-stream", headers=headers)


class _FileStream(StreamingResponse):
    """Streams an open file and closes it however the response ends. A client gone before the first byte means the
    body iterator never starts, so its own cleanup never runs: the response, not the iterator, owns the file."""

    def __init__(self, download: Download, *, media_type: str, headers: dict[str, str]) -> None:
        self._fd = download.fd
        super().__init__(_chunks(download.fd, download.size), media_type=media_type, headers=headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            os.close(self._fd)


def _chunks(fd: int, size: int) -> Iterator[bytes]:
    """At most the `size` announced in Content-Length, even if the file grows meanwhile (`fd` stays open)."""
    while size > 0 and (chunk := os.read(fd, min(size, 1 << 16))):
        size -= len(chunk)
        yield chunk


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
