"""Checking a presented `USER:TOKEN` pair. Every failure looks the same to the caller and costs the same.

The lookup goes by the token's public key, never by the username, so an unknown user and a wrong token do the same
work: one indexed lookup and one HMAC. The precise reason travels in the exception for the audit trail only. The
token's IP allowlist is checked here, last, so a refused address is indistinguishable from any other failure.
"""

from __future__ import annotations

import hmac
from typing import Protocol

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import AuthenticationFailed, MisusedToken
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.restrictions import IpAllowlist


class TokenFinder(Protocol):
    """Where tokens are looked up: the repository, or the cache in front of it (`cache.TokenCache`)."""

    def find_by_key(self, key: str) -> tuple[ApiToken, Account] | None: ...


class TokenAuthenticator:
    """Turns a presented `USER:TOKEN` pair into a principal, or refuses it the same way whatever was wrong. Each
    interface has its own: a cPanel token is unknown to WHM's, a WHM token to the account API's."""

    def __init__(self, keyring: Keyring, clock: Clock, service: Service = Service.CPANEL) -> None:
        self._keyring = keyring
        self._clock = clock
        self._service = service
        self._peppers = keyring.peppers
        self._dummy_token = secret.generate()
        self._dummy_digest = secret.digest(keyring.current, self._dummy_token)

    def authenticate(self, tokens: TokenFinder, username: str, presented: str, ip: str | None) -> Principal:
        parsed = secret.shape(presented)
        found = tokens.find_by_key(parsed.key) if parsed is not None else None
        if parsed is None or found is None:
            # Spend what a real check spends, so "no such token" is not faster than "wrong secret".
            secret.matches(self._keyring.current, self._dummy_token, self._dummy_digest)
            raise AuthenticationFailed(_unknown(presented, parsed), username)
        token, account = found
        pepper = self._peppers.get(token.pepper_id)  # the keyring's `verifies`, inline: this runs on every request
        secret_ok = pepper is not None and hmac.compare_digest(secret.digest(pepper, parsed.text), token.digest)
        if not secret_ok and not secret.checksum_ok(parsed.text):
            raise AuthenticationFailed("malformed token", username)  # a wrong checksum: never a stored token
        # Usernames are ASCII (cPanel's rules); a non-ASCII name cannot match, and str comparison skips encoding.
        user_ok = username.isascii() and hmac.compare_digest(account.username, username)
        if not user_ok:
            # The named user's trail must not learn that another account's token (or key) exists: for it this is
            # an unknown token. The owner hears of a real token of theirs used under another name.
            misused = MisusedToken(account.id, account.username, token.name) if secret_ok else None
            raise AuthenticationFailed("unknown token", username, misused=misused)
        if not secret_ok:
            raise AuthenticationFailed("wrong secret", username)
        if token.service != self._service or not account.may_use(self._service):
            raise AuthenticationFailed(f"a {token.service} token presented to {self._service}", username)
        if not account.is_active:
            raise AuthenticationFailed("account suspended", username)
        if token.is_expired(self._clock.now()):
            raise AuthenticationFailed(f"token “{token.name}” expired", username)
        if not token.restrictions.allows_address(ip):
            # cPanel answers a refused address as "no such token"; only the audit trail learns why.
            raise AuthenticationFailed(
                f"source address {ip} is not in the whitelist_ips of token “{token.name}”",
                username,
                restriction=IpAllowlist.key,
            )
        return Principal(account, AuthMethod.TOKEN, token, ip, self._service)


def _unknown(presented: str, parsed: secret.ParsedToken | None) -> str:
    """Why a token that found nothing was refused (for the audit trail only). The checksum is checked on every
    refusal, the same work whichever it is."""
    return "unknown token" if parsed is not None and secret.checksum_ok(presented) else "malformed token"
