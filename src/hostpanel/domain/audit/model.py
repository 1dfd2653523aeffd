"""An audit event: a copy of who, from where, what, on what, and how it ended; never a secret."""

from __future__ import annotations

from dataclasses import dataclass, field

from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import InvalidInput

MAX_EVENTS = 100_000  # events one query returns at most (the API and the pages ask for far fewer)
_ACTIONS = frozenset(action.value for action in AuditAction)
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)

DetailValue = str | int | float | bool | None | list[str]


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the audit trail: when, who, from where, what, on what, how it ended, and details."""

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

    def __post_init__(self) -> None:
        """The one check of what a search of the activity log may ask, whoever asks (API, page, CLI)."""
        for action in self.actions:
            if action not in _ACTIONS:
                raise InvalidInput("action", f"“{action}” is not an audit action.")
        if self.outcome is not None and self.outcome not in _OUTCOMES:
            raise InvalidInput("outcome", f"“{self.outcome}” is not an outcome: use success, failure or denied.")
        if not 1 <= self.limit <= MAX_EVENTS:
            raise InvalidInput("limit", f"The limit must be a whole number from 1 to {MAX_EVENTS}.")


def token_actor(name: str) -> str:
    """How the trail names a token acting (a copy of its name, so it survives renames and deletions)."""
    return f"token:{name}"
