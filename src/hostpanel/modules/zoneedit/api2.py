"""cPanel API 2 `ZoneEdit`, as acme.sh (`dns_cpanel`) and certbot-dns-cpanel call it.

Lines are 1-based here (`Line` = parse_zone's line_index + 1); `fetchzone_records` filters exactly (certbot deletes
every line it returns); the changing functions answer `[{"result": {"status", "statusmsg", "newserial"}}]`, with
`newserial` null on failure (acme.sh's test of success). API 2 calls carry no serial: edits of one zone take turns.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.service import StaleZone
from hostpanel.domain.dns.zone import FIRST_LINE, SOA_LINE, ZONE_TTL, Line, Zone
from hostpanel.domain.errors import HostpanelError, InvalidInput, PermissionDenied
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import API2, Module, Param

module = Module("ZoneEdit", ScopeModule.DNS, "DNS zones edited by line (cPanel API 2).", api=API2)

DOMAIN = Param("domain", "The zone, one of the account's domains.", True)
ADDABLE = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SRV", "TXT")
# What each type's data fields are called in API 2, in order.
DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "A": ("address",),
    "AAAA": ("address",),
    "CNAME": ("cname",),
    "NS": ("nsdname",),
    "MX": ("preference", "exchange"),
    "SRV": ("priority", "weight", "port", "target"),
    "CAA": ("flag", "tag", "value"),
    "TXT": ("txtdata",),
}
FILTERS = {"line": "Line", "ttl": "ttl", "name": "name", "class": "class", "address": "address", "type": "type",
           "txtdata": "txtdata", "preference": "preference", "exchange": "exchange"}  # fmt: skip
RECORD_PARAMS = (
    Param(
        "name", "The record's name: without a dot it is in the zone (`_acme-challenge`); with a final dot, absolute."
    ),
    Param("type", f"One of {', '.join(ADDABLE)}.", True),
    Param("ttl", "Time to live in seconds (default 14400).", type="integer"),
    Param("class", "IN (the only class)."),
    *(
        Param(field, f"Data of {kind} records.")
        for kind, fields in DATA_FIELDS.items()
        for field in fields
        if field != "address"
    ),
    Param("address", "The address of an A or AAAA record."),
)


def _host(name: str) -> str:
    return name.removesuffix(".") if name != "." else name


def _soa_fields(fields: tuple[str, ...]) -> dict[str, Any]:
    mname, rname, serial, refresh, retry, expire, minimum = fields
    return {
        "serial": serial, "mname": _host(mname), "rname": _host(rname), "refresh": int(refresh), "retry": int(retry),
        "expire": int(expire), "minimum": int(minimum), "Lines": FIRST_LINE - SOA_LINE,
    }  # fmt: skip


# Each type's own fields under cPanel's names; names without the final dot.
_FIELDS: dict[str, Callable[[tuple[str, ...]], dict[str, Any]]] = {
    "A": lambda f: {"address": f[0]},
    "AAAA": lambda f: {"address": f[0]},
    "CNAME": lambda f: {"cname": _host(f[0])},
    "NS": lambda f: {"nsdname": _host(f[0])},
    "MX": lambda f: {"preference": int(f[0]), "exchange": _host(f[1])},
    "SRV": lambda f: {"priority": int(f[0]), "weight": int(f[1]), "port": int(f[2]), "target": _host(f[3])},
    "CAA": lambda f: {"flag": int(f[0]), "tag": f[1], "value": f[2]},
    "TXT": lambda f: {"txtdata": "".join(f), "char_str_list": list(f), "unencoded": 1},
    "SOA": _soa_fields,
}


def _api2(line: Line) -> dict[str, Any]:
    number = line.index + 1
    if line.kind == "comment":
        return {"Line": number, "line": number, "type": ":RAW", "raw": line.text}
    if line.kind == "control":
        return {"Line": number, "line": number, "type": "$TTL", "ttl": ZONE_TTL}
    record = line.record
    item: dict[str, Any] = {
        "Line": number, "line": number, "name": record.name + ".", "class": "IN", "ttl": record.ttl,
        "type": record.type, **_FIELDS[record.type](record.fields),
    }  # fmt: skip
    item["record"] = item.get("address") or item.get("cname") or item.get("txtdata") or record.text
    return item


def _matches(item: dict[str, Any], filters: dict[str, str]) -> bool:
    """cPanel's filter: each value lists alternatives split on `|` or `,`; the field must be there and equal one of
    them as text; every filter must hold; an empty value matches nothing."""
    for key, wanted in filters.items():
        if wanted == "" or key not in item:
            return False
        if str(item[key]) not in re.split(r"[|,]", wanted):
            return False
    return True


def _custom(line: Line, zone: Zone) -> bool:
    if line.kind != "record":
        return False
    record = line.record
    return record.type != "SOA" and not (record.type == "NS" and record.name == zone.name)


@module.function(
    "fetchzones",
    Access.READ,
    "The account's zones, each as its zone file's lines (longest names first).",
    returns_list=True,
)
def fetchzones(call: Call) -> list[dict[str, Any]]:
    dns = call.services.dns
    names = sorted(dns.zones(), key=lambda name: (-len(name), name))
    zones = {name: dns.zone(name).text().rstrip("\n").split("\n") for name in names}
    return [{"status": 1, "statusmsg": "Zones fetched", "zones": zones}]


@module.function(
    "fetchzone_records",
    Access.READ,
    "A zone's lines as records (Line is 1-based), filtered exactly by any of line, ttl, name, class, address, "
    "type, txtdata, preference and exchange (alternatives separated by | or ,); customonly=1 leaves out the SOA, "
    "the apex NS and the non-record lines.",
    params=(
        DOMAIN,
        Param("customonly", "1: only the records a user manages.", type="boolean"),
        *(Param(name, f"Only records whose {field} equals this (exactly).") for name, field in FILTERS.items()),
    ),
    returns_list=True,
)
def fetchzone_records(call: Call) -> list[dict[str, Any]]:
    zone = call.services.dns.zone(call.args.require("domain"))
    filters = {field: value for name, field in FILTERS.items() if (value := call.args.get(name)) is not None}
    custom = call.args.flag("customonly")
    lines = [line for line in zone.lines() if not custom or _custom(line, zone)]
    return [item for item in map(_api2, lines) if _matches(item, filters)]


def _result(status: int, message: str, serial: int | None) -> list[dict[str, Any]]:
    return [{"result": {"status": status, "statusmsg": message, "newserial": serial}}]


def _change(call: Call, zone: str) -> Record:
    """The record an add or edit describes, from API 2's named fields."""
    args = call.args
    name = args.get("name", "") or ""
    if not name.strip():
        raise InvalidInput("name", "Invalid DNS record: No name provided.")
    kind = (args.get("type") or "").strip().upper()
    if kind not in ADDABLE:
        raise InvalidInput("type", f"You may only add {', '.join(ADDABLE[:-1])} or {ADDABLE[-1]} records.")
    if (args.get("class") or "IN").upper() != "IN":
        raise InvalidInput("class", "Invalid DNS record: only the IN class is supported.")
    ttl = args.get("ttl") or str(ZONE_TTL)
    if not ttl.isascii() or not ttl.isdigit() or len(ttl) > 10:
        raise InvalidInput("ttl", "Invalid DNS record: Bad TTL provided.")
    fields = [args.get(field) or "" for field in DATA_FIELDS[kind]]
    return Record.parse(zone, name, ttl, kind, fields)  # a name without a final dot is in the zone, as cPanel reads it


def _line(call: Call) -> int:
    text = (call.args.get("line") or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise InvalidInput("line", "Provide the “line” of the record: a whole number from 1.")
    return int(text) - 1


def _changed(call: Call, change: str, action: Any) -> list[dict[str, Any]]:
    """Run a change and answer as ZoneEdit does: its failures are part of the answer (`status` 0, `newserial`
    null), but a refused permission or restriction is the framework's refusal (and recorded as such)."""
    zone = call.args.require("domain")
    try:
        serial = action(call.services.dns.owned(zone))
    except PermissionDenied:
        raise
    except HostpanelError as error:
        return _result(0, error.message, None)
    return _result(1, f"The {change} was saved in {zone.strip().lower()} and is served with serial {serial}.", serial)


@module.function(
    "add_zone_record",
    Access.WRITE,
    "Add a record after the zone's last line; answered once the nameserver serves it.",
    params=(DOMAIN, *RECORD_PARAMS),
    own_transactions=True,  # the DNS service's own, each confirmed with the nameserver
)
def add_zone_record(call: Call) -> list[dict[str, Any]]:
    return _changed(call, "record", lambda zone: call.services.dns.add(zone, _change(call, zone), allow_ns=True))


@module.function(
    "edit_zone_record",
    Access.WRITE,
    "Replace the record at a line (1-based); `serialnum`, if given, must still be the zone's serial.",
    params=(
        DOMAIN,
        Param("line", "The record's line (1-based, as fetchzone_records reports it).", True, type="integer"),
        Param("serialnum", "The zone's serial when it was read (optional)."),
        *RECORD_PARAMS,
    ),
    own_transactions=True,  # the DNS service's own, each confirmed with the nameserver
)
def edit_zone_record(call: Call) -> list[dict[str, Any]]:
    def edit(zone: str) -> int:
        try:
            return call.services.dns.edit(
                zone, _line(call), _change(call, zone), call.args.get("serialnum"), allow_ns=True
            )
        except StaleZone:
            raise InvalidInput("serialnum", "Zone file changed since last read.") from None

    return _changed(call, "change", edit)


@module.function(
    "remove_zone_record",
    Access.WRITE,
    "Remove the record at a line (1-based); the lines before it keep their numbers.",
    params=(DOMAIN, Param("line", "The record's line (1-based).", True, type="integer")),
    own_transactions=True,  # the DNS service's own, each confirmed with the nameserver
)
def remove_zone_record(call: Call) -> list[dict[str, Any]]:
    return _changed(call, "removal", lambda zone: call.services.dns.remove(zone, _line(call), allow_ns=True))
