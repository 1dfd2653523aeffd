"""UAPI `DNS::parse_zone` and `DNS::mass_edit_zone`, as cPanel answers them (lego and the cert-manager webhook use
them): the zone file as items with base64 names and data and 0-based line indexes; a batch of adds, edits by line
and removes by line against the serial the caller read, applied whole or refused whole."""

from __future__ import annotations

import base64
import json
from typing import Any

from hostpanel.domain.dns.records import Record, relative
from hostpanel.domain.dns.service import StaleZone
from hostpanel.domain.dns.zone import Line
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call, FailureWithData
from hostpanel.functions.registry import Module, Param

module = Module("DNS", ScopeModule.DNS, "The account's DNS zones, as zone files edited by line.")

ZONE = Param("zone", "One of the account's zones, e.g. example.com.", True)
RECORD_KEYS = ("dname", "ttl", "record_type", "data")


def b64(text: str) -> str:
    """cPanel's `encode_to_line`: standard base64 with padding, no line breaks."""
    return base64.b64encode(text.encode()).decode("ascii")


def _item(line: Line, zone: str) -> dict[str, Any]:
    if line.kind != "record":
        return {"line_index": line.index, "type": line.kind, "text_b64": b64(line.text)}
    record = line.record
    dname = zone + "." if record.name == zone else relative(record.name, zone)
    return {
        "line_index": line.index,
        "type": "record",
        "record_type": record.type,
        "ttl": record.ttl,
        "dname_b64": b64(dname),
        "data_b64": [b64(field) for field in record.fields],
    }


@module.function(
    "parse_zone",
    Access.READ,
    "The zone file: one item per record, comment or control line, with its 0-based line_index; names and data in "
    "base64 (the apex as `zone.`, other names relative). The SOA serial is the third data item of the SOA.",
    params=(ZONE,),
    returns_list=True,
)
def parse_zone(call: Call) -> list[dict[str, Any]]:
    zone = call.services.dns.zone(call.args.require("zone"))
    return [_item(line, zone.name) for line in zone.lines()]


def _object(text: str, kind: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise InvalidInput(kind, f"Each “{kind}” must be an object.")
    return value


def _record(zone: str, value: dict[str, Any], kind: str, extra: tuple[str, ...] = ()) -> Record:
    needed = (*extra, *RECORD_KEYS)
    if any(key not in value for key in needed):
        names = [f"“{key}”" for key in needed]
        raise InvalidInput(kind, f"Each “{kind}” requires {', '.join(names[:-1])}, and {names[-1]}.")
    data = value["data"]
    if not isinstance(data, list):
        raise InvalidInput("data", "“data” must be an array.")
    if not all(isinstance(item, str | int) and not isinstance(item, bool) for item in data):
        raise InvalidInput("data", "Each item of “data” must be a string.")
    if not isinstance(value["dname"], str) or not isinstance(value["record_type"], str):
        raise InvalidInput(kind, f"The “dname” and “record_type” of each “{kind}” must be strings.")
    return Record.parse(zone, value["dname"], value["ttl"], value["record_type"], [str(item) for item in data])


def _line_index(value: object, kind: str) -> int:
    text = str(value) if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise InvalidInput(kind, f"Each “{kind}” must be a nonnegative integer.")
    return int(text)


@module.function(
    "mass_edit_zone",
    Access.WRITE,
    "Apply a batch of changes if `serial` is still the zone's: `add` (JSON objects with dname, ttl, record_type and "
    "data), `edit` (the same with line_index) and `remove` (line indexes), each repeatable as add, add-1, ... "
    "Applied whole or not at all; answered once the nameserver serves it, with the new serial (a string).",
    params=(
        ZONE,
        Param("serial", "The zone's serial as parse_zone read it (the SOA's third data item).", True),
        Param("add", 'A record to add: {"dname","ttl","record_type","data":[...]}', repeated=True),
        Param("edit", "A record to put in place of the one at line_index: as add, with line_index.", repeated=True),
        Param("remove", "The line_index of a record to remove.", repeated=True, type="integer"),
    ),
    own_transactions=True,  # the DNS service's own, each confirmed with the nameserver
)
def mass_edit_zone(call: Call) -> dict[str, Any]:
    args, dns = call.args, call.services.dns
    zone = dns.owned(args.require("zone"))
    serial = args.require("serial")
    adds = [_record(zone, _object(text, "add"), "add") for text in args.get_multiple("add")]
    edits = []
    for text in args.get_multiple("edit"):
        value = _object(text, "edit")
        record = _record(zone, value, "edit", ("line_index",))
        edits.append((_line_index(value["line_index"], "line_index"), record))
    removes = [_line_index(text, "remove") for text in args.get_multiple("remove")]
    try:
        new_serial = dns.mass_edit(zone, serial, adds, edits, removes)
    except StaleZone as stale:
        raise FailureWithData(stale.message, {"type": "Stale", "detail": None}) from None
    return {"new_serial": str(new_serial)}
