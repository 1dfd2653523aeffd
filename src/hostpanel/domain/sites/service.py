"""An account's sites for one principal: listed, and added or removed with their DNS records, all or nothing.

A change is one transaction of its own, made while holding the web server's publishing lock: the rows (site,
domain, zone records) are written, nginx is given the configuration of the sites as that transaction sees them
(checked, reloaded, confirmed served), and only then does the transaction commit, releasing the lock. A refusal at
any step writes nothing and leaves nginx's previous configuration in place; a failure after nginx took the new one
(the commit itself) serves the committed state again. So when a call returns, its site is served (or it is not
there at all), and the nameserver serves its zone's new serial.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import Protocol

from hostpanel.domain.accounts.names import validate_domain
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.provision import create_zone
from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.dns.zone import ZONE_TTL, Change, Plan, Zone, ZoneTemplate
from hostpanel.domain.errors import Conflict, InvalidInput, NotFound
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.sites.model import ServedSite, Site, SiteKind, default_docroot, parse_docroot, subdomain_name

SITE_RECORD_TYPES = ("A", "AAAA")


class SiteServer(Protocol):
    """The web server as a site change uses it (implemented over nginx)."""

    def exclusive(self) -> AbstractContextManager[None]:
        """The publishing lock, held across the change and its commit."""
        ...

    def serve(self, sites: Sequence[ServedSite]) -> None:
        """Serve exactly these sites before returning; SitesUnavailable (previous configuration kept) if not."""
        ...

    def publish(self) -> None:
        """Serve what the database has committed."""
        ...


class SiteService:
    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        begin: Callable[[bool], UnitOfWork],
        audit: Callable[[UnitOfWork], AuditLog],
        clock: Clock,
        dns: Callable[[UnitOfWork], DnsService],
        jail: Jail,
        server: SiteServer,
        template: ZoneTemplate,
    ) -> None:
        self._uow = uow
        self._principal = principal
        self._begin = begin
        self._audit = audit
        self._clock = clock
        self._dns = dns
        self._jail = jail
        self._server = server
        self._template = template

    @property
    def _account_id(self) -> int:
        return self._principal.account.id

    # Reading

    def sites(self) -> list[Site]:
        """The main domain first, then addon and parked domains, then subdomains."""
        return self._uow.sites.of_account(self._account_id)

    def site(self, domain: str) -> Site:
        wanted = domain.strip().lower().rstrip(".")
        for site in self.sites():
            if site.domain == wanted:
                return site
        raise NotFound(f"The domain “{domain.strip()[:253]}” does not belong to this account.")

    def home(self) -> str:
        return str(self._jail.home)

    # Changing

    def add_subdomain(self, label: str, rootdomain: str, docroot: str | None = None) -> Site:
        """cPanel's `addsubdomain`: `label.rootdomain` served from `docroot` (default `public_html/<label>`), with
        A (and AAAA) records in the zone of `rootdomain`."""

        def change(uow: UnitOfWork, sites: list[Site]) -> tuple[Site, list[tuple[str, int]]]:
            parent = _own(sites, rootdomain, "rootdomain", (SiteKind.MAIN, SiteKind.ADDON, SiteKind.PARKED))
            name = subdomain_name(label, parent.domain)
            self._check_free(uow, name)
            root = self._docroot(docroot, default_docroot(SiteKind.ADDON, name.removesuffix("." + parent.domain)))
            site = Site(name, SiteKind.SUB, root, parent.domain)
            uow.sites.add(self._account_id, site, self._now())
            staged = self._dns(uow).stage(
                uow, parent.domain, lambda zone: self._add_records(zone, name), authorise=False
            )
            return site, [staged]

        return self._change(change, AuditAction.ACCOUNT_DOMAIN_ADD)

    def remove_subdomain(self, domain: str) -> Site:
        """cPanel's `delsubdomain`: no longer served, its A/AAAA records gone; its files stay."""

        def change(uow: UnitOfWork, sites: list[Site]) -> tuple[Site, list[tuple[str, int]]]:
            site = _own(sites, _subdomain_form(domain, sites), "domain", (SiteKind.SUB,))
            uow.sites.remove(self._account_id, site.domain)
            zone = site.rootdomain or ""
            staged = self._dns(uow).stage(uow, zone, lambda found: _remove_records(found, site.domain), authorise=False)
            return site, [staged]

        return self._change(change, AuditAction.ACCOUNT_DOMAIN_REMOVE)

    def add_domain(self, domain: str, docroot: str | None = None, *, parked_on: str | None = None) -> Site:
        """An addon domain (its own zone and document root, default `public_html/<domain>`), or with `parked_on` a
        parked domain (its own zone, serving that domain's site)."""

        def change(uow: UnitOfWork, sites: list[Site]) -> tuple[Site, list[tuple[str, int]]]:
            name = validate_domain(domain)
            self._check_free(uow, name)
            if parked_on is not None:
                target = _own(sites, parked_on, "topdomain", (SiteKind.MAIN, SiteKind.ADDON))
                site = Site(name, SiteKind.PARKED, target.docroot, target.domain)
            else:
                site = Site(name, SiteKind.ADDON, self._docroot(docroot, default_docroot(SiteKind.ADDON, name)))
            now = self._now()
            uow.accounts.add_domain(self._account_id, name, now)
            uow.sites.add(self._account_id, site, now)
            create_zone(uow, name, self._template, now)
            return site, []

        return self._change(change, AuditAction.ACCOUNT_DOMAIN_ADD)

    def remove_domain(self, domain: str, kind: SiteKind) -> Site:
        """An addon (`deladdondomain`) or parked (`unpark`) domain removed with its zone, and the subdomains and
        parked domains that depend on it."""

        def change(uow: UnitOfWork, sites: list[Site]) -> tuple[Site, list[tuple[str, int]]]:
            site = _own(sites, domain, "domain", (kind,))
            for other in sites:
                if other.rootdomain == site.domain or other is site:
                    uow.sites.remove(self._account_id, other.domain)
                    if other.kind != SiteKind.SUB:
                        uow.accounts.remove_domain(self._account_id, other.domain)
                        uow.zones.delete(other.domain)
            return site, []

        return self._change(change, AuditAction.ACCOUNT_DOMAIN_REMOVE)

    def _change(
        self, change: Callable[[UnitOfWork, list[Site]], tuple[Site, list[tuple[str, int]]]], action: AuditAction
    ) -> Site:
        with self._server.exclusive():
            served = False
            try:
                with self._begin(True) as uow:
                    site, staged = change(uow, uow.sites.of_account(self._account_id))
                    details: dict[str, DetailValue] = {"kind": site.kind.value}
                    if action == AuditAction.ACCOUNT_DOMAIN_ADD and site.docroot:
                        details["docroot"] = site.docroot
                    self._audit(uow).record_by(self._principal, action, target=site.domain, details=details)
                    self._server.serve(uow.sites.served())  # a refusal leaves the previous configuration served
                    served = True
                    uow.commit()
            except BaseException:
                if served:
                    self._server.publish()  # nginx may have taken what did not commit: serve what did
                raise
        for zone, serial in staged:
            self._dns(self._uow).confirm(zone, serial)
        return site

    # Helpers

    def _now(self) -> int:
        return int(self._clock.now())

    def _check_free(self, uow: UnitOfWork, name: str) -> None:
        if uow.sites.taken(name):
            raise Conflict(f"The domain “{name}” already exists.")
        for other, owner in uow.accounts.nested_domains(name):
            if owner != self._account_id:
                raise Conflict(f"The domain “{name}” conflicts with a domain of another account ({other}).")

    def _docroot(self, given: str | None, default: str) -> str:
        """The document root, made if missing: each folder on the way made or entered without following links."""
        path = parse_docroot(
            given if given and given.strip() else default, self.home(), self._principal.account.username
        )
        with self._jail.directory(path, create=True):
            pass
        return path.relative

    def _add_records(self, zone: Zone, name: str) -> Plan:
        existing = {(entry.record.name, entry.record.type) for entry in zone.entries}
        records = [Record.parse(zone.name, name + ".", ZONE_TTL, "A", [self._template.ipv4])]
        if self._template.ipv6:
            records.append(Record.parse(zone.name, name + ".", ZONE_TTL, "AAAA", [self._template.ipv6]))
        new = [record for record in records if (record.name, record.type) not in existing]
        kept = tuple(entry.record for entry in zone.entries)
        return Plan(zone, tuple(Change(None, record) for record in new), kept + tuple(new))


def _remove_records(zone: Zone, name: str) -> Plan:
    removed = [entry for entry in zone.entries if entry.record.name == name and entry.record.type in SITE_RECORD_TYPES]
    changes = tuple(Change(entry.record, None, entry.key) for entry in removed)
    keys = {entry.key for entry in removed}
    return Plan(zone, changes, tuple(entry.record for entry in zone.entries if entry.key not in keys))


def _own(sites: Sequence[Site], domain: str, field: str, kinds: Sequence[SiteKind]) -> Site:
    wanted = domain.strip().lower().rstrip(".")
    for site in sites:
        if site.domain == wanted and site.kind in kinds:
            return site
    if not wanted:
        raise InvalidInput(field, f"The parameter ‘{field}’ is required.")
    raise NotFound(
        f"The domain “{domain.strip()[:253]}” is not a {' or '.join(_NAMES[kind] for kind in kinds)} of this account."
    )


_NAMES = {
    SiteKind.MAIN: "main domain",
    SiteKind.ADDON: "addon domain",
    SiteKind.SUB: "subdomain",
    SiteKind.PARKED: "parked domain",
}


def _subdomain_form(domain: str, sites: Sequence[Site]) -> str:
    """API 2 names a subdomain `sub_example.com` as well as `sub.example.com`."""
    text = domain.strip().lower()
    if "_" in text:
        label, _, parent = text.rpartition("_")
        if any(site.domain == parent for site in sites):
            return f"{label}.{parent}"
    return text
