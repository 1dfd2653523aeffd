"""Security → Activity: the account's audit trail with filters, keyset paging (by event id) and CSV/JSON export."""

from __future__ import annotations

import csv
import datetime
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.responses import Response, StreamingResponse

from hostpanel.domain.audit.model import AuditEvent, AuditQuery, token_actor
from hostpanel.domain.audit.record import event_record
from hostpanel.domain.audit.tags import ACTION_DESCRIPTIONS, AuditAction, Outcome
from hostpanel.domain.errors import InvalidInput
from hostpanel.web.page import PageContext
from hostpanel.web.render import iso

PAGE_SIZE = 50
FILTERS = ("since", "until", "action", "token", "ip", "outcome")
COLUMNS = ("id", "time", "action", "outcome", "actor", "ip", "target", "details")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Filters:
    """The filter form's values and the search they make (kept through paging and export links)."""

    values: dict[str, str]
    query: AuditQuery

    def link(self, **extra: str) -> str:
        params = {key: value for key, value in {**self.values, **extra}.items() if value}
        return "?" + urlencode(params) if params else "?"


def _day(text: str, field: str, end: bool) -> float | None:
    if not text:
        return None
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "Enter a date as YYYY-MM-DD.") from None
    moment = datetime.datetime.combine(day, datetime.time(), datetime.UTC)
    return (moment + datetime.timedelta(days=1 if end else 0)).timestamp()


def filters(ctx: PageContext) -> Filters:
    """The search the filter form describes (checked as every search is); `until` includes the whole day given (UTC)."""
    _, account = ctx.signed_in()
    values = {key: ctx.query.get(key, "").strip()[:100] for key in FILTERS}
    before = ctx.query.get("before", "")
    query = AuditQuery(
        account_id=account.id,
        since=_day(values["since"], "since", end=False),
        until=_day(values["until"], "until", end=True),
        actions=(values["action"],) if values["action"] else (),
        ip=values["ip"] or None,
        actor=token_actor(values["token"]) if values["token"] else None,
        outcome=values["outcome"] or None,
        before_id=int(before) if before.isdigit() and len(before) < 19 else None,
        limit=PAGE_SIZE,
    )
    return Filters(values, query)


def activity_page(ctx: PageContext) -> Response:
    try:
        chosen = filters(ctx)
    except InvalidInput as error:
        empty = Filters({key: ctx.query.get(key, "")[:100] for key in FILTERS}, AuditQuery())
        return ctx.form_error(error, "activity.html", filters=empty, **_choices(), events=[], older=None)
    events = ctx.services.activity.page(chosen.query)
    older = events[-1].id if len(events) == PAGE_SIZE and events[-1].id is not None else None
    return ctx.render("activity.html", filters=chosen, events=events, older=older, **_choices())


def _choices() -> dict[str, Any]:
    return {
        "actions": [(action.value, ACTION_DESCRIPTIONS[action]) for action in AuditAction],
        "outcomes": [outcome.value for outcome in Outcome],
    }


def _exported(event: AuditEvent) -> dict[str, Any]:
    """The API's record of an event, with the time written out (UTC) for people and spreadsheets."""
    return {**event_record(event), "time": iso(event.time)}


def _cell(value: Any) -> str:
    """A spreadsheet must not run a cell as a formula: text that looks like one is prefixed with a quote."""
    text = "" if value is None else json.dumps(value, sort_keys=True) if isinstance(value, dict) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_lines(events: Iterator[AuditEvent]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for event in events:
        record = _exported(event)
        writer.writerow([_cell(record[column]) for column in COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()


def _json_lines(events: Iterator[AuditEvent]) -> Iterator[str]:
    yield "["
    for index, event in enumerate(events):
        yield ("," if index else "") + "\n" + json.dumps(_exported(event), ensure_ascii=False)
    yield "\n]\n"


def export(ctx: PageContext, kind: str) -> Response:
    try:
        chosen = filters(ctx)
    except InvalidInput as error:
        return ctx.form_error(error, "error.html", code=400)
    events = ctx.services.activity.everything(chosen.query)
    stamp = datetime.datetime.fromtimestamp(ctx.services.clock.now(), datetime.UTC).strftime("%Y%m%d-%H%M%S")
    media, lines = ("text/csv", _csv_lines(events)) if kind == "csv" else ("application/json", _json_lines(events))
    headers = {"Content-Disposition": f'attachment; filename="activity-{stamp}.{kind}"'}
    return StreamingResponse(lines, media_type=f"{media}; charset=utf-8", headers=headers)


def export_csv(ctx: PageContext) -> Response:
    return export(ctx, "csv")


def export_json(ctx: PageContext) -> Response:
    return export(ctx, "json")
