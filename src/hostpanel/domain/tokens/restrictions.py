"""Restrictions: what narrows a token beyond its scopes.

Each restriction is a small frozen object of one kind, named by its `key` (its tag in storage and its field in token
records). A token carries at most one restriction of each kind; a kind it does not carry does not limit it.
Restrictions only narrow: a token may mint another token only if the new one keeps every restriction it has itself,
at least as tight (`Restrictions.uncovered`).

Each kind is enforced in exactly one place:
- `whitelist_ips`: at authentication (tokens/authenticate.py); a refused address is an ordinary 401;
- `read_only`: in the authorisation rule (permissions.check_access);
- `fileman_paths`: in Fileman's confinement point (files/jail.py);
- `email_domains`: in the mail service's domain check (mail/service.py);
- `dns_names`, `dns_types`: in the DNS service, on every record a change adds, replaces or removes
  (dns/service.py); reading a zone stays allowed, since clients read it to find their records and its serial.

Adding a kind (say a per-token rate limit) is additive: a class with `key`, `covers`, `to_json`, `from_json`,
`public` and `describe`; an entry in KINDS; its one enforcement point; its argument in `Tokens::create`. Tokens stored
before it existed lack the key, so they are not limited by it. A stored kind this server does not know (written by a
newer version) is kept as `UnknownRestriction`, which refuses every call: a restriction is never silently dropped.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

from hostpanel.domain.accounts.names import validate_domain
from hostpanel.domain.addresses import parse_ip
from hostpanel.domain.dns.records import LABEL, TYPES, shown
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.files.paths import HomePath, parse_relative

MAX_ENTRIES = 100  # WHM's limit for IP allowlists, used for every list
CHALLENGE_NAME = "_acme-challenge"  # what ACME's DNS-01 challenges are named (RFC 8555 §8.4), under each name

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
JsonValue = Any


class Restriction(Protocol):
    """One kind of restriction on a token: how it is stored, shown, and compared with a narrower one."""

    @property
    def key(self) -> str:
        """The kind's tag in storage and its field in token records."""
        ...

    def covers(self, narrower: Restriction) -> bool:
        """True when `narrower` (a restriction of the same kind) allows nothing that self forbids."""
        ...

    def to_json(self) -> JsonValue: ...

    def public(self) -> JsonValue:
        """The value shown in token records (`Tokens::list`, the CLI)."""
        ...

    def describe(self) -> str:
        """One line for messages and the audit trail."""
        ...


def _limited(values: list[str], field: str, noun: str = "values") -> list[str]:
    if len(values) > MAX_ENTRIES:
        raise InvalidInput(
            field, f"You have entered “{len(values)}” {noun}, which is above the limit of {MAX_ENTRIES}."
        )
    return values


@dataclass(frozen=True)
class FilemanPaths:
    """Fileman (and restores) may only touch these folders of the home and what is below them."""

    key: ClassVar[str] = "fileman_paths"
    paths: tuple[HomePath, ...]

    @classmethod
    def parse(cls, texts: Iterable[str], field: str = "fileman_path") -> FilemanPaths:
        paths = []
        for text in _limited(list(texts), field):
            if text.startswith("/"):
                raise InvalidInput(field, f"Give “{text}” relative to the home directory, e.g. public_html/app.")
            path = parse_relative(text, field)
            if path.is_home:
                raise InvalidInput(field, f"“{text}” is the whole home directory: leave out “{field}” instead.")
            paths.append(path)
        return cls._of(paths)

    @classmethod
    def _of(cls, paths: Iterable[HomePath]) -> FilemanPaths:
        # Keep the outermost of nested paths: `a` already allows `a/b`.
        kept: list[HomePath] = []
        for path in sorted(set(paths)):
            if not any(path.is_within(outer) for outer in kept):
                kept.append(path)
        return cls(tuple(kept))

    def allows(self, path: HomePath) -> bool:
        return any(path.is_within(allowed) for allowed in self.paths)

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, FilemanPaths) and all(self.allows(path) for path in narrower.paths)

    def to_json(self) -> JsonValue:
        return [path.relative for path in self.paths]

    @classmethod
    def from_json(cls, value: JsonValue) -> FilemanPaths:
        return cls._of(parse_relative(str(text), cls.key) for text in value)

    def public(self) -> JsonValue:
        return self.to_json()

    def describe(self) -> str:
        return f"{self.key}={','.join(path.relative for path in self.paths)}"


@dataclass(frozen=True)
class EmailDomains:
    """Email functions may only see and change mailboxes and forwarders of these domains."""

    key: ClassVar[str] = "email_domains"
    domains: tuple[str, ...]

    @classmethod
    def parse(cls, texts: Iterable[str], field: str = "email_domain") -> EmailDomains:
        domains = [validate_domain(text) for text in _limited(list(texts), field)]
        return cls(tuple(sorted(set(domains))))

    def allows(self, domain: str) -> bool:
        return domain.lower() in self.domains

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, EmailDomains) and set(narrower.domains) <= set(self.domains)

    def to_json(self) -> JsonValue:
        return list(self.domains)

    @classmethod
    def from_json(cls, value: JsonValue) -> EmailDomains:
        return cls(tuple(sorted({str(domain) for domain in value})))

    def public(self) -> JsonValue:
        return self.to_json()

    def describe(self) -> str:
        return f"{self.key}={','.join(self.domains)}"


@dataclass(frozen=True)
class DnsNames:
    """DNS changes may only touch records with these names. A name is relative to the zone, and allows itself at
    the zone's apex and below any subdomain: `_acme-challenge` allows `_acme-challenge.<zone>` and
    `_acme-challenge.<any subdomain>.<zone>` (the names ACME's DNS-01 challenges use), nothing else."""

    key: ClassVar[str] = "dns_names"
    names: tuple[str, ...]

    @classmethod
    def parse(cls, texts: Iterable[str], field: str = "dns_name") -> DnsNames:
        names = []
        for text in _limited(list(texts), field, "names"):
            name = text.strip().lower().rstrip(".")
            if not name or not all(LABEL.fullmatch(label) for label in name.split(".")) or len(name) > 253:
                raise InvalidInput(
                    field,
                    f"“{shown(text)}” is not a record name relative to the zone (such as _acme-challenge); the apex, "
                    "wildcards and absolute names cannot be given.",
                )
            names.append(name)
        return cls._of(names)

    @classmethod
    def _of(cls, names: Iterable[str]) -> DnsNames:
        kept: list[str] = []
        for name in sorted(set(names), key=lambda name: (name.count("."), name)):
            if not any(_name_within(name, outer) for outer in kept):  # `a` already allows `a.b`
                kept.append(name)
        return cls(tuple(sorted(kept)))

    def allows(self, relative: str) -> bool:
        """`relative`: the record's name relative to its zone (`@` for the apex, which no entry allows)."""
        return any(_name_within(relative, name) for name in self.names)

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, DnsNames) and all(self.allows(name) for name in narrower.names)

    def to_json(self) -> JsonValue:
        return list(self.names)

    @classmethod
    def from_json(cls, value: JsonValue) -> DnsNames:
        return cls._of(str(name) for name in value)

    def public(self) -> JsonValue:
        return self.to_json()

    def describe(self) -> str:
        return f"{self.key}={','.join(self.names)}"


def _name_within(relative: str, allowed: str) -> bool:
    return relative == allowed or relative.startswith(allowed + ".")


@dataclass(frozen=True)
class DnsTypes:
    """DNS changes may only touch records of these types (e.g. only TXT)."""

    key: ClassVar[str] = "dns_types"
    types: tuple[str, ...]

    @classmethod
    def parse(cls, texts: Iterable[str], field: str = "dns_type") -> DnsTypes:
        types = []
        for text in _limited(list(texts), field, "types"):
            kind = text.strip().upper()
            if kind not in TYPES or kind == "SOA":
                known = ", ".join(kind for kind in TYPES if kind != "SOA")
                raise InvalidInput(field, f"“{shown(text)}” is not a record type that can be changed ({known}).")
            types.append(kind)
        return cls(tuple(sorted(set(types))))

    def allows(self, kind: str) -> bool:
        return kind in self.types

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, DnsTypes) and set(narrower.types) <= set(self.types)

    def to_json(self) -> JsonValue:
        return list(self.types)

    @classmethod
    def from_json(cls, value: JsonValue) -> DnsTypes:
        return cls(tuple(sorted({str(kind).upper() for kind in value})))

    def public(self) -> JsonValue:
        return self.to_json()

    def describe(self) -> str:
        return f"{self.key}={','.join(self.types)}"


def _network_text(network: Network) -> str:
    """WHM's normal form: single addresses without /32 or /128, IPv6 written out in full."""
    address = network.network_address.exploded
    return address if network.num_addresses == 1 else f"{address}/{network.prefixlen}"


@dataclass(frozen=True)
class IpAllowlist:
    """Requests must come from one of these addresses or CIDR ranges (IPv4 or IPv6)."""

    key: ClassVar[str] = "whitelist_ips"
    networks: tuple[Network, ...]

    @classmethod
    def parse(cls, texts: Iterable[str], field: str = "whitelist_ip") -> IpAllowlist:
        networks = []
        for text in _limited(list(texts), field, "IP addresses"):
            try:
                networks.append(ipaddress.ip_network(text.strip(), strict=False))
            except ValueError:
                raise InvalidInput(field, f"Invalid IP address or CIDR range specified: {text}") from None
        return cls._of(networks)

    @classmethod
    def _of(cls, networks: Iterable[Network]) -> IpAllowlist:
        unique = set(networks)
        return cls(tuple(sorted(unique, key=lambda n: (n.version, n.network_address, n.prefixlen))))

    def allows(self, ip: str | None) -> bool:
        address = parse_ip(ip)
        return address is not None and any(address in network for network in self.networks)

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, IpAllowlist) and all(
            any(inner.version == outer.version and inner.subnet_of(outer) for outer in self.networks)  # type: ignore[arg-type]
            for inner in narrower.networks
        )

    def to_json(self) -> JsonValue:
        return [_network_text(network) for network in self.networks]

    @classmethod
    def from_json(cls, value: JsonValue) -> IpAllowlist:
        return cls._of(ipaddress.ip_network(str(text), strict=False) for text in value)

    def public(self) -> JsonValue:
        return self.to_json()

    def describe(self) -> str:
        return f"{self.key}={','.join(self.to_json())}"


@dataclass(frozen=True)
class ReadOnly:
    """Only functions that need a `:read` scope; every write is refused, whatever the scopes say."""

    key: ClassVar[str] = "read_only"

    def covers(self, narrower: Restriction) -> bool:
        return isinstance(narrower, ReadOnly)

    def to_json(self) -> JsonValue:
        return True

    @classmethod
    def from_json(cls, _value: JsonValue) -> ReadOnly:
        return cls()

    def public(self) -> JsonValue:
        return 1

    def describe(self) -> str:
        return self.key


@dataclass(frozen=True)
class UnknownRestriction:
    """A stored restriction this server cannot interpret: it covers nothing and every call is refused."""

    key: str
    value: JsonValue

    def covers(self, _narrower: Restriction) -> bool:
        return False

    def to_json(self) -> JsonValue:
        return self.value

    def public(self) -> JsonValue:
        return self.value

    def describe(self) -> str:
        return self.key


# The kinds this server knows, by storage key, in the order records show them.
KINDS: dict[str, Callable[[JsonValue], Restriction]] = {
    FilemanPaths.key: FilemanPaths.from_json,
    EmailDomains.key: EmailDomains.from_json,
    IpAllowlist.key: IpAllowlist.from_json,
    ReadOnly.key: ReadOnly.from_json,
    DnsNames.key: DnsNames.from_json,
    DnsTypes.key: DnsTypes.from_json,
}

R = TypeVar("R", FilemanPaths, EmailDomains, IpAllowlist, ReadOnly, DnsNames, DnsTypes)


@dataclass(frozen=True)
class Restrictions:
    """The restrictions of one token, at most one per kind; empty means "limited by its scopes only"."""

    items: tuple[Restriction, ...] = ()

    @classmethod
    def of(cls, *items: Restriction | None) -> Restrictions:
        by_key = {item.key: item for item in items if item is not None}
        return cls(tuple(by_key[key] for key in sorted(by_key)))

    @classmethod
    def parse(
        cls,
        *,
        fileman_paths: Iterable[str] = (),
        email_domains: Iterable[str] = (),
        whitelist_ips: Iterable[str] = (),
        read_only: bool = False,
        dns_names: Iterable[str] = (),
        dns_types: Iterable[str] = (),
    ) -> Restrictions:
        """Validate the arguments of `Tokens::create` (and the CLI); empty lists mean "no such restriction"."""
        paths, domains, addresses = list(fileman_paths), list(email_domains), list(whitelist_ips)
        names, types = list(dns_names), list(dns_types)
        return cls.of(
            FilemanPaths.parse(paths) if paths else None,
            EmailDomains.parse(domains) if domains else None,
            IpAllowlist.parse(addresses) if addresses else None,
            ReadOnly() if read_only else None,
            DnsNames.parse(names) if names else None,
            DnsTypes.parse(types) if types else None,
        )

    def get(self, kind: type[R]) -> R | None:
        for item in self.items:
            if isinstance(item, kind):
                return item
        return None

    def replaced(self, kind: type[R], item: R | None) -> Restrictions:
        """These restrictions with the one of `kind` replaced by `item` (None: dropped)."""
        return Restrictions.of(*(other for other in self.items if not isinstance(other, kind)), item)

    @property
    def read_only(self) -> bool:
        return self.get(ReadOnly) is not None

    @property
    def unknown(self) -> list[UnknownRestriction]:
        return [item for item in self.items if isinstance(item, UnknownRestriction)]

    def allows_address(self, ip: str | None) -> bool:
        allowlist = self.get(IpAllowlist)
        return allowlist is None or allowlist.allows(ip)

    def uncovered(self, other: Restrictions) -> Restriction | None:
        """The first of self's restrictions that `other` drops or loosens; None when self covers other."""
        theirs = {item.key: item for item in other.items}
        for item in self.items:
            narrower = theirs.get(item.key)
            if narrower is None or not item.covers(narrower):
                return item
        return None

    def covers(self, other: Restrictions) -> bool:
        return self.uncovered(other) is None

    def to_json(self) -> str:
        return json.dumps({item.key: item.to_json() for item in self.items}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Restrictions:
        stored = json.loads(text) if text else {}
        items: list[Restriction] = []
        for key, value in stored.items():
            reader = KINDS.get(key)
            try:
                items.append(reader(value) if reader else UnknownRestriction(key, value))
            except (InvalidInput, ValueError, TypeError):
                items.append(UnknownRestriction(key, value))  # unreadable: refuse everything rather than guess
        return cls.of(*items)

    def record(self) -> dict[str, JsonValue]:
        """The fields of a token record: every known kind (null or 0 when absent), then any unknown ones."""
        shown: dict[str, JsonValue] = dict.fromkeys(KINDS)
        shown[ReadOnly.key] = 0
        for item in self.items:
            shown[item.key] = item.public()
        return shown

    def describe(self) -> list[str]:
        return [item.describe() for item in self.items]


NO_RESTRICTIONS = Restrictions()
