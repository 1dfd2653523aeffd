"""Searching the activity log: the one reading of what a search asks (known actions and outcomes, a bounded page),
used by the API, the web page and the CLI alike."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.ports import UnitOfWork

MAX_PAGE = 100_000  # events one search returns at most (the API and the pages ask for far fewer)
EXPORT_BATCH = 500
_ACTIONS = frozenset(action.value for action in AuditAction)
_OUTCOMES = frozenset(outcome.value for outcome in Outcome)


@dataclass(frozen=True)
class ActivitySearch:
    """What someone looks for in the activity log; `query()` checks it and says what is wrong, by field."""

    account_id: int | None = None
    username: str | None = None  # for accounts that no longer exist: their events keep a copy of the name
    since: float | None = None
    until: float | None = None
    actions: tuple[str, ...] = ()
    outcome: str | None = None
    ip: str | None = None
    token: str | None = None  # the acting token's name
    before_id: int | None = None
    limit: int = 100

    def query(self) -> AuditQuery:
        for action in self.actions:
            if action not in _ACTIONS:
                raise InvalidInput("action", f"“{action}” is not an audit action.")
        if self.outcome is not None and self.outcome not in _OUTCOMES:
            raise InvalidInput("outcome", f"“{self.outcome}” is not an outcome: use success, failure or denied.")
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidInput("limit", f"The limit must be a whole number from 1 to {MAX_PAGE}.")
        return AuditQuery(
            account_id=self.account_id,
            username=self.username,
            since=self.since,
            until=self.until,
            actions=self.actions,
            ip=self.ip,
            actor=f"token:{self.token}" if self.token else None,
            outcome=self.outcome,
            before_id=self.before_id,
            limit=self.limit,
        )


class Activity:
    """The activity log as people and scripts read it: a page of a search, or every match in batches."""

    def __init__(self, uow: UnitOfWork, read: Callable[[], UnitOfWork]) -> None:
        """`uow` is the caller's transaction; `read` opens short read transactions for a long export."""
        self._uow = uow
        self._read = read

    def page(self, search: ActivitySearch) -> list[AuditEvent]:
        """Newest first, at most `search.limit`; pass the last id as `before_id` for the next page."""
        return self._uow.audit.query(search.query())

    def everything(self, search: ActivitySearch) -> Iterator[AuditEvent]:
        """Every match, newest first, one short read transaction per batch (keyset, never OFFSET), so an export
        of any size neither holds a transaction open nor memory."""
        query = replace(search.query(), before_id=None, limit=EXPORT_BATCH)
        while True:
            with self._read() as uow:
                batch = uow.audit.query(query)
            yield from batch
            if len(batch) < EXPORT_BATCH or batch[-1].id is None:
                return
            query = replace(query, before_id=batch[-1].id)
