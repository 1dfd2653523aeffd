"""Reading the activity log as people and scripts search it (the API, the web page and the CLI alike); what a search
may ask is checked where it is made (`AuditQuery`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.ports import UnitOfWork

EXPORT_BATCH = 500


class Activity:
    """The activity log as people and scripts read it: a page of a search, or every match in batches."""

    def __init__(self, uow: UnitOfWork, read: Callable[[], UnitOfWork]) -> None:
        """`uow` is the caller's transaction; `read` opens short read transactions for a long export."""
        self._uow = uow
        self._read = read

    def page(self, query: AuditQuery) -> list[AuditEvent]:
        """Newest first, at most `query.limit`; pass the last id as `before_id` for the next page."""
        return self._uow.audit.query(query)

    def everything(self, query: AuditQuery) -> Iterator[AuditEvent]:
        """Every match, newest first, one short read transaction per batch (keyset, never OFFSET), so an export
        of any size neither holds a transaction open nor memory."""
        query = replace(query, before_id=None, limit=EXPORT_BATCH)
        while True:
            with self._read() as uow:
                batch = uow.audit.query(query)
            yield from batch
            if len(batch) < EXPORT_BATCH or batch[-1].id is None:
                return
            query = replace(query, before_id=batch[-1].id)
