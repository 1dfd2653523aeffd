"""Response hardening and an access log that never records query strings (they may carry passwords).

The path is the caller's text too: it is logged as the audit trail records such text (tokens redacted, control
characters escaped so a %0A cannot forge a log line, length bounded).
"""

from __future__ import annotations

import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hostpanel.domain.audit.service import scrub
from hostpanel.http.address import client_address

access_log = logging.getLogger("hostpanel.access")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
}


class SecurityHeaders:
    """Adds the hardening headers to every response and writes one access-log line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            access_log.info(
                "%s %s %s %d %.1fms",
                client_address(scope) or "-",
                scope["method"],
                scrub(scope["path"]),
                status,
                (time.perf_counter() - started) * 1000,
            )
