"""The zone editor's service: an account's zones read and edited, for one principal, for every interface.

Each edit is one transaction of its own: it locks the zone (edits of one zone take turns, so two batches made
against the same serial get one success and one `Stale`), checks the serial if one was given, judges the whole
batch (the account's zone-editor features, the token's `dns_names` and `dns_types`, the zone's rules), asks the
nameserver whether it serves the zone as stored, writes the changes and the bumped SOA with their audit record, and
commits. Then it waits (briefly) until the nameserver answers with the new serial: an edit is acknowledged only once
it is published. A nameserver that does not answer refuses the edit before anything is written; one that stops
between the commit and the check leaves a saved change that is served when it is back, and the caller is told so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.records import Record, relative
from hostpanel.domain.dns.zone import Change, Plan, Zone, check, next_serial, parse_text, plan, with_serial
from hostpanel.domain.errors import HostpanelError, InvalidInput, NotFound, PermissionDenied, RestrictionDenied
from hostpanel.domain.permissions import Feature
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens.restrictions import DnsNames, DnsTypes

# The types each zone-editor feature lets an account change (cPanel's split); NS only through API 2.
FEATURE_TYPES: dict[Feature, frozenset[str]] = {
    Feature.ZONEEDIT: frozenset({"A", "AAAA", "CAA", "CNAME", "SRV", "TXT"}),
    Feature.SIMPLEZONEEDIT: frozenset({"A", "CNAME"}),
    Feature.CHANGEMX: frozenset({"MX"}),
}
PUBLISH_WAIT = 3.0  # seconds an edit waits for the nameserver to answer with its serial
MAX_SHOWN_CHANGES = 20


class Nameserver(Protocol):
    """The nameserver serving the zones, as the panel checks it."""

    @property
    def address(self) -> str: ...

    def serial(self, zone: str) -> int | None:
        """The SOA serial it answers for `zone` with authority now; None when it gives no such answer."""
        ...


class StaleZone(HostpanelError):
    """The zone changed since the caller read it (its serial is not the one given)."""


class NotPublished(HostpanelError):
    """The nameserver did not serve the zone as the panel holds it: before an edit (nothing changed), or after its
    commit (saved, and served once the nameserver is back)."""


def owns(zones: Sequence[str], name: str) -> str:
    """`name` as one of `zones` (case and a final dot forgiven); else cPanel's answer for a zone not the caller's."""
    wanted = name.strip().lower().removesuffix(".")
    if wanted not in zones:
        raise NotFound(f"You do not control a DNS zone named “{name.strip()[:253]}”.")
    return wanted


def _newer_or_same(served: int, serial: int) -> bool:
    """RFC 1982 serial arithmetic: `served` is `serial` or a later one."""
    return (served - serial) % (1 << 32) < (1 << 31)


class DnsService:
    """An account's zones for one principal: read in the request's transaction, edited in transactions of their
    own (each then confirmed with the nameserver)."""

    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        begin: Callable[[bool], UnitOfWork],
        audit: Callable[[UnitOfWork], AuditLog],
        clock: Clock,
        nameserver: Nameserver | None,
        max_records: int,
    ) -> None:
        """`nameserver` None: edits are not checked against a nameserver (the CLI's `--offline`)."""
        self._uow = uow
        self._principal = principal
        self._begin = begin
        self._audit = audit
        self._clock = clock
        self._nameserver = nameserver
        self._max_records = max_records

    # Reading

    def domains(self) -> list[str]:
        """The account's domains, its main (first) domain first."""
        return self._uow.accounts.domains(self._principal.account.id)

    def zones(self) -> list[str]:
        return self._uow.zones.names(self._principal.account.id)

    def owned(self, name: str) -> str:
        """`name` as one of the account's zones (without reading its records); NotFound if it is not one."""
        return owns(self.zones(), name)

    def zone(self, name: str) -> Zone:
        found = self._uow.zones.get(self.owned(name))
        if found is None:
            raise NotFound(f"You do not control a DNS zone named “{name}”.")
        return found

    # Editing

    def mass_edit(
        self,
        zone: str,
        serial: str,
        adds: Sequence[Record] = (),
        edits: Sequence[tuple[int, Record]] = (),
        removes: Sequence[int] = (),
    ) -> int:
        """cPanel's `mass_edit_zone`: a batch against the serial the caller read; applied whole or not at all."""
        return self._write(zone, lambda found: plan(found, adds, edits, removes), serial)

    def add(self, zone: str, record: Record, *, allow_ns: bool = False) -> int:
        """One record after the zone's last line (API 2 carries no serial: the zone's lock orders the calls)."""
        return self._write(zone, lambda found: plan(found, adds=(record,)), allow_ns=allow_ns)

    def edit(self, zone: str, line: int, record: Record, serial: str | None = None, *, allow_ns: bool = False) -> int:
        return self._write(zone, lambda found: plan(found, edits=((line, record),)), serial, allow_ns=allow_ns)

    def remove(self, zone: str, line: int, *, allow_ns: bool = False) -> int:
        return self._write(zone, lambda found: plan(found, removes=(line,)), allow_ns=allow_ns)

    def replace(self, zone: str, text: str) -> int:
        """Every record but the SOA replaced by those of a zone file (import, restore); the SOA's serial moves on
        from the zone's own."""
        soa, records = parse_text(zone, text)

        def build(found: Zone) -> Plan:
            removed = [Change(entry.record, None, entry.key) for entry in found.entries]
            added = [Change(None, record) for record in records]
            return Plan(found, (*removed, *added), tuple(records))

        return self._write(zone, build, allow_ns=True, replace_soa=soa)  # a whole zone has its NS records

    def _write(
        self,
        name: str,
        build: Callable[[Zone], Plan],
        serial: str | None = None,
        *,
        allow_ns: bool = False,
        replace_soa: Record | None = None,
    ) -> int:
        with self._begin(True) as uow:
            zone_name, new_serial = self.stage(uow, name, build, serial, allow_ns=allow_ns, replace_soa=replace_soa)
            uow.commit()
        self.confirm(zone_name, new_serial)
        return new_serial

    def stage(
        self,
        uow: UnitOfWork,
        name: str,
        build: Callable[[Zone], Plan],
        serial: str | None = None,
        *,
        allow_ns: bool = False,
        replace_soa: Record | None = None,
        authorise: bool = True,
    ) -> tuple[str, int]:
        """An edit inside the caller's transaction (which commits it, then calls `confirm`): the zone's name and
        new serial. `authorise=False` for records the panel makes itself with a site (cPanel's subdomain A record),
        which the account's zone-editor features and the token's DNS restrictions do not govern."""
        zone = uow.zones.get(owns(uow.zones.names(self._principal.account.id), name), lock=True)
        if zone is None:
            raise NotFound(f"You do not control a DNS zone named “{name}”.")
        if serial is not None and serial.strip() != str(zone.serial):
            raise StaleZone(
                f"The given serial number ({serial.strip()[:20]}) does not match the DNS zone’s serial number "
                f"({zone.serial}). Refresh your view of the DNS zone, then resubmit."
            )
        batch = build(zone)
        if authorise:
            self._authorise(zone, batch.changes, allow_ns)
        check(zone.name, batch.result, self._max_records)
        self._check_served(zone)
        new_serial = next_serial(zone.serial, self._clock.now())
        soa = with_serial(replace_soa or zone.soa.record, new_serial)
        uow.zones.apply(zone, batch.changes, soa)
        self._record(uow, zone.name, new_serial, batch.changes)
        return zone.name, new_serial

    def _authorise(self, zone: Zone, changes: Sequence[Change], allow_ns: bool) -> None:
        """The account's features (which types it may change; the administrator may change any) and the token's
        DNS restrictions, on every record a change touches: before and after."""
        principal = self._principal
        touched = [record for change in changes for record in change.records]
        if principal.method != AuthMethod.ADMIN:
            _check_features(principal.account.disabled_features, {record.type for record in touched}, allow_ns)
        names, types = principal.restrictions.get(DnsNames), principal.restrictions.get(DnsTypes)
        for record in touched:
            if names is not None and not names.allows(relative(record.name, zone.name)):
                raise RestrictionDenied(
                    f"This API token may only change DNS records named {', '.join(names.names)} (restriction "
                    f"“{names.key}”); “{record.name}” is not one of them, so nothing was changed.",
                    names.key,
                    detail=f"{record.type} {record.name}",
                )
            if types is not None and not types.allows(record.type):
                raise RestrictionDenied(
                    f"This API token may only change {', '.join(types.types)} records (restriction “{types.key}”): "
                    f"the {record.type} record of {record.name} is not one, so nothing was changed.",
                    types.key,
                    detail=f"{record.type} {record.name}",
                )

    def _check_served(self, zone: Zone) -> None:
        nameserver = self._nameserver
        if nameserver is None:
            return
        served = nameserver.serial(zone.name)
        if served is None:
            raise NotPublished(
                f"The nameserver ({nameserver.address}) does not answer for “{zone.name}”, so nothing was changed. "
                "Try again shortly."
            )
        if served != zone.serial:
            raise NotPublished(
                f"The nameserver ({nameserver.address}) serves “{zone.name}” with serial {served}, not {zone.serial}: "
                "it is not serving this panel's zones, so nothing was changed."
            )

    def confirm(self, zone: str, serial: int) -> None:
        """Wait until the nameserver serves `serial` (after the commit of a staged edit)."""
        nameserver = self._nameserver
        if nameserver is None:
            return
        deadline = time.monotonic() + PUBLISH_WAIT
        delay = 0.005
        while True:
            served = nameserver.serial(zone)
            if served is not None and _newer_or_same(served, serial):
                return
            if time.monotonic() >= deadline:
                raise NotPublished(
                    f"The change was saved (serial {serial}), but the nameserver ({nameserver.address}) has not "
                    "confirmed it; it will answer with it as soon as it is back."
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _record(self, uow: UnitOfWork, zone: str, serial: int, changes: Sequence[Change]) -> None:
        details: dict[str, DetailValue] = {"serial": serial}
        for key, kind in (("added", (False, True)), ("changed", (True, True)), ("removed", (True, False))):
            shown = [
                _describe(change) for change in changes if (change.before is not None, change.after is not None) == kind
            ]
            if shown:
                details[key] = shown[:MAX_SHOWN_CHANGES] + (
                    [f"… and {len(shown) - MAX_SHOWN_CHANGES} more"] if len(shown) > MAX_SHOWN_CHANGES else []
                )
        admin = self._principal.method == AuthMethod.ADMIN
        action = AuditAction.ADMIN_DNS_EDIT if admin else AuditAction.ACCOUNT_DNS_EDIT
        self._audit(uow).record_by(self._principal, action, target=zone, details=details)


def _describe(change: Change) -> str:
    record = change.after or change.before
    assert record is not None
    return f"{record.type} {record.name}"


def editable_types(disabled_features: frozenset[str], allow_ns: bool = False) -> frozenset[str]:
    """The record types an account may change with the zone-editor features it has."""
    types: set[str] = set()
    for feature, kinds in FEATURE_TYPES.items():
        if feature.value not in disabled_features:
            types |= kinds
    if allow_ns and Feature.ZONEEDIT.value not in disabled_features:
        types.add("NS")
    return frozenset(types)


def _check_features(disabled_features: frozenset[str], kinds: set[str], allow_ns: bool) -> None:
    allowed = editable_types(disabled_features, allow_ns)
    for kind in sorted(kinds - allowed):
        grantor = next((feature for feature, types in FEATURE_TYPES.items() if kind in types), None)
        if grantor is None and kind == "NS" and allow_ns:
            grantor = Feature.ZONEEDIT
        if grantor is not None:
            raise PermissionDenied(f"You do not have the feature “{grantor}”.", missing=grantor.value)
        possible = sorted(set().union(*FEATURE_TYPES.values()) | ({"NS"} if allow_ns else set()))
        raise InvalidInput(
            "type",
            f"This interface cannot create or change “{kind}” records. It can only change "
            f"{', '.join(possible[:-1])}, and {possible[-1]} records.",
        )
