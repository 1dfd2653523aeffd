"""An audit event as the API, the pages' exports and the CLI report it."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.audit.model import AuditEvent


def event_record(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "time": event.time,
        "action": event.action.value,
        "outcome": event.outcome.value,
        "actor": event.actor,
        "ip": event.ip,
        "target": event.target,
        "details": event.details,
    }
