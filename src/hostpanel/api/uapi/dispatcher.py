"""`/execute/<Module>/<function>`: authenticate, authorise, call, and answer with cPanel's bare result object.

Order matters: authentication comes first (an unknown module gets 401 without credentials, as cPanel answers),
then the function lookup, then the one authorisation check, then the call inside one transaction.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import parse_qsl

from sqlalchemy.exc import OperationalError
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
from hostpanel.domain.errors import AuthenticationFailed, HostpanelError, InvalidInput, PermissionDenied, Unavailable
from hostpanel.domain.permissions import check_access
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.domain.security.ratelimit import RateDecision

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
        except BadArguments as error:
            return _json(envelope.failure(str(error)), status=400)
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
        query = _parse_arguments(request.scope.get("query_string", b""), "query string")
        pairs = [(k, v) for k, v in query if not k.startswith("file-")]
        if request.method == "POST" and request.headers.get("content-type", "").startswith(FORM_TYPE):
            body = await read_limited(request, self._container.settings.max_request_bytes)
            pairs += _parse_arguments(body, "form body", MAX_FIELDS - len(pairs))
        return pairs

    def dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        try:
            return self._dispatch(module, function, authorization, pairs, ip)
        except (OperationalError, Unavailable):
            log.warning("UAPI %s::%s: the database or Redis is unreachable", module, function[:100])
            return JSONResponse(
                envelope.failure(DATABASE_DOWN), status_code=503, headers={**NO_STORE, "Retry-After": "5"}
            )
        except Exception:
            log.exception("UAPI %s::%s failed", scrub(module), scrub(function))
            return _json(envelope.failure("The system encountered an internal error."), status=500)

    def _dispatch(
        self, module: str, function: str, authorization: str | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        guard = self._container.login_guard
        credentials = parse_authorization(authorization)
        refusal = guard.check(ip, credentials[0] if credentials else None, LoginKind.TOKEN)
        if refusal is not None:
            return _too_many(refusal.message, refusal.retry_after)
        try:
            principal = self._authenticate(credentials, ip)
        except AuthenticationFailed as failure:
            if authorization:  # presented credentials count towards a block; a bare request does not
                guard.record_failure(ip, failure.username, LoginKind.TOKEN)
            task = BackgroundTask(self._record_failure, failure, ip, f"{module}::{function}")
            return JSONResponse(envelope.ACCESS_DENIED, status_code=401, headers=UNAUTHORIZED_HEADERS, background=task)
        limit = self._rate_limit(principal)
        if limit is not None and not limit.allowed:
            return _too_many("This API token has exceeded its request rate limit.", limit.reset, limit.headers())
        response = self._authorised(principal, module, function, pairs)
        if limit is not None:
            response.headers.update(limit.headers())
        return response

    def _rate_limit(self, principal: Principal) -> RateDecision | None:
        token = principal.token
        if token is None:
            return None
        limit = token.rate_limit if token.rate_limit is not None else self._container.settings.token_rate_limit
        return self._container.rate_limiter.hit(f"token:{token.id}", limit)

    def _authorised(self, principal: Principal, module: str, function: str, pairs: list[tuple[str, str]]) -> Response:
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

    def _authenticate(self, credentials: tuple[str, str] | None, ip: str | None) -> Principal:
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


def _too_many(message: str, retry_after: int, headers: dict[str, str] | None = None) -> JSONResponse:
    extra = {**(headers or {}), "Retry-After": str(retry_after)}
    return JSONResponse(envelope.failure(message), status_code=429, headers={**NO_STORE, **extra})


def _parse_arguments(raw: bytes, where: str, max_fields: int = MAX_FIELDS) -> list[tuple[str, str]]:
    """URL-encoded pairs, refusing invalid UTF-8 and floods of fields with a message instead of guessing."""
    try:
        text = raw.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict", max_num_fields=max_fields)
    except UnicodeError:
        raise BadArguments(f"The {where} is not valid UTF-8 URL-encoded text.") from None
    except ValueError:
        raise BadArguments(f"The request has more than {MAX_FIELDS} arguments.") from None


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
