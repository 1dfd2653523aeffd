"""The audit trail: inserts and windowed queries (newest first, paged by id)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.storage.tables import audit_events


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


class SqlAuditRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, event: AuditEvent) -> None:
        self._c.execute(
            insert(audit_events).values(
                time=event.time,
                account_id=event.account_id,
                username=event.username,
                actor=event.actor,
                ip=event.ip,
                action=event.action.value,
                target=event.target,
                outcome=event.outcome.value,
                details=json.dumps(event.details, sort_keys=True),
            )
        )

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
