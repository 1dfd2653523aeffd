"""What the browser carries: the signed session cookie, the pre-sign-in cookie, and CSRF tokens bound to them.

The session cookie is `<secret>.<signature>`: the signature (HMAC under a key derived from the server key file)
turns away forged cookies without a database lookup; the secret is then looked up by its keyed digest. CSRF tokens
are HMACs of the cookie's secret, so a page's token works only with the browser that received the page.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from hostpanel.keys import ServerKeys

SIGNATURE_BYTES = 16
PRE_SESSION_BYTES = 32


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class CookieNames:
    """The session and pre-sign-in cookie names: `__Host-` ones over HTTPS, plain ones otherwise."""

    session: str
    pre_session: str

    @classmethod
    def for_request(cls, request: Request, interface: str = "") -> CookieNames:
        """Cookies are shared by every port of a host, so WHM's (`interface="whm"`) have names of their own."""
        # `__Host-` cookies must be Secure, host-only and for the whole site: browsers enforce all three.
        suffix = f"-{interface}" if interface else ""
        if is_https(request):
            return cls(f"__Host-hostpanel{suffix}", f"__Host-hostpanel{suffix}-pre")
        return cls(f"hostpanel{suffix}", f"hostpanel{suffix}-pre")


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


class BrowserKeys:
    """Signs session cookies and makes CSRF tokens, with keys derived from the server key file."""

    def __init__(self, keys: ServerKeys) -> None:
        self._cookie_key = keys.derive("session-cookie")
        self._csrf_key = keys.derive("csrf")

    def _sign(self, secret: str) -> str:
        return _b64(hmac.new(self._cookie_key, secret.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES])

    def session_cookie_value(self, secret: str) -> str:
        return f"{secret}.{self._sign(secret)}"

    def session_secret(self, cookie: str | None) -> str | None:
        """The secret inside a well-signed cookie value, else None."""
        if not cookie or len(cookie) > 200:
            return None
        secret, dot, signature = cookie.rpartition(".")
        if not dot or not hmac.compare_digest(self._sign(secret).encode(), signature.encode("ascii", "replace")):
            return None
        return secret

    def csrf_token(self, binding: str) -> str:
        """`binding` is the session secret, or the pre-sign-in cookie's value for the sign-in form."""
        return _b64(hmac.new(self._csrf_key, binding.encode(), hashlib.sha256).digest())

    def csrf_ok(self, binding: str | None, presented: str | None) -> bool:
        if not binding or not presented:
            return False
        return hmac.compare_digest(self.csrf_token(binding).encode(), presented.encode("ascii", "replace"))


def new_pre_session() -> str:
    return secrets.token_urlsafe(PRE_SESSION_BYTES)


def same_origin(request: Request) -> bool:
    """A state-changing request must not say it came from another site. Browsers say so in Sec-Fetch-Site; with
    our no-referrer policy their Origin header is "null", so Origin counts only where it names a site. Neither
    header replaces the CSRF token: they are a second lock."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    parts = urlsplit(origin)
    return parts.scheme == request.url.scheme and parts.netloc == request.url.netloc


def set_cookie(response: Response, request: Request, name: str, value: str) -> None:
    response.set_cookie(name, value, path="/", secure=is_https(request), httponly=True, samesite="strict")


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", secure=is_https(request), httponly=True, samesite="strict")
