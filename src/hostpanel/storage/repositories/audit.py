"""The audit trail: hash-chained appends, windowed queries (newest first, paged by id), chain walks and export."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from hostpanel.domain.audit.chain import GENESIS, StoredEvent, chain_of, event_hash
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.storage.tables import audit_chain_heads, audit_events

_STREAM_BATCH = 1000


def _event_from_row(row: Any) -> AuditEvent:
    return AuditEvent(
        id=row.id,
        time=row.time,
        action=AuditAction(row.action),
        outcome=Outcome(row.outcome),
        actor=row.actor,
        account_id=row.account_id,
        username=row.username,
        ip=row.ip,
        target=row.target,
        details=json.loads(row.details),
    )


def _stored_from_row(row: Any) -> StoredEvent:
    return StoredEvent(
        id=row.id,
        time=row.time,
        account_id=row.account_id,
        username=row.username,
        actor=row.actor,
        ip=row.ip,
        action=row.action,
        target=row.target,
        outcome=row.outcome,
        details=row.details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


class SqlAuditRepository:
    """The audit repository on a database connection (see `ports.AuditRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, event: AuditEvent) -> None:
        chain = chain_of(event.account_id)
        previous = self._lock_head(chain)
        values: dict[str, Any] = {
            "time": event.time,
            "account_id": event.account_id,
            "username": event.username,
            "actor": event.actor,
            "ip": event.ip,
            "action": event.action.value,
            "target": event.target,
            "outcome": event.outcome.value,
            "details": json.dumps(event.details, sort_keys=True),
        }
        digest = event_hash(previous, **values)
        statement = insert(audit_events).values(**values, prev_hash=previous, hash=digest)
        event_id = self._c.execute(statement.returning(audit_events.c.id)).scalar_one()
        head = update(audit_chain_heads).where(audit_chain_heads.c.chain == chain)
        self._c.execute(head.values(last_id=event_id, last_hash=digest))

    def _lock_head(self, chain: int) -> str:
        """The chain's newest hash, with its head row locked until commit: appends to one chain take turns.

        PostgreSQL: SELECT ... FOR UPDATE on the head (made first if missing). SQLite: a writing transaction already
        holds the database's one write lock, so the head cannot change under it."""
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        self._c.execute(
            dialect.insert(audit_chain_heads)
            .values(chain=chain, last_id=0, last_hash=GENESIS)
            .on_conflict_do_nothing(index_elements=["chain"])
        )
        query = select(audit_chain_heads.c.last_hash).where(audit_chain_heads.c.chain == chain).with_for_update()
        return str(self._c.execute(query).scalar_one())

    def query(self, query: AuditQuery) -> list[AuditEvent]:
        c = audit_events.c
        conditions = [
            condition
            for condition in (
                c.account_id == query.account_id if query.account_id is not None else None,
                c.username == query.username if query.username is not None else None,
                c.time >= query.since if query.since is not None else None,
                c.time < query.until if query.until is not None else None,
                c.action.in_(query.actions) if query.actions else None,
                c.ip == query.ip if query.ip is not None else None,
                c.actor == query.actor if query.actor is not None else None,
                c.outcome == query.outcome if query.outcome is not None else None,
                c.id < query.before_id if query.before_id is not None else None,
            )
            if condition is not None
        ]
        statement = select(audit_events).where(*conditions).order_by(c.id.desc()).limit(query.limit)
        return [_event_from_row(row) for row in self._c.execute(statement)]

    def chains(self) -> dict[int, str | None]:
        heads: dict[int, str | None] = {row.chain: row.last_hash for row in self._c.execute(select(audit_chain_heads))}
        accounts = select(audit_events.c.account_id).distinct()
        for (account_id,) in self._c.execute(accounts):
            heads.setdefault(chain_of(account_id), None)
        return heads

    def chain_events(self, chain: int) -> Iterator[StoredEvent]:
        c = audit_events.c
        where = c.account_id.is_(None) if chain == 0 else c.account_id == chain
        yield from self._stream(where)

    def export(self, account_id: int | None = None, after_id: int = 0) -> Iterator[StoredEvent]:
        c = audit_events.c
        where = (c.account_id == account_id) if account_id is not None else c.id.is_not(None)
        yield from self._stream(where & (c.id > after_id))

    def _stream(self, where: Any) -> Iterator[StoredEvent]:
        """Oldest first, in batches by id, so a long trail never sits in memory at once."""
        last = 0
        while True:
            query = select(audit_events).where(where, audit_events.c.id > last).order_by(audit_events.c.id)
            rows = self._c.execute(query.limit(_STREAM_BATCH)).all()
            for row in rows:
                yield _stored_from_row(row)
            if len(rows) < _STREAM_BATCH:
                return
            last = rows[-1].id
