"""Domains → Zone Editor: each zone's records by type, added, changed and removed through the DnsService the APIs use.

A change is made against the serial the page was read at (as `DNS::mass_edit_zone`), so two browsers editing at
once never overwrite each other: the second is told the zone changed and shown it afresh. Every change is
answered by the nameserver before the page comes back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from hostpanel.domain.dns.records import Record, relative
from hostpanel.domain.dns.service import StaleZone, editable_types
from hostpanel.domain.dns.zone import ZONE_TTL, Line, Zone
from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.web.page import PageContext

# The types the page offers, in the order it shows them, with the form fields each one's data is made of.
TYPE_FIELDS: dict[str, tuple[str, ...]] = {
    "A": ("address",),
    "AAAA": ("address",),
    "CNAME": ("target",),
    "MX": ("priority", "target"),
    "TXT": ("text",),
    "SRV": ("priority", "weight", "port", "target"),
    "CAA": ("flag", "tag", "value"),
}
SHOWN_TYPES = ("SOA", "NS", *TYPE_FIELDS)
FIELDS = ("address", "target", "priority", "weight", "port", "text", "flag", "tag", "value")
STALE = "The zone changed since this page was opened: here it is as it is now. Make your change again."


@dataclass(frozen=True)
class Row:
    """One record of the table: its line, how it reads, and whether the page may change it."""

    line: Line
    zone: str
    editable: bool

    @property
    def record(self) -> Record:
        return self.line.record

    @property
    def number(self) -> int:
        """The line in the zone file, from 1 (as `hostpanel dns` and cPanel API 2 count)."""
        return self.line.index + 1

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def short(self) -> str:
        return relative(self.record.name, self.zone)

    @property
    def data(self) -> str:
        fields = self.record.fields
        if self.record.type == "TXT":
            return "".join(fields)
        return " ".join(fields)


def _zone(ctx: PageContext) -> Zone | Response:
    """The zone the link or form names, or the page saying it is not one of the account's."""
    name = str(ctx.form.get("zone") or ctx.query.get("zone") or "")
    try:
        return ctx.services.dns.zone(name)
    except HostpanelError as error:
        ctx.failed = error
        return ctx.render("zones.html", 404, zones=ctx.services.dns.zones(), missing=error.message)


def zones_page(ctx: PageContext) -> Response:
    zones = ctx.services.dns.zones()
    if ctx.query.get("zone"):
        return records_page(ctx)
    return ctx.render("zones.html", zones=zones, missing=None)


def _allowed(ctx: PageContext) -> frozenset[str]:
    _, account = ctx.signed_in()
    return editable_types(account.disabled_features)


def _records(ctx: PageContext, zone: Zone, **values: Any) -> dict[str, Any]:
    allowed = _allowed(ctx)
    rows = [Row(line, zone.name, line.record.type in allowed) for line in zone.records()]
    groups = [(kind, [row for row in rows if row.record.type == kind]) for kind in SHOWN_TYPES]
    kinds = [kind for kind in TYPE_FIELDS if kind in allowed]
    return {
        "zone": zone,
        "groups": [(kind, found) for kind, found in groups if found],
        "types": kinds,
        "form": {"type": kinds[0] if kinds else "", "name": "", "ttl": str(ZONE_TTL), **dict.fromkeys(FIELDS, "")},
        "editing": None,
        **values,
    }


def records_page(ctx: PageContext) -> Response:
    zone = _zone(ctx)
    if isinstance(zone, Response):
        return zone
    return ctx.render("zone_records.html", **_records(ctx, zone))


def _record(zone: str, form: dict[str, str]) -> Record:
    """The record a form describes. Friendlier than a zone file: a name that ends in the domain, and a target with
    a dot in it, are taken as complete (a zone file would add the domain to both)."""
    kind = form.get("type", "")
    if kind not in TYPE_FIELDS:
        raise InvalidInput("type", "Choose the type of the record.")
    data = []
    for field in TYPE_FIELDS[kind]:
        value = form.get(field, "") if field == "text" else form.get(field, "").strip()
        if value == "":
            raise InvalidInput(field, "Fill this in for a record of this type.")
        if field == "target" and "." in value.rstrip(".") and not value.endswith("."):
            value += "."
        data.append(value)
    name = form.get("name", "").strip().lower() or "@"
    if name == zone or name.endswith("." + zone):
        name += "."
    return Record.parse(zone, name, form.get("ttl", "").strip(), kind, data)


def _form(ctx: PageContext) -> dict[str, str]:
    return {name: str(ctx.form.get(name, "")) for name in ("type", "name", "ttl", "line", "serial", *FIELDS)}


def _error(ctx: PageContext, zone: Zone, error: HostpanelError, form: dict[str, str], template: str) -> Response:
    """The form again with the message beside its field (a record's data beside the type's main field)."""
    kind = form.get("type", "")
    main = TYPE_FIELDS.get(kind, ("address",))[-1 if kind in ("MX", "SRV") else 0]
    fields = {"data": main, "dname": "name", "line": None, "zone": None}
    return ctx.form_error(error, template, fields=fields, **_records(ctx, zone, form=form, editing=form.get("line")))


def _stale(ctx: PageContext, zone: Zone) -> Response:
    fresh = ctx.services.dns.zone(zone.name)
    ctx.failed = StaleZone(STALE)
    return ctx.render("zone_records.html", 409, **_records(ctx, fresh, message={"text": STALE}))


def _line(form: dict[str, str]) -> int:
    text = form.get("line", "")
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise InvalidInput("line", "The record to change is not named.")
    return int(text) - 1


def edit_form(ctx: PageContext) -> Response:
    zone = _zone(ctx)
    if isinstance(zone, Response):
        return zone
    try:
        entry = zone.entry_at(_line({"line": ctx.query.get("line", "")}))
    except HostpanelError as error:
        ctx.failed = error
        return ctx.render("zone_records.html", 404, **_records(ctx, zone, message={"text": error.message}))
    record = entry.record
    form = {
        **dict.fromkeys(FIELDS, ""),
        "type": record.type,
        "name": relative(record.name, zone.name),
        "ttl": str(record.ttl),
        "serial": str(zone.serial),
        **_values(record),
    }
    return ctx.render("zone_edit.html", **_records(ctx, zone, form=form, editing=ctx.query.get("line")))


def _values(record: Record) -> dict[str, str]:
    fields = record.fields
    if record.type == "TXT":
        return {"text": "".join(fields)}
    return dict(zip(TYPE_FIELDS.get(record.type, ()), fields, strict=False))


@dataclass(frozen=True)
class ZoneEdit:
    """One form's change, in `DnsService.mass_edit`'s terms."""

    adds: tuple[Record, ...] = ()
    edits: tuple[tuple[int, Record], ...] = ()
    removes: tuple[int, ...] = ()


Change = Callable[[Zone, dict[str, str]], ZoneEdit]


def _changing(change: Change, template: str, notice: str) -> Callable[[PageContext], Response]:
    """A page posting one change of the zone, made against the serial the form was read at: done (and served), or
    the zone shown afresh when it changed meanwhile, or the form again with the refusal beside its field."""

    def page(ctx: PageContext) -> Response:
        zone = _zone(ctx)
        if isinstance(zone, Response):
            return zone
        form = _form(ctx)
        try:
            batch = change(zone, form)
            ctx.services.dns.mass_edit(zone.name, form["serial"], batch.adds, batch.edits, batch.removes)
        except StaleZone:
            return _stale(ctx, zone)
        except HostpanelError as error:
            return _error(ctx, zone, error, form, template)
        return ctx.redirect("/domains/zone-editor", notice, zone=zone.name)

    return page


add = _changing(lambda zone, form: ZoneEdit(adds=(_record(zone.name, form),)), "zone_records.html", "record-added")
edit = _changing(
    lambda zone, form: ZoneEdit(edits=((_line(form), _record(zone.name, form)),)), "zone_edit.html", "record-changed"
)
delete = _changing(lambda _zone, form: ZoneEdit(removes=(_line(form),)), "zone_records.html", "record-deleted")
