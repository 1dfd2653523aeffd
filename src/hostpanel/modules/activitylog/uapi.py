"""UAPI `ActivityLog::list`: the account's audit events, newest first, in windows paged by event id."""

from __future__ import annotations

from typing import Any

from hostpanel.api.uapi.call import Call
from hostpanel.api.uapi.registry import Param, UapiModule
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, ScopeModule

module = UapiModule(
    "ActivityLog", ScopeModule.ACTIVITYLOG, "Review the account's activity: logins, token use and changes."
)
MAX_LIMIT = 1000


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


@module.function(
    "list",
    Access.READ,
    "The account's audit events, newest first.",
    returns_list=True,
    params=(
        Param("since", "Only events at or after this Unix time.", type="integer"),
        Param("until", "Only events before this Unix time.", type="integer"),
        Param(
            "action", "Only these actions (e.g. account:token:create); repeat as action, action-1, ...", repeated=True
        ),
        Param("outcome", "Only events with this outcome: success, failure or denied."),
        Param("ip", "Only events from this source address."),
        Param("token", "Only events whose actor is this token (by name)."),
        Param(
            "before_id",
            "Only events older than this event id: pass the last id of a page to get the next.",
            type="integer",
        ),
        Param("limit", f"How many events at most (1-{MAX_LIMIT}, default 100).", type="integer"),
    ),
)
def list_events(call: Call) -> list[dict[str, Any]]:
    args = call.args
    actions = tuple(args.get_multiple("action"))
    for action in actions:
        if action not in {a.value for a in AuditAction}:
            raise InvalidInput("action", f"“{action}” is not an activity log action.")
    outcome = args.get("outcome") or None
    if outcome is not None and outcome not in {o.value for o in Outcome}:
        raise InvalidInput("outcome", f"“{outcome}” is not an outcome: use success, failure or denied.")
    token = args.get("token") or None
    limit = args.integer("limit", 100, minimum=1, maximum=MAX_LIMIT) or 100
    query = AuditQuery(
        account_id=call.principal.account.id,
        since=args.integer("since"),
        until=args.integer("until"),
        actions=actions,
        ip=args.get("ip") or None,
        actor=f"token:{token}" if token else None,
        outcome=outcome,
        before_id=args.integer("before_id", minimum=1),
        limit=limit,
    )
    events = call.uow.audit.query(query)
    if len(events) == limit and events[-1].id is not None:
        call.metadata["next_before_id"] = events[-1].id
    return [event_record(event) for event in events]
