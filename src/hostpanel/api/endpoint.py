"""Serving one API dialect over HTTP: read the request, ask the gate, answer in the dialect's envelope.

The flow is the same for every dialect; what differs is written by the dialect (`api.dialect.Dialect`): where the
function's name is, which arguments are meta-arguments, how credentials are sent, and the envelope. The gate
(`functions.gate`) does all admission, authorisation and audit.

A call admitted from memory to a function that needs no database (or, where reads never wait, only reads a few
rows) is answered on the event loop; any other admitted call runs in a worker thread, and so does everything that may
need I/O to decide. A multipart body (an upload) is read only after the call was admitted, so nobody without the
right can make the server store a byte.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import OperationalError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from hostpanel.api.dialect import Dialect
from hostpanel.domain.audit.service import scrub
from hostpanel.domain.errors import HostpanelError, InvalidInput, Unavailable
from hostpanel.domain.files.service import Download, Upload
from hostpanel.domain.files.staging import Staging
from hostpanel.domain.principal import Principal
from hostpanel.functions.args import Args
from hostpanel.functions.gate import (
    Admitted,
    Blocked,
    Gate,
    Presented,
    RateLimited,
    Refusal,
    Refused,
    Target,
    Unauthenticated,
)
from hostpanel.http import body
from hostpanel.http.address import client_address
from hostpanel.http.files import NO_STORE, file_response
from hostpanel.http.uploads import MultipartReceiver, UploadTooLarge, receive
from hostpanel.services import Limits

log = logging.getLogger(__name__)

DATABASE_DOWN = "The system is temporarily unable to reach its database or its counters. Try again shortly."
INTERNAL_ERROR = "The system encountered an internal error."
P = ParamSpec("P")
T = TypeVar("T")


class Endpoint:
    """The HTTP endpoint of one dialect; `handle` is its Starlette route endpoint."""

    def __init__(self, dialect: Dialect, gate: Gate, limits: Limits, staging: Staging) -> None:
        self._dialect = dialect
        self._gate = gate
        self._limits = limits
        self._staging = staging

    async def handle(self, request: Request) -> Response:  # noqa: PLR0911 - each early answer is one line
        if request.method == "HEAD":  # Starlette adds HEAD to GET routes; a HEAD must never run a function
            return Response(status_code=405, headers={"Allow": "GET, POST"})
        ip = client_address(request.scope)
        credentials = self._dialect.credentials(request)
        if request.method == "POST" and body.has_type(request, body.MULTIPART_TYPE):
            return await self._multipart(request, credentials, ip)
        pairs = await self._arguments(request)
        if isinstance(pairs, Response):
            return pairs
        dialect = self._dialect.bind(request, pairs)
        target = dialect.target(request, pairs)
        admitted = self._gate.admit_from_memory(target, credentials, ip)
        if isinstance(admitted, RateLimited):  # refused in memory too: nothing to record
            return self._refusal(dialect, admitted)
        if admitted is None:
            step = self._admit_and_call
            return await run_in_threadpool(
                self._guarded, dialect, target, step, dialect, target, credentials, pairs, ip
            )
        if self._gate.runs_inline(admitted.function):
            return self._guarded(dialect, target, self._call, dialect, admitted, pairs, None)
        return await run_in_threadpool(self._guarded, dialect, target, self._call, dialect, admitted, pairs, None)

    async def _arguments(self, request: Request) -> list[tuple[str, str]] | Response:
        """The query's and the form body's arguments, or the answer refusing them."""
        try:
            return await body.arguments(request, self._limits.max_request_bytes)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it; not an error of ours to log
        except body.RequestTooLarge:
            return self._too_large(self._dialect, self._limits.max_request_bytes)
        except body.BadArguments as error:
            return _no_store(self._dialect.failure(str(error), status=400))

    def dispatch(
        self, target: Target, credentials: Presented | None, pairs: list[tuple[str, str]], ip: str | None
    ) -> Response:
        """The full path, synchronously (benchmarks and tests call it directly)."""
        dialect = self._dialect
        return self._guarded(dialect, target, self._admit_and_call, dialect, target, credentials, pairs, ip)

    def call_as(self, principal: Principal, function: str, pairs: list[tuple[str, str]], module: str = "") -> Response:
        """A call made on the server itself (the CLI) as `principal`, who presents no credentials: the same lookup,
        authorisation, transaction and answer as over HTTP."""
        dialect = self._dialect.bind_local(function, pairs)
        target = dialect.local_target(module, function)
        decided = self._gate.admit_local(target, principal)
        if not isinstance(decided, Admitted):
            return self._refusal(dialect, decided)
        return self._guarded(dialect, target, self._call, dialect, decided, pairs, None)

    async def _multipart(self, request: Request, credentials: Presented | None, ip: str | None) -> Response:
        """Admit first, then stream the body: fields to memory, files to the account's staging area."""
        query = body.query_pairs(request)
        dialect = self._dialect.bind(request, query)
        target = dialect.target(request, query)
        admitted = await run_in_threadpool(
            self._guarded, dialect, target, self._admit, dialect, target, credentials, ip
        )
        if isinstance(admitted, Response):
            return admitted
        limits = self._limits
        if body.declared_too_large(request, limits.max_upload_bytes):
            return self._too_large(dialect, limits.max_upload_bytes)
        try:
            receiver = MultipartReceiver(
                self._staging,
                admitted.principal.account.username,
                request.headers["content-type"],
                max_bytes=limits.max_upload_bytes,
                max_field_bytes=limits.max_request_bytes,
                accept_files=admitted.function.accepts_uploads,
            )
        except HostpanelError as error:
            return _no_store(dialect.error(error))
        try:
            refused = await self._receive(dialect, receiver, request)
            if refused is not None:
                return refused
            pairs, uploads = query + receiver.fields, receiver.uploads
            return await run_in_threadpool(
                self._guarded, dialect, target, self._call, dialect, admitted, pairs, uploads
            )
        finally:
            await run_in_threadpool(receiver.discard)

    async def _receive(self, dialect: Dialect, receiver: MultipartReceiver, request: Request) -> Response | None:
        """Stream the body into `receiver`; the answer refusing it, or None once it is all received."""
        try:
            await receive(receiver, request)
        except UploadTooLarge:
            return self._too_large(dialect, self._limits.max_upload_bytes)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to read it; not an error of ours to log
        except HostpanelError as error:
            return _no_store(dialect.error(error))
        return None

    @staticmethod
    def _guarded(
        dialect: Dialect, target: Target, step: Callable[P, T], *args: P.args, **kwargs: P.kwargs
    ) -> T | Response:
        """Run a step of a request: an unreachable database or Redis is a 503 to retry, anything else unexpected
        is logged and answered as cPanel's internal error."""
        try:
            return step(*args, **kwargs)
        except (OperationalError, Unavailable):
            log.warning("API %s: the database or Redis is unreachable", scrub(target.label))
            response = dialect.failure(DATABASE_DOWN, status=503)
            response.headers.update({**NO_STORE, "Retry-After": "5"})
            return response
        except Exception:
            log.exception("API %s failed", scrub(target.label))
            return _no_store(dialect.failure(INTERNAL_ERROR, status=500))

    def _admit_and_call(
        self,
        dialect: Dialect,
        target: Target,
        credentials: Presented | None,
        pairs: list[tuple[str, str]],
        ip: str | None,
    ) -> Response:
        admitted = self._admit(dialect, target, credentials, ip)
        if isinstance(admitted, Response):
            return admitted
        return self._call(dialect, admitted, pairs, None)

    def _admit(
        self, dialect: Dialect, target: Target, credentials: Presented | None, ip: str | None
    ) -> Admitted | Response:
        decided = self._gate.admit(target, credentials, ip)
        if isinstance(decided, Admitted):
            return decided
        return self._refusal(dialect, decided)

    @staticmethod
    def _refusal(dialect: Dialect, refusal: Refusal) -> Response:
        if isinstance(refusal, Unauthenticated):
            response = dialect.unauthenticated()
            if refusal.record is not None:
                response.background = BackgroundTask(refusal.record)
            return _no_store(response)
        if isinstance(refusal, Blocked):
            return _too_many(dialect.failure(refusal.message, status=429), refusal.retry_after)
        if isinstance(refusal, RateLimited):
            return _too_many(dialect.failure(refusal.message, status=429), refusal.limit.reset, refusal.limit.headers())
        assert isinstance(refusal, Refused)
        answer = dialect.error(refusal.error) if refusal.error is not None else dialect.failure(refusal.message)
        return _with_limit(_no_store(answer), refusal)

    def _call(
        self, dialect: Dialect, admitted: Admitted, pairs: list[tuple[str, str]], uploads: list[Upload] | None
    ) -> Response:
        try:
            args = Args(pairs, dialect.meta_prefixes)
        except InvalidInput as error:
            return _with_limit(_no_store(dialect.error(error)), admitted)
        options = dialect.list_options(args.meta)
        answer = self._gate.call(admitted, args, options, uploads)
        if answer.error is not None:
            return _with_limit(_no_store(dialect.error(answer.error)), admitted)
        if isinstance(answer.data, Download):
            return _with_limit(file_response(answer.data), admitted)
        return _with_limit(_no_store(dialect.success(answer, options)), admitted)

    @staticmethod
    def _too_large(dialect: Dialect, limit: int) -> Response:
        response = dialect.failure(f"The request is larger than the limit of {limit} bytes.", status=413)
        # Close the connection: else the server goes on reading (and discarding) whatever the client still sends.
        response.headers.update({**NO_STORE, "Connection": "close"})
        return response


def _no_store(response: Response) -> Response:
    response.headers.update(NO_STORE)
    return response


def _with_limit(response: Response, decided: Admitted | Refused) -> Response:
    if decided.limit is not None:
        response.headers.update(decided.limit.headers())
    return response


def _too_many(response: Response, retry_after: int, headers: dict[str, str] | None = None) -> Response:
    response.headers.update({**NO_STORE, **(headers or {}), "Retry-After": str(retry_after)})
    return response
