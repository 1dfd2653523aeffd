"""Recording audit events, with secrets scrubbed as a last line of defence."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditEvent, DetailValue
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.clock import Clock
from hostpanel.domain.ports import AuditRepository, UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.secret import REDACTED

__all__ = ["MAX_TEXT", "REDACTED", "AuditLog", "AuditWriter", "scrub"]

MAX_TEXT = 200


def scrub(value: str | None) -> str | None:
    """Remove anything shaped like a token, show unprintable characters escaped, and bound the length.

    Escaping keeps caller-supplied text storable (PostgreSQL refuses NUL) and inert where people read it: no
    terminal escape sequences, forged lines or reversed text in the activity log.
    """
    if value is None:
        return None
    text = secret.redact(value)
    if not text.isprintable():
        text = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
    return text[:MAX_TEXT]


def _scrub_detail(value: DetailValue) -> DetailValue:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [scrub(item) or "" for item in value]
    return value


class AuditLog:
    """Records events in the caller's unit of work: they commit, or roll back, with what they describe."""

    def __init__(self, repository: AuditRepository, clock: Clock) -> None:
        self._repository = repository
        self._clock = clock

    def record(
        self,
        action: AuditAction,
        *,
        actor: str,
        account_id: int | None = None,
        username: str | None = None,
        ip: str | None = None,
        target: str | None = None,
        outcome: Outcome = Outcome.SUCCESS,
        details: dict[str, DetailValue] | None = None,
        time: float | None = None,
    ) -> None:
        self._repository.add(
            AuditEvent(
                time=self._clock.now() if time is None else time,
                action=action,
                outcome=outcome,
                actor=scrub(actor) or "",
                account_id=account_id,
                username=scrub(username),
                ip=scrub(ip),
                target=scrub(target),
                details={key: _scrub_detail(value) for key, value in (details or {}).items()},
            )
        )

    def record_by(
        self,
        principal: Principal,
        action: AuditAction,
        target: str | None = None,
        outcome: Outcome = Outcome.SUCCESS,
        details: dict[str, DetailValue] | None = None,
    ) -> None:
        self.record(
            action,
            actor=principal.actor,
            account_id=principal.account.id,
            username=principal.account.username,
            ip=principal.ip,
            target=target,
            outcome=outcome,
            details=details,
        )

    def record_on(
        self,
        account: Account,
        action: AuditAction,
        by: Principal | None,
        *,
        target: str | None = None,
        details: dict[str, DetailValue] | None = None,
        outcome: Outcome = Outcome.SUCCESS,
    ) -> None:
        """On `account`'s trail, naming who acted on it (`whm:USER` for root or a reseller, `admin` on the command
        line); and on the actor's own trail too when that is someone else."""
        self.record(
            action,
            actor=f"whm:{by.account.username}" if by is not None else "admin",
            account_id=account.id,
            username=account.username,
            ip=by.ip if by is not None else None,
            target=target,
            outcome=outcome,
            details=details,
        )
        if by is not None and by.account.id != account.id:
            theirs = target if target in (None, account.username) else f"{account.username}:{target}"
            self.record_by(by, action, target=theirs, outcome=outcome, details=details)


class AuditWriter:
    """Records events in a transaction of their own: what must be kept even when the caller's work rolls back (a
    denial, a refused restore) or when there is no caller's transaction (a refused authentication)."""

    def __init__(self, begin: Callable[[], UnitOfWork], clock: Clock) -> None:
        self._begin = begin
        self._clock = clock

    @contextmanager
    def log(self) -> Iterator[AuditLog]:
        """An audit log whose events are committed when the block ends without an error."""
        with self._begin() as uow:
            yield AuditLog(uow.audit, self._clock)
            uow.commit()
