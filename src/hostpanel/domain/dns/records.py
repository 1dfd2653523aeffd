"""DNS records as the zone editor takes and shows them: names, TTLs and cPanel's data fields, validated.

A record's name is absolute, lowercase and without the final dot (`www.alice.test`); its data are cPanel's fields,
one per RDATA field (`["10", "mail.alice.test."]` for an MX, each character-string of a TXT record). Input names
follow the zone file's rule: with a final dot a name is absolute, without one it is relative to the zone (`@` is
the zone's apex). Everything is checked here, before it can reach a zone: names are host names (letters, digits,
`-`, `_`, a leading `*` label), addresses are addresses, numbers are in range, and text holds no control
characters, so no input can forge a line of a zone file or a record of another zone.

dnspython holds the RDATA (and writes it in zone-file syntax); this module decides what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
from dns.rdtypes.ANY.CAA import CAA

from hostpanel.domain.errors import InvalidInput

# What a zone of this panel may hold; SOA is the panel's own (made with the zone, its serial bumped by each edit).
TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "NS", "SOA", "SRV", "TXT")
MAX_TTL = 2_147_483_647  # RFC 2181: TTLs are 31-bit
MAX_NAME = 253
MAX_STRING = 255  # one character-string of a TXT record, in bytes
MAX_TXT = 4000  # all strings of one TXT record, in bytes: what still fits a DNS answer with room to spare
MAX_CAA_VALUE = 1000
LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")
CAA_TAG = re.compile(r"[a-z0-9]{1,15}")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TOKEN = re.compile(r"[^\s\"';\\()]+")  # a field that is neither text nor quoted: no room for zone-file syntax


def shown(text: str, limit: int = 80) -> str:
    """Caller input as a message may echo it: bounded, control characters written as escapes."""
    cut = text[:limit] + ("…" if len(text) > limit else "")
    return CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), cut)


def _labels_ok(name: str, wildcard: bool) -> bool:
    labels = name.split(".")
    if wildcard and labels[0] == "*":
        labels = labels[1:]
    return bool(labels) and all(LABEL.fullmatch(label) for label in labels)


def owner_name(text: str, zone: str, field: str = "name") -> str:
    """A record's name from input: absolute with a final dot, else relative to `zone`; `@` is the apex. It must be a
    host name (a leading `*` label allowed) inside the zone."""
    value = text.strip()
    if not value:
        raise InvalidInput(field, "Give the record's name.")
    if value == "@":
        return zone
    name = value[:-1].lower() if value.endswith(".") else f"{value.lower()}.{zone}"
    if len(name) > MAX_NAME or not _labels_ok(name, wildcard=True):
        raise InvalidInput(field, f"“{shown(value)}” is not a valid DNS name.")
    if name != zone and not name.endswith("." + zone):
        raise InvalidInput(field, f"“{shown(value)}” is outside the current DNS zone: {zone}.")
    return name


def relative(name: str, zone: str) -> str:
    """A name of `zone` as the zone file writes it relative to its origin; `@` for the apex."""
    return "@" if name == zone else name.removesuffix("." + zone)


def target_name(text: str, zone: str, field: str = "data") -> str:
    """A name a record points at (CNAME, MX, NS, SRV): anywhere, absolute with a final dot, else relative to the
    zone; `.` alone is the root (a null MX or SRV). Returned absolute, with the final dot."""
    value = text.strip()
    if value == ".":
        return "."
    if not TOKEN.fullmatch(value or " "):
        raise InvalidInput(field, f"“{shown(value)}” is not a valid host name.")
    name = value[:-1].lower() if value.endswith(".") else f"{value.lower()}.{zone}"
    if len(name) > MAX_NAME or not _labels_ok(name, wildcard=False):
        raise InvalidInput(field, f"“{shown(value)}” is not a valid host name.")
    return name + "."


def parse_ttl(value: object, field: str = "ttl") -> int:
    """Digits only, from 1 to 2147483647 (cPanel keeps TTLs as given: ACME clients send 1, 60, 120, 300)."""
    text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 1 <= int(text) <= MAX_TTL:
        raise InvalidInput(
            field, f"Time-To-Live (TTL) values must be positive integers up to {MAX_TTL}, not “{shown(str(value))}”."
        )
    return int(text)


def _number(text: str, maximum: int, what: str) -> int:
    value = text.strip()
    if not value.isascii() or not value.isdigit() or len(value) > 10 or int(value) > maximum:
        raise InvalidInput("data", f"The {what} must be a whole number from 0 to {maximum}, not “{shown(text)}”.")
    return int(value)


def _text_strings(fields: Sequence[str]) -> list[bytes]:
    """TXT character-strings: printable text, each cut into pieces of at most 255 bytes (as cPanel splits them),
    at most 4000 bytes in all."""
    if not fields:
        raise InvalidInput("data", "A TXT record needs some text.")
    strings: list[bytes] = []
    for text in fields:
        if CONTROL.search(text):
            raise InvalidInput("data", "TXT data must not contain control characters (line breaks, tabs, NUL).")
        piece = ""
        for char in text:
            if len((piece + char).encode()) > MAX_STRING:
                strings.append(piece.encode())
                piece = ""
            piece += char
        strings.append(piece.encode())
    if sum(len(string) for string in strings) > MAX_TXT:
        raise InvalidInput("data", f"A TXT record may hold at most {MAX_TXT} bytes of text.")
    return strings


def _arity(kind: str, fields: Sequence[str], count: int, shape: str) -> None:
    if len(fields) != count:
        raise InvalidInput("data", f"A {kind} record takes {count} data field(s): {shape}.")


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _a(fields: Sequence[str], _zone: str) -> str:
    _arity("A", fields, 1, "an IPv4 address")
    return _address(fields[0], ipaddress.IPv4Address, "IPv4")


def _aaaa(fields: Sequence[str], _zone: str) -> str:
    _arity("AAAA", fields, 1, "an IPv6 address")
    return _address(fields[0], ipaddress.IPv6Address, "IPv6")


def _host_of(kind: str) -> Callable[[Sequence[str], str], str]:
    def host(fields: Sequence[str], zone: str) -> str:
        _arity(kind, fields, 1, "a host name")
        name = target_name(fields[0], zone)
        if name == ".":
            raise InvalidInput("data", f"A {kind} record must name a host, not the root.")
        return name

    return host


def _mx(fields: Sequence[str], zone: str) -> str:
    _arity("MX", fields, 2, "a preference and a mail server's name")
    return f"{_number(fields[0], 65535, 'MX preference')} {target_name(fields[1], zone)}"


def _srv(fields: Sequence[str], zone: str) -> str:
    _arity("SRV", fields, 4, "priority, weight, port and target")
    labels = ("priority", "weight", "port")
    numbers = [_number(value, 65535, what) for value, what in zip(fields[:3], labels, strict=True)]
    return " ".join(map(str, numbers)) + " " + target_name(fields[3], zone)


def _caa(fields: Sequence[str], _zone: str) -> str:
    _arity("CAA", fields, 3, "flag, tag and value")
    flag, tag, value = fields
    if not CAA_TAG.fullmatch(tag.strip().lower()):
        raise InvalidInput("data", f"“{shown(tag)}” is not a CAA tag (such as issue, issuewild or iodef).")
    if CONTROL.search(value) or not value or len(value.encode()) > MAX_CAA_VALUE:
        raise InvalidInput("data", "A CAA value must be printable text of 1 to 1000 bytes.")
    return f"{_number(flag, 255, 'CAA flag')} {tag.strip().lower()} {_quoted(value)}"


def _soa(fields: Sequence[str], zone: str) -> str:
    _arity("SOA", fields, 7, "primary nameserver, contact, serial, refresh, retry, expire and minimum")
    names = [target_name(value, zone) for value in fields[:2]]
    numbers = [str(_number(value, 4_294_967_295, "SOA timer")) for value in fields[2:]]
    return " ".join(names + numbers)


# Each type's data fields as RDATA text (TXT apart: its strings are taken as they are).
_BUILDERS: dict[str, Callable[[Sequence[str], str], str]] = {
    "A": _a,
    "AAAA": _aaaa,
    "CAA": _caa,
    "CNAME": _host_of("CNAME"),
    "MX": _mx,
    "NS": _host_of("NS"),
    "SOA": _soa,
    "SRV": _srv,
}


def _rdata(kind: str, fields: Sequence[str], zone: str) -> dns.rdata.Rdata:
    """The RDATA of a record of type `kind` from cPanel's data fields; refuses anything that is not exactly valid."""
    rdclass, rdtype = dns.rdataclass.IN, dns.rdatatype.from_text(kind)
    if kind == "TXT":
        return dns.rdtypes.ANY.TXT.TXT(rdclass, rdtype, _text_strings(fields))
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise InvalidInput("type", f"“{shown(kind)}” is not a record type this server keeps.")
    try:
        return dns.rdata.from_text(rdclass, rdtype, builder(fields, zone))
    except dns.exception.DNSException as error:  # a last check: what we wrote must be valid zone-file syntax
        raise InvalidInput("data", f"The {kind} record's data are not valid: {error}") from None


def _address(text: str, kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address], label: str) -> str:
    try:
        return kind(text.strip()).compressed
    except ValueError:
        raise InvalidInput("data", f"“{shown(text)}” is not a valid {label} address.") from None


def record_type(text: str) -> str:
    kind = text.strip().upper()
    if kind not in TYPES:
        raise InvalidInput("type", f"“{shown(text)}” is not a record type this server keeps ({', '.join(TYPES)}).")
    return kind


@dataclass(frozen=True)
class Record:
    """One resource record: absolute name (no final dot), TTL, and RDATA; `type` and `fields` are derived."""

    name: str
    ttl: int
    rdata: dns.rdata.Rdata

    @classmethod
    def parse(cls, zone: str, name: str, ttl: object, kind: str, fields: Sequence[str]) -> Record:
        """A record of `zone` from input, every part checked (see the module's rules)."""
        checked_type = record_type(kind)
        owner = owner_name(name, zone)
        return cls(owner, parse_ttl(ttl), _rdata(checked_type, [str(field) for field in fields], zone))

    @property
    def type(self) -> str:
        return dns.rdatatype.to_text(self.rdata.rdtype)

    @property
    def fields(self) -> tuple[str, ...]:
        """cPanel's data fields: character-strings as text, names absolute with the final dot, numbers as digits."""
        rdata = self.rdata
        if isinstance(rdata, dns.rdtypes.ANY.TXT.TXT):
            return tuple(string.decode("utf-8", "replace") for string in rdata.strings)
        if isinstance(rdata, CAA):
            return str(rdata.flags), rdata.tag.decode(), rdata.value.decode("utf-8", "replace")
        return tuple(rdata.to_text().split())

    @property
    def text(self) -> str:
        """The RDATA in zone-file syntax (quoted and escaped where needed; names absolute)."""
        return self.rdata.to_text()

    def with_ttl(self, ttl: int) -> Record:
        return Record(self.name, ttl, self.rdata)

    def same_data(self, other: Record) -> bool:
        return self.name == other.name and self.rdata == other.rdata
