"""`POST /leaked-tokens`: anyone who finds a leaked token reports it here, without credentials.

The body is any text (a form field, JSON, a pasted file): every token in it is revoked if live and its owner is
mailed. The answer is the same whatever the body held, and the work happens after it is sent, so neither the
words nor the timing of the response tell a reporter whether a token was valid. Reports are rate-limited per address
(per /64 for IPv6).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from hostpanel.api.uapi import envelope
from hostpanel.domain.errors import Unavailable
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.security.lockout import address_subject
from hostpanel.domain.security.ratelimit import RateLimiter
from hostpanel.domain.tokens.leaks import LeakResponse
from hostpanel.http.address import client_address
from hostpanel.http.body import RequestTooLarge, read_limited
from hostpanel.http.files import NO_STORE

log = logging.getLogger(__name__)

PATH = "/leaked-tokens"
MAX_REPORT_BYTES = 65536
RECEIVED = envelope.result(
    1, messages=["Thank you. Any live API token in the report has been revoked and its owner notified."]
)


class LeakReports:
    """The report endpoint: counts reports per address, answers at once, revokes after answering."""

    def __init__(
        self,
        rate_limiter: RateLimiter,
        limit: int,
        begin: Callable[[], UnitOfWork],
        leaks: Callable[[UnitOfWork], LeakResponse],
    ) -> None:
        self._rate_limiter = rate_limiter
        self._limit = limit
        self._begin = begin
        self._leaks = leaks

    async def handle(self, request: Request) -> Response:
        ip = client_address(request.scope)
        key = f"leak-report:{address_subject(ip) if ip else '-'}"
        try:  # a worker thread: with Redis, counting is a network round trip the event loop must not wait for
            decision = await run_in_threadpool(self._rate_limiter.hit, key, self._limit)
        except Unavailable:
            body = envelope.failure("The system is temporarily unable to take reports. Try again shortly.")
            return JSONResponse(body, status_code=503, headers={**NO_STORE, "Retry-After": "5"})
        if decision is not None and not decision.allowed:
            body = envelope.failure("Too many reports from your address. Try again later.")
            return JSONResponse(body, status_code=429, headers={**NO_STORE, **decision.headers()})
        try:
            text = (await read_limited(request, MAX_REPORT_BYTES)).decode("utf-8", "replace")
        except RequestTooLarge:
            body = envelope.failure(f"A report may be at most {MAX_REPORT_BYTES} bytes.")
            return JSONResponse(body, status_code=413, headers={**NO_STORE, "Connection": "close"})
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is left to answer
        return JSONResponse(
            RECEIVED, status_code=202, headers=NO_STORE, background=BackgroundTask(self._revoke, text, ip)
        )

    def _revoke(self, text: str, ip: str | None) -> None:
        try:
            with self._begin() as uow:
                revoked = self._leaks(uow).revoke_all_in(text, "a public leak report", "public", ip)
                uow.commit()
            if revoked:
                log.info("a leak report from %s revoked %d token(s)", ip, revoked)
        except Exception:
            log.exception("a leak report could not be processed")
