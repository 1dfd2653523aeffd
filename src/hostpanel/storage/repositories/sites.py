"""Sites: the accounts' domains with the document roots they were given, and their subdomains."""

from __future__ import annotations

from sqlalchemy import ColumnElement, delete, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.accounts.model import AccountKind, AccountStatus
from hostpanel.domain.errors import Conflict
from hostpanel.domain.sites.model import ServedSite, Site, SiteKind, default_docroot
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import account_domains, accounts, sites


class SqlSiteRepository:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def of_account(self, account_id: int) -> list[Site]:
        return self._sites(account_domains.c.account_id == account_id, sites.c.account_id == account_id).get(
            account_id, []
        )

    def served(self) -> list[ServedSite]:
        active = select(accounts.c.id, accounts.c.username).where(
            accounts.c.kind == AccountKind.ACCOUNT.value, accounts.c.status == AccountStatus.ACTIVE.value
        )
        names = {row.id: row.username for row in self._c.execute(active)}
        ids = list(names)
        found = self._sites(account_domains.c.account_id.in_(ids), sites.c.account_id.in_(ids))
        served = [ServedSite(names[account_id], site) for account_id, owned in found.items() for site in owned]
        return sorted(served, key=lambda item: item.site.domain)

    def _sites(self, domain_filter: ColumnElement[bool], site_filter: ColumnElement[bool]) -> dict[int, list[Site]]:
        """Each account's sites: every domain (the first is the main one) with its recorded document root, or the
        default one; then its subdomains. A parked domain gets the document root of the domain it aliases."""
        recorded = {row.domain: row for row in self._c.execute(select(sites).where(site_filter).order_by(sites.c.id))}
        domains = self._c.execute(
            select(account_domains.c.account_id, account_domains.c.domain)
            .where(domain_filter)
            .order_by(account_domains.c.id)
        )
        found: dict[int, list[Site]] = {}
        for row in domains:
            owned = found.setdefault(row.account_id, [])
            kind = SiteKind.MAIN if not owned else SiteKind.ADDON
            own = recorded.pop(row.domain, None)
            if own is not None and own.kind == SiteKind.PARKED.value:
                owned.append(Site(row.domain, SiteKind.PARKED, "", own.rootdomain))
            else:
                owned.append(
                    Site(row.domain, kind, own.docroot if own is not None else default_docroot(kind, row.domain))
                )
        for row in recorded.values():
            if row.kind == SiteKind.SUB.value:
                found.setdefault(row.account_id, []).append(Site(row.domain, SiteKind.SUB, row.docroot, row.rootdomain))
        for owned in found.values():
            roots = {site.domain: site.docroot for site in owned}
            owned[:] = [
                Site(site.domain, site.kind, roots.get(site.rootdomain or "", ""), site.rootdomain)
                if site.kind == SiteKind.PARKED
                else site
                for site in owned
            ]
        return found

    def add(self, account_id: int, site: Site, created_at: int) -> None:
        values = {
            "account_id": account_id,
            "domain": site.domain,
            "kind": site.kind.value,
            "docroot": site.docroot,
            "rootdomain": site.rootdomain,
            "created_at": created_at,
        }
        try:
            self._c.execute(insert(sites).values(**values))
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict(f"The domain “{site.domain}” already exists.") from None
            raise

    def remove(self, account_id: int, domain: str) -> None:
        self._c.execute(delete(sites).where(sites.c.account_id == account_id, sites.c.domain == domain))

    def taken(self, domain: str) -> bool:
        in_sites = self._c.execute(select(sites.c.id).where(sites.c.domain == domain)).first()
        in_domains = self._c.execute(select(account_domains.c.id).where(account_domains.c.domain == domain)).first()
        return in_sites is not None or in_domains is not None
