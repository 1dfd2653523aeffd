"""UAPI `ActivityLog::list`: the account's audit events, newest first, in windows paged by event id."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.audit.model import AuditQuery, token_actor
from hostpanel.domain.audit.record import event_record
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("ActivityLog", ScopeModule.ACTIVITYLOG, "Review the account's activity: logins, token use and changes.")
MAX_LIMIT = 1000


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
    limit = args.integer("limit", 100, minimum=1, maximum=MAX_LIMIT) or 100
    token = args.get("token")
    query = AuditQuery(
        account_id=call.principal.account.id,
        since=args.integer("since"),
        until=args.integer("until"),
        actions=tuple(args.get_multiple("action")),
        ip=args.get("ip") or None,
        actor=token_actor(token) if token else None,
        outcome=args.get("outcome") or None,
        before_id=args.integer("before_id", minimum=1),
        limit=limit,
    )
    events = call.services.activity.page(query)
    if len(events) == limit and events[-1].id is not None:
        call.metadata["next_before_id"] = events[-1].id
    return [event_record(event) for event in events]
