"""Responding to leaked tokens: find them in text, tell live ones from dead ones, revoke them and tell the owner.

A string in our format with a valid checksum is only a candidate: it is live when its key names a stored token and
its secret matches that token's digest. A rotated-out secret still in its grace period is live too: its grace ends at
once (the token's current secret keeps working) and the owner is told. Nothing here ever returns or records the
secret itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock, SystemClock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.security.notices import (
    Notice,
    Notifier,
    deliver,
    leaked_old_secret_refused,
    leaked_token_revoked,
)
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import ApiToken


@dataclass(frozen=True)
class Sighting:
    """Where a well-formed token was seen (`line` counts from 1) and, if it is live, whose it is."""

    line: int
    key: str
    token: ApiToken | None = None
    account: Account | None = None
    old_secret: bool = False  # the token's previous secret, in its grace period

    @property
    def live(self) -> bool:
        return self.token is not None

    @property
    def masked(self) -> str:
        """How the token is shown: its public key only."""
        return f"{secret.PREFIX}{self.key}_…"


def by_account(sightings: list[Sighting]) -> list[Sighting]:
    """The live sightings in account order: one transaction then locks accounts' audit chains in the same order as
    every other writer, so two of them never wait on each other."""
    return sorted((s for s in sightings if s.account is not None), key=lambda s: s.account.id if s.account else 0)


def candidates(text: str) -> Iterator[tuple[int, secret.ParsedToken]]:
    """(line number, token) for every well-formed token with a valid checksum in `text`."""
    for number, line in enumerate(text.splitlines(), start=1):
        for parsed in secret.find_all(line):
            yield number, parsed


class LeakResponse:
    """Finds live tokens in leaked text, revokes them and tells their owners."""

    def __init__(
        self, uow: UnitOfWork, keyring: Keyring, audit: AuditLog, notifier: Notifier, clock: Clock | None = None
    ) -> None:
        self._clock = clock or SystemClock()
        self._uow = uow
        self._keyring = keyring
        self._audit = audit
        self._notifier = notifier

    def scan(self, text: str) -> list[Sighting]:
        sightings = []
        for line, parsed in candidates(text):
            found = self._live(parsed)
            token, account, old = found if found else (None, None, False)
            sightings.append(Sighting(line, parsed.key, token, account, old))
        return sightings

    def revoke(self, sighting: Sighting, source: str, actor: str, ip: str | None = None) -> bool:
        """Revoke a live sighting, record it on the owner's activity log, and mail the owner once committed."""
        token, account = sighting.token, sighting.account
        if token is not None and account is not None and sighting.old_secret:
            return self._end_grace(token, account, source, actor, ip)
        if token is None or account is None or not self._uow.tokens.delete(token.id):
            return False
        notice = leaked_token_revoked(account, token.name, source)
        self._record(
            AuditAction.ACCOUNT_TOKEN_REVOKE_LEAK,
            notice,
            token=token,
            account=account,
            source=source,
            actor=actor,
            ip=ip,
        )
        return True

    def revoke_all_in(self, text: str, source: str, actor: str, ip: str | None = None) -> int:
        """Revoke every live token in `text`; how many were revoked (for the audit trail, never for a reporter)."""
        return sum(1 for sighting in by_account(self.scan(text)) if self.revoke(sighting, source, actor, ip))

    def _deliver(self, account: Account, notice: Notice) -> None:
        deliver(self._notifier, account, notice)

    def _end_grace(self, token: ApiToken, account: Account, source: str, actor: str, ip: str | None) -> bool:
        if not self._uow.tokens.end_grace(token.id):
            return False
        notice = leaked_old_secret_refused(account, token.name, source)
        self._record(
            AuditAction.ACCOUNT_TOKEN_GRACE_END_LEAK,
            notice,
            token=token,
            account=account,
            source=source,
            actor=actor,
            ip=ip,
        )
        return True

    def _record(
        self,
        action: AuditAction,
        notice: Notice,
        *,
        token: ApiToken,
        account: Account,
        source: str,
        actor: str,
        ip: str | None,
    ) -> None:
        """What a leak response did, on the owner's activity log, and the owner's notice once it is committed."""
        self._audit.record(
            action,
            actor=actor,
            account_id=account.id,
            username=account.username,
            ip=ip,
            target=token.name,
            details={"source": source},
        )
        self._uow.on_commit(lambda: self._deliver(account, notice))

    def _live(self, parsed: secret.ParsedToken) -> tuple[ApiToken, Account, bool] | None:
        """The token this text is a secret of, its account, and whether it is the previous secret."""
        found = self._uow.tokens.find_by_key(parsed.key)
        if found is None:
            return None
        token, account = found
        if self._keyring.verifies(parsed.text, token.pepper_id, token.digest):
            return token, account, False
        previous = token.previous_valid(self._clock.now())
        if previous is not None and self._keyring.verifies(parsed.text, previous.pepper_id, previous.digest):
            return token, account, True
        return None
