"""The `Authorization: cpanel USER:TOKEN` header (and HTTP Basic, which WHM reads), and where token authentication
may be used."""

from __future__ import annotations

import base64
import binascii
import re

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

# cPanel's schemes; `whm` is accepted on the account API too, since some clients send it there.
TOKEN_SCHEMES = ("cpanel", "whm")
API_PATH = re.compile(r"(?:/cpsess[0-9]+)?(?:/execute/|/json-api/cpanel$)")  # UAPI and cPanel API 2
TOKEN_ONLY_API = "Token authentication allows access to UAPI or API 2 calls only."


def parse_authorization(header: str | None) -> tuple[str, str] | None:
    """(user, token) from `cpanel USER:TOKEN`, scheme case-insensitive, split on the first colon; else None."""
    if not header:
        return None
    scheme, _, credentials = header.strip().partition(" ")
    if scheme.lower() not in TOKEN_SCHEMES:
        return None
    user, colon, token = credentials.strip().partition(":")
    if not colon or not user or not token:
        return None
    return user, token


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """(user, password) from `Basic base64(USER:PASSWORD)`, scheme case-insensitive; else None."""
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(encoded) > 4096:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, colon, password = decoded.partition(":")
    if not colon or not user or not password:
        return None
    return user, password


def _uses_token_scheme(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            return value.strip().split(b" ", 1)[0].lower().decode("latin-1") in TOKEN_SCHEMES
    return False


class TokenPathGuard:
    """As cPanel does, refuse token authentication anywhere but the APIs (UAPI, API 2), with its 403 and message."""

    def __init__(self, app: ASGIApp, api_path: re.Pattern[str] = API_PATH) -> None:
        self.app = app
        self._api_path = api_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not self._api_path.match(scope["path"]) and _uses_token_scheme(scope):
            await PlainTextResponse(TOKEN_ONLY_API, status_code=403)(scope, receive, send)
            return
        await self.app(scope, receive, send)
