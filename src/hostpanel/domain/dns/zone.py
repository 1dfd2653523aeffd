"""A zone as cPanel shows it: a zone file of numbered lines, edited by line, its SOA serial bumped by every change.

The zone file has a fixed head (two comments and `$TTL`), the SOA over seven lines (3 to 9), then one line per
record in the order the records were made. So a record keeps its line when it is edited, an added record takes the
line after the last, and removing a line moves only the lines after it (clients that delete several lines delete
from the last one up, as certbot-dns-cpanel does).

`plan` turns a batch of changes (cPanel's add / edit by line / remove by line) into the changed records and the
resulting zone, which `check` judges as a whole: nothing of a batch is applied unless all of it may be.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

import dns.exception
import dns.name
import dns.rdataclass
import dns.tokenizer
import dns.zone
import dns.zonefile

from hostpanel.domain.dns.records import TYPES, Record, shown
from hostpanel.domain.errors import InvalidInput

HEADER = "; cPanel first:hostpanel Cpanel::ZoneFile::VERSION:1.3"  # clients find zones by "; cPanel first"
ZONE_TTL = 14400
SOA_TTL = 86400
SOA_LINE = 3
SOA_FIELDS = ("Serial Number", "refresh", "retry", "expire", "minimum")
FIRST_LINE = SOA_LINE + 1 + len(SOA_FIELDS) + 1  # the SOA's own line, its five numbers, and the closing one
MAX_SERIAL = 4_294_967_295
MAX_ZONE_TEXT = 4 << 20  # a zone file to import: far beyond any zone's records limit
_LINE = re.compile(r"<zone file>:([0-9]+):")


@dataclass(frozen=True)
class Entry:
    """A stored record and its place: `key` orders the zone's records (and names the stored row)."""

    key: int
    record: Record


@dataclass(frozen=True)
class Line:
    """One item of the zone file: a comment, a control line (`$TTL`), or a record (the SOA spans several lines)."""

    index: int
    kind: str  # comment | control | record
    text: str = ""
    entry: Entry | None = None
    count: int = 1  # how many lines it takes

    @property
    def record(self) -> Record:
        assert self.entry is not None
        return self.entry.record


@dataclass(frozen=True)
class Zone:
    """A zone's SOA and records, in file order."""

    name: str
    soa: Entry
    entries: tuple[Entry, ...]

    @property
    def serial(self) -> int:
        return int(self.soa.record.fields[2])

    def lines(self) -> list[Line]:
        return [
            Line(0, "comment", f"{HEADER} zone:{self.name}"),
            Line(1, "comment", f"; Zone file for {self.name}"),
            Line(2, "control", f"$TTL {ZONE_TTL}"),
            Line(SOA_LINE, "record", entry=self.soa, count=FIRST_LINE - SOA_LINE),
            *(Line(FIRST_LINE + i, "record", entry=entry) for i, entry in enumerate(self.entries)),
        ]

    def records(self) -> Iterator[Line]:
        return (line for line in self.lines() if line.kind == "record")

    def entry_at(self, index: int) -> Entry:
        """The record whose first line is `index` (0-based); refuses the SOA and lines that hold no record."""
        if index == SOA_LINE:
            raise InvalidInput(
                "line",
                f"Line {index} is the zone's SOA record: it cannot be changed here (its serial moves by itself).",
            )
        position = index - FIRST_LINE
        if not 0 <= position < len(self.entries):
            raise InvalidInput("line", f"No record exists at line {index} in the “{self.name}” DNS zone.")
        return self.entries[position]

    def text(self) -> str:
        """The zone file (BIND syntax; what `fetchzones` splits into lines and `hostpanel dns export` prints)."""
        out: list[str] = []
        for line in self.lines():
            if line.kind != "record":
                out.append(line.text)
            elif line.record.type == "SOA":
                out.extend(_soa_lines(line.record))
            else:
                record = line.record
                out.append(f"{record.name}.\t{record.ttl}\tIN\t{record.type}\t{record.text}")
        return "\n".join(out) + "\n"


def _soa_lines(soa: Record) -> list[str]:
    mname, rname, *numbers = soa.fields
    pad = "\t" * 6
    return [
        f"{soa.name}.\t{soa.ttl}\tIN\tSOA\t{mname}\t{rname}\t(",
        *(f"{pad}{number} ;{label}" for number, label in zip(numbers, SOA_FIELDS, strict=True)),
        f"{pad})",
    ]


def next_serial(old: int, now: float) -> int:
    """cPanel's rule: today's `YYYYMMDD00` (UTC) if that is larger, else one more (wrapping as serials do)."""
    today = int(datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y%m%d") + "00")
    return today if today > old else (old + 1) % (MAX_SERIAL + 1)


def with_serial(soa: Record, serial: int) -> Record:
    fields = list(soa.fields)
    fields[2] = str(serial)
    zone = soa.name
    return Record.parse(zone, zone + ".", soa.ttl, "SOA", fields)


@dataclass(frozen=True)
class Change:
    """One change of a batch: a record added (`before` None), replaced, or removed (`after` None)."""

    before: Record | None
    after: Record | None
    key: int | None = None  # the stored record it replaces or removes

    @property
    def records(self) -> tuple[Record, ...]:
        return tuple(record for record in (self.before, self.after) if record is not None)


@dataclass(frozen=True)
class Plan:
    """What a batch does to a zone: its changes, and the records it leaves (SOA apart), in file order."""

    zone: Zone
    changes: tuple[Change, ...]
    result: tuple[Record, ...]


def plan(
    zone: Zone, adds: Sequence[Record] = (), edits: Sequence[tuple[int, Record]] = (), removes: Sequence[int] = ()
) -> Plan:
    """cPanel's batch: `edits` replace records in place, `removes` drop lines, `adds` go after the last line; all line
    numbers are those of the zone as it was read."""
    if not adds and not edits and not removes:
        raise InvalidInput("zone", "You must provide at least one change to the DNS zone.")
    seen: set[int] = set()
    for index in [index for index, _ in edits] + list(removes):
        if index in seen:
            raise InvalidInput(
                "line", f"You submitted multiple edits for line index {index}. Each line may be changed only once."
            )
        seen.add(index)
    replaced = {zone.entry_at(index).key: record for index, record in edits}
    removed = {zone.entry_at(index).key for index in removes}
    changes: list[Change] = []
    result: list[Record] = []
    for entry in zone.entries:
        if entry.key in removed:
            changes.append(Change(entry.record, None, entry.key))
        elif entry.key in replaced:
            changes.append(Change(entry.record, replaced[entry.key], entry.key))
            result.append(replaced[entry.key])
        else:
            result.append(entry.record)
    changes.extend(Change(None, record) for record in adds)
    result.extend(adds)
    return Plan(zone, tuple(changes), tuple(result))


def check(name: str, records: Sequence[Record], max_records: int) -> None:
    """The rules a whole zone must keep after any change: a size limit, an NS at the apex, no data beside a CNAME,
    no second SOA."""
    if len(records) + 1 > max_records:
        raise InvalidInput(
            "zone", f"A DNS zone may hold at most {max_records} records; this change would make it {len(records) + 1}."
        )
    by_name: dict[str, list[str]] = defaultdict(list)
    for record in records:
        if record.type == "SOA":
            raise InvalidInput("type", "Only one SOA record may exist in a DNS zone: the zone's own.")
        by_name[record.name].append(record.type)
    if "NS" not in by_name.get(name, []):
        raise InvalidInput("zone", "Every DNS zone must contain at least one “NS” record at its apex.")
    for owner, types in by_name.items():
        if "CNAME" in types and len(types) > 1:
            others = sorted(set(types) - {"CNAME"})
            if others:
                raise InvalidInput(
                    "type",
                    f"“{owner}” has a CNAME record, so it cannot have other records ({', '.join(others)}); a CNAME "
                    "must be the only record of its name.",
                )
            raise InvalidInput("type", f"“{owner}” may have only one CNAME record.")


@dataclass(frozen=True)
class ZoneTemplate:
    """What a new zone holds, from the server's settings: its nameservers and the addresses of its hosts."""

    nameservers: tuple[str, ...]  # absolute names without the final dot; empty: ns1.<zone> and ns2.<zone>
    ipv4: str
    ipv6: str | None

    def nameservers_of(self, zone: str) -> tuple[str, ...]:
        return self.nameservers or (f"ns1.{zone}", f"ns2.{zone}")

    def with_nameservers(self, names: tuple[str, ...]) -> ZoneTemplate:
        """This template naming `names` (a reseller's own nameservers) instead of the server's; itself if none."""
        return replace(self, nameservers=names) if names else self


def default_zone(zone: str, template: ZoneTemplate, serial: int) -> tuple[Record, list[Record]]:
    """A new zone as cPanel makes one: SOA, NS, A/AAAA for the apex, www and mail (and glue for in-zone
    nameservers), MX to mail, and an SPF TXT record."""
    nameservers = template.nameservers_of(zone)
    apex = zone + "."
    soa = Record.parse(
        zone,
        apex,
        SOA_TTL,
        "SOA",
        [nameservers[0] + ".", f"hostmaster.{zone}.", str(serial), "3600", "1800", "1209600", "86400"],
    )
    records = [Record.parse(zone, apex, SOA_TTL, "NS", [server + "."]) for server in nameservers]
    hosts = [server for server in nameservers if server.endswith("." + zone)] + [zone, f"www.{zone}", f"mail.{zone}"]
    for host in hosts:
        records.append(Record.parse(zone, host + ".", ZONE_TTL, "A", [template.ipv4]))
        if template.ipv6:
            records.append(Record.parse(zone, host + ".", ZONE_TTL, "AAAA", [template.ipv6]))
    records.append(Record.parse(zone, apex, ZONE_TTL, "MX", ["0", f"mail.{zone}."]))
    records.append(Record.parse(zone, apex, ZONE_TTL, "TXT", ["v=spf1 +a +mx ~all"]))
    return soa, records


def parse_text(zone: str, text: str) -> tuple[Record | None, list[Record]]:
    """Records from a zone file (BIND syntax, via dnspython), each held to the same rules as one made by hand; the
    SOA apart (None if the file has none)."""
    if len(text.encode()) > MAX_ZONE_TEXT:
        raise InvalidInput("file", f"A zone file may be at most {MAX_ZONE_TEXT >> 20} MB.")
    parsed = dns.zone.Zone(zone + ".", relativize=False)
    tokens = dns.tokenizer.Tokenizer(text, "<zone file>")
    try:
        with parsed.writer(True) as transaction:
            reader = dns.zonefile.Reader(tokens, dns.rdataclass.IN, transaction, allow_directives=True)
            # dnspython's reader skips names outside the zone without a word; let them reach the zone, which
            # refuses them (KeyError), so a file is never imported short of some of its records.
            reader.zone_origin = dns.name.root
            reader.read()
    except KeyError:
        raise InvalidInput(
            "file", f"The zone file names something outside the zone {zone} (line {tokens.line_number})."
        ) from None
    except (dns.exception.DNSException, UnicodeError, ValueError) as error:
        where = _LINE.sub(lambda match: f"line {match.group(1)}:", str(error))
        raise InvalidInput("file", f"The zone file cannot be read: {shown(where, 200)}") from None
    soa: Record | None = None
    records: list[Record] = []
    for owner, rdataset in parsed.iterate_rdatasets():
        name = owner.to_text()
        for rdata in rdataset:
            found = Record(owner.to_text(omit_final_dot=True).lower(), rdataset.ttl, rdata)
            if found.type not in TYPES:
                raise InvalidInput("file", f"“{name}” has a {found.type} record: this server keeps {', '.join(TYPES)}.")
            record = Record.parse(zone, name, rdataset.ttl, found.type, found.fields)
            if record.type == "SOA":
                soa = record
            else:
                records.append(record)
    return soa, records
