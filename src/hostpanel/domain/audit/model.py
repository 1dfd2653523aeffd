"""An audit event: a copy of who, from where, what, on what, and how it ended; never a secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from hostpanel.domain.audit.tags import AuditAction, Outcome

DetailValue = str | int | float | bool | None | list[str]


@dataclass(frozen=True)
class AuditEvent:
    time: float
    action: AuditAction
    outcome: Outcome
    actor: str
    account_id: int | None = None
    username: str | None = None
    ip: str | None = None
    target: str | None = None
    details: dict[str, DetailValue] = field(default_factory=dict)
    id: int | None = None


@dataclass(frozen=True)
class AuditQuery:
    """A window of one account's events, newest first; `before_id` pages backwards without OFFSET."""

    account_id: int | None = None
    username: str | None = None  # for accounts that no longer exist: their events keep a copy of the name
    since: float | None = None
    until: float | None = None
    actions: tuple[str, ...] = ()
    ip: str | None = None
    actor: str | None = None
    outcome: str | None = None
    before_id: int | None = None
    limit: int = 100
