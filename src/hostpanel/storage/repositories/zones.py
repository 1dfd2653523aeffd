"""DNS zones in PowerDNS's tables, as the nameserver reads them.

PowerDNS wants names lowercase without the final dot, TXT and CAA content in zone-file syntax, the MX and SRV
priority in `prio` and the rest of their data in `content`, and host names in content without the final dot. A row
keeps its id when edited, so ordering by id gives the zone file's line order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.ANY.CNAME import CNAME
from dns.rdtypes.ANY.MX import MX
from dns.rdtypes.ANY.NS import NS
from dns.rdtypes.ANY.SOA import SOA
from dns.rdtypes.IN.SRV import SRV
from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.zone import Change, Entry, Zone
from hostpanel.domain.errors import Conflict
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import account_domains, pdns_domains, pdns_records

KIND = "MASTER"  # transferred to the secondaries, and notified to them on change


def _host(name: dns.name.Name) -> str:
    return name.to_text(omit_final_dot=True) or "."


def content(record: Record) -> tuple[str, int]:
    """The row's `content` and `prio` for a record."""
    rdata = record.rdata
    if isinstance(rdata, MX):
        return _host(rdata.exchange), rdata.preference
    if isinstance(rdata, SRV):
        return f"{rdata.weight} {rdata.port} {_host(rdata.target)}", rdata.priority
    if isinstance(rdata, CNAME | NS):
        return _host(rdata.target), 0
    if isinstance(rdata, SOA):
        return f"{_host(rdata.mname)} {_host(rdata.rname)} {' '.join(record.fields[2:])}", 0
    return rdata.to_text(), 0


def record(row: Row[Any]) -> Record:
    """A record from its row (the nameserver's syntax read back with the root as origin)."""
    kind = dns.rdatatype.from_text(row.type)
    text = f"{row.prio} {row.content}" if kind in (dns.rdatatype.MX, dns.rdatatype.SRV) else row.content
    rdata = dns.rdata.from_text(dns.rdataclass.IN, kind, text, origin=dns.name.root, relativize=False)
    return Record(row.name, row.ttl, rdata)


class SqlZoneRepository:
    """The zone repository on a database connection (see `ports.ZoneRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def create(self, name: str, soa: Record, records: Sequence[Record]) -> None:
        try:
            zone_id = self._c.execute(
                insert(pdns_domains).values(name=name, type=KIND).returning(pdns_domains.c.id)
            ).scalar_one()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"A DNS zone named “{name}” already exists.") from None
            raise
        self._insert(zone_id, [soa, *records])

    def _insert(self, zone_id: int, records: Sequence[Record]) -> None:
        if not records:
            return
        rows = []
        for item in records:
            text, prio = content(item)
            rows.append({
                "domain_id": zone_id, "name": item.name, "type": item.type, "content": text, "ttl": item.ttl,
                "prio": prio, "disabled": False, "auth": True,
            })  # fmt: skip
        self._c.execute(insert(pdns_records), rows)

    def delete(self, name: str) -> bool:
        zone_id = self._id(name)
        if zone_id is None:
            return False
        # Explicitly: SQLite enforces ON DELETE CASCADE only where foreign keys are on, and orphaned rows would
        # still be served.
        self._c.execute(delete(pdns_records).where(pdns_records.c.domain_id == zone_id))
        self._c.execute(delete(pdns_domains).where(pdns_domains.c.id == zone_id))
        return True

    def _id(self, name: str, lock: bool = False) -> int | None:
        query = select(pdns_domains.c.id).where(pdns_domains.c.name == name)
        if lock:
            query = query.with_for_update()
        row = self._c.execute(query).first()
        return row.id if row else None

    def get(self, name: str, lock: bool = False) -> Zone | None:
        zone_id = self._id(name, lock)
        if zone_id is None:
            return None
        rows = self._c.execute(
            select(pdns_records).where(pdns_records.c.domain_id == zone_id).order_by(pdns_records.c.id)
        ).all()
        soa: Entry | None = None
        entries: list[Entry] = []
        for row in rows:
            entry = Entry(row.id, record(row))
            if row.type == "SOA" and soa is None:
                soa = entry
            else:
                entries.append(entry)
        if soa is None:
            return None  # a zone without an SOA is not served: not one of the panel's
        return Zone(name, soa, tuple(entries))

    def names(self, account_id: int) -> list[str]:
        query = (
            select(pdns_domains.c.name)
            .join(account_domains, account_domains.c.domain == pdns_domains.c.name)
            .where(account_domains.c.account_id == account_id)
            .order_by(pdns_domains.c.name)
        )
        return list(self._c.execute(query).scalars())

    def owner(self, name: str) -> int | None:
        query = (
            select(account_domains.c.account_id)
            .join(pdns_domains, account_domains.c.domain == pdns_domains.c.name)
            .where(pdns_domains.c.name == name)
        )
        return self._c.execute(query).scalar()

    def missing(self) -> list[str]:
        query = (
            select(account_domains.c.domain)
            .outerjoin(pdns_domains, pdns_domains.c.name == account_domains.c.domain)
            .where(pdns_domains.c.id.is_(None))
            .order_by(account_domains.c.id)
        )
        return list(self._c.execute(query).scalars())

    def apply(self, zone: Zone, changes: Sequence[Change], soa: Record) -> None:
        zone_id = self._id(zone.name)
        assert zone_id is not None
        for change in changes:
            if change.key is None:
                continue
            if change.after is None:
                self._c.execute(delete(pdns_records).where(pdns_records.c.id == change.key))
            else:
                text, prio = content(change.after)
                self._c.execute(
                    update(pdns_records)
                    .where(pdns_records.c.id == change.key)
                    .values(
                        name=change.after.name, type=change.after.type, content=text, ttl=change.after.ttl, prio=prio
                    )
                )
        self._insert(zone_id, [change.after for change in changes if change.key is None and change.after is not None])
        self._set_soa(zone, soa)

    def _set_soa(self, zone: Zone, soa: Record) -> None:
        text, _ = content(soa)
        self._c.execute(update(pdns_records).where(pdns_records.c.id == zone.soa.key).values(content=text, ttl=soa.ttl))
