"""Checking a presented `USER:TOKEN` pair. Every failure looks the same to the caller and costs the same.

The lookup goes by the token's public key, never by the username, so an unknown user and a wrong token do the same
work: one indexed lookup and one HMAC. The precise reason travels in the exception for the audit trail only. The
token's IP allowlist is checked here, last, so a refused address is indistinguishable from any other failure. A
token is recognised by its shape; its checksum is checked only to name a refusal (a token whose digest matches has a
valid checksum anyway). Behind the token cache the lookup is in memory, and a key no token has is refused there.

A cPanel-format token (32 characters, imported from a cPanel server) is looked up by a keyed value of its SHA-512
digest instead, and verified against the keyed digest of that digest: one SHA-512 more, then the same work. A rotated
token is accepted with its previous secret until the grace period ends; the previous slot is compared on every check
(against a dummy when there is none), so a rotating token costs what any other does.
"""

from __future__ import annotations

import hmac
from typing import NamedTuple, Protocol

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import AuthenticationFailed, MisusedToken
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import ApiToken, PreviousSecret
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
        self._newest_first = [keyring.peppers[n] for n in sorted(keyring.peppers, reverse=True)]
        self._dummy_token = secret.generate()
        self._dummy_digest = secret.digest(keyring.current, self._dummy_token)

    def authenticate(self, tokens: TokenFinder, username: str, presented: str, ip: str | None) -> Principal:
        located = self._locate(tokens, presented)
        found = located.found if located is not None else None
        if located is None or found is None:
            # Spend what a real check spends, so "no such token" is not faster than "wrong secret".
            secret.matches(self._keyring.current, self._dummy_token, self._dummy_digest)
            hmac.compare_digest(self._dummy_digest, self._dummy_digest)
            raise AuthenticationFailed(_unknown(presented, located), username)
        text = located.text
        token, account = found
        now = self._clock.now()
        current_ok, old_ok, old_over = self._verify(text, token, now)
        secret_ok = current_ok or old_ok
        if not secret_ok and not located.legacy and not secret.checksum_ok(text):
            raise AuthenticationFailed("malformed token", username)  # a wrong checksum: never a stored token
        # Usernames are ASCII (cPanel's rules); a non-ASCII name cannot match, and str comparison skips encoding.
        user_ok = username.isascii() and hmac.compare_digest(account.username, username)
        if not user_ok:
            # The named user's trail must not learn that another account's token (or key) exists: for it this is
            # an unknown token. The owner hears of a real token of theirs used under another name.
            misused = MisusedToken(account.id, account.username, token.name) if secret_ok else None
            raise AuthenticationFailed("unknown token", username, misused=misused)
        if not secret_ok:
            reason = f"a rotated-out secret of token “{token.name}” (grace period over)" if old_over else "wrong secret"
            raise AuthenticationFailed(reason, username)
        if token.service != self._service or not account.may_use(self._service):
            raise AuthenticationFailed(f"a {token.service} token presented to {self._service}", username)
        if not account.is_active:
            raise AuthenticationFailed("account suspended", username)
        if token.is_expired(now):
            raise AuthenticationFailed(f"token “{token.name}” expired", username)
        if not token.restrictions.allows_address(ip):
            # cPanel answers a refused address as "no such token"; only the audit trail learns why.
            raise AuthenticationFailed(
                f"source address {ip} is not in the whitelist_ips of token “{token.name}”",
                username,
                restriction=IpAllowlist.key,
            )
        return Principal(account, AuthMethod.TOKEN, token, ip, self._service, old_secret=not current_ok)

    def _locate(self, tokens: TokenFinder, presented: str) -> _Located | None:
        """The text the stored digests are of and the token found, for anything shaped like a token, else None. Our
        format is found by its public key (its checksum is checked only to name a refusal); a cPanel token by the
        keyed value of its SHA-512 digest under each pepper held, newest first (one lookup with one pepper, the
        usual case; behind the token cache, a key no token has is refused from memory whichever pepper made it)."""
        parsed = secret.shape(presented)
        if parsed is not None:
            return _Located(parsed.text, tokens.find_by_key(parsed.key), legacy=False)
        if not secret.is_legacy(presented):
            return None
        text = secret.legacy_digest(presented)
        for pepper in self._newest_first:
            found = tokens.find_by_key(secret.legacy_key(pepper, text))
            if found is not None:
                return _Located(text, found, legacy=True)
        return _Located(text, None, legacy=True)

    def _verify(self, text: str, token: ApiToken, now: float) -> tuple[bool, bool, bool]:
        """(the current secret matches, a previous secret in its grace period matches, a previous secret whose
        grace is over matches), in constant time; one keyed digest when both slots share a pepper."""
        presented, held = self._presented_digest(text, token.pepper_id)
        current_ok = hmac.compare_digest(presented, token.digest) and held
        previous: PreviousSecret | None = token.previous
        if previous is None:
            hmac.compare_digest(presented, self._dummy_digest)  # the same work as a rotating token's check
            return current_ok, False, False
        if previous.pepper_id != token.pepper_id:
            presented, held = self._presented_digest(text, previous.pepper_id)
        old_match = hmac.compare_digest(presented, previous.digest) and held
        in_grace = now < previous.valid_until
        return current_ok, old_match and in_grace, old_match and not in_grace

    def _presented_digest(self, text: str, pepper_id: int) -> tuple[bytes, bool]:
        """The keyed digest of what was presented, and whether its pepper is still held (a token made under a
        pepper no longer held verifies nothing, after the same work)."""
        pepper = self._peppers.get(pepper_id)
        return secret.digest(pepper if pepper is not None else self._keyring.current, text), pepper is not None


class _Located(NamedTuple):
    """What a presented token was looked up as: the text its stored digests are of (the token itself, or cPanel's
    SHA-512 digest of an imported one), the token and account found (None: no such key), and which format it has."""

    text: str
    found: tuple[ApiToken, Account] | None
    legacy: bool


def _unknown(presented: str, located: _Located | None) -> str:
    """Why a token that found nothing was refused (for the audit trail only). The checksum of our format is checked
    on every such refusal, the same work whichever it is; cPanel's format has none."""
    if located is None:
        return "malformed token"
    return "unknown token" if located.legacy or secret.checksum_ok(presented) else "malformed token"
