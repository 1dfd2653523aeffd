"""Provisioning through WHM: accounts created, listed, suspended, removed, re-planned and re-passworded by root or
a reseller, within what it may reach (`access`) and the package rules (`packages`). Every change goes through the
account service, so whatever follows an account (its home, mail, sessions, tokens) follows here too."""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import re2

from hostpanel.domain.accounts.model import ROOT, Account
from hostpanel.domain.accounts.service import AccountService, Plan
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.provision import owner_nameservers
from hostpanel.domain.errors import InvalidInput, NotFound, PermissionDenied
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.whm import access
from hostpanel.domain.whm.packages import DEFAULT, LIMIT_KEYS, UNLIMITED, Package, limit_of, settings_from
from hostpanel.domain.whm.resellers import ResellerRules
from hostpanel.domain.whm.server import ServerInfo
from hostpanel.domain.whm.store import PackageStore

SEARCH_TYPES = ("domain", "ip", "user", "package", "owner", "domain_and_user")
ROOT_ONLY_ARGUMENTS = ("force", "forcedns", "is_restore", "mailbox_format", "uid", "gid", "homedir")
_RE2 = re2.Options()
_RE2.log_errors = False
_RE2.case_sensitive = False
MAX_PATTERN = 200
MIB = 1024 * 1024


@dataclass(frozen=True)
class NewAccount:
    """What createacct asks for, as read from its arguments."""

    username: str
    domain: str
    password: str | None
    email: str | None
    plan: str
    owner: str | None
    settings: Callable[[str], str | None]  # the lower-case package arguments (quota, maxpop, ...) given
    reseller: bool = False


@dataclass(frozen=True)
class Created:
    """A new account, its package and the log of what was done (createacct's `output.raw`)."""

    account: Account
    package: Package
    log: str


class Provisioning:
    """WHM's account functions for one caller."""

    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        accounts: AccountService,
        packages: PackageStore,
        resellers: ResellerRules,
        clock: Clock,
        server: ServerInfo,
    ) -> None:
        self._uow = uow
        self._principal = principal
        self._accounts = accounts
        self._packages = packages
        self._resellers = resellers
        self._clock = clock
        self.server = server

    # Reading

    def reach(self, username: str) -> Account:
        return access.reach(self._uow, self._principal, username)

    def reach_zone(self, zone: str) -> tuple[Account, str]:
        return access.reach_zone(self._uow, self._principal, zone)

    def search(
        self, search: str | None, searchtype: str | None, exact: bool = False, suspended_only: bool = False
    ) -> list[Account]:
        """listaccts: the visible accounts matching `search` (an unanchored, case-insensitive regular expression,
        an invalid one matching everything; or exact), the exact match first, then by name."""
        kind = searchtype or "user"
        if kind not in SEARCH_TYPES:
            raise InvalidInput("searchtype", "Unknown search type.")
        accounts = access.visible(self._uow, self._principal, listing=True)
        if suspended_only:
            accounts = [account for account in accounts if not account.is_active]
        if not search:
            return accounts
        domains = self._uow.accounts.main_domains()
        matches = _matcher(search, exact)

        def fields(account: Account) -> list[str]:
            domain = domains.get(account.id, "")
            return {
                "domain": [domain],
                "ip": [self.server.shared_ip],
                "user": [account.username],
                "package": [account.plan or ""],
                "owner": [account.owner],
                "domain_and_user": [domain, account.username],
            }[kind]

        found = [account for account in accounts if any(matches(value) for value in fields(account))]
        wanted = search.lower()
        return sorted(found, key=lambda a: (wanted not in [value.lower() for value in fields(a)], a.username))

    def records(self, accounts: list[Account], with_disk: bool = True) -> list[dict[str, Any]]:
        """listaccts' fields of each account, their domains read in one query."""
        domains = self._uow.accounts.main_domains()
        return [self._record(account, domains.get(account.id), with_disk) for account in accounts]

    def record(self, account: Account, with_disk: bool = True) -> dict[str, Any]:
        """listaccts' fields of an account."""
        return self.records([account], with_disk)[0]

    def _record(self, account: Account, domain: str | None, with_disk: bool) -> dict[str, Any]:
        started = datetime.datetime.fromtimestamp(account.created_at, datetime.UTC)
        limits = account.limits
        used = self._accounts.disk_used(account.username) if with_disk else 0
        quota = limit_of(limits, "QUOTA")
        record: dict[str, Any] = {
            "user": account.username,
            "domain": domain,
            "email": account.email or "*unknown*",
            "plan": account.plan or "undefined",
            "owner": account.owner,
            "ip": self.server.shared_ip,
            "ipv6": [],
            "suspended": 0 if account.is_active else 1,
            "suspendreason": (account.suspend_reason or "") if not account.is_active else "not suspended",
            "suspendtime": account.suspended_at if not account.is_active else None,
            "is_locked": 1 if account.suspend_locked else 0,
            "startdate": started.strftime("%y %b %d %H:%M"),
            "unix_startdate": account.created_at,
            "diskused": f"{used // MIB}M" if used else "none",
            "disklimit": f"{quota}M" if quota else UNLIMITED,
            "inodesused": 0,
            "inodeslimit": UNLIMITED,
            "theme": limits.get("CPMOD", "jupiter"),
            "shell": "/bin/bash" if limits.get("HASSHELL") == "y" else "/usr/local/cpanel/bin/noshell",
            "uid": account.id,
            "partition": "home",
            "mailbox_format": "maildir",
            "backup": 0,
            "legacy_backup": 0,
            "has_backup": 0,
            "temporary": 0,
            "outgoing_mail_suspended": 0,
            "outgoing_mail_hold": 0,
            "child_nodes": [],
        }
        for key in LIMIT_KEYS:
            name = {"MAXPARK": "maxparked", "MAXADDON": "maxaddons"}.get(key, key.lower())
            if key not in ("QUOTA", "BWLIMIT", "MAX_TEAM_USERS"):
                record[name] = limits.get(key, UNLIMITED)
        return record

    def nameservers(self, account: Account) -> tuple[str, ...]:
        """Those the account's reseller set (setresellernameservers), else the server's: what its new zones name."""
        return owner_nameservers(self._uow, account.owner) or self.server.nameservers

    def disk_used(self, account: Account) -> int:
        return self._accounts.disk_used(account.username)

    # Changing

    def create(self, wanted: NewAccount) -> Created:
        principal, held = self._principal, access.privileges(self._principal)
        owner = wanted.owner or access.owner_name(principal)
        if not held.is_root and owner != access.owner_name(principal):
            raise PermissionDenied(
                "Without root access, you can only create accounts that you yourself own.", missing="all"
            )
        if owner != ROOT:
            owning = self._uow.accounts.get_by_username(owner)
            if owning is None or not owning.is_reseller:
                raise InvalidInput("owner", f"The owner “{owner}” is not a reseller.")
            self._resellers.check_room(owning)
        package = self._packages.usable(wanted.plan or DEFAULT, held_by=principal)
        limits = settings_from(wanted.settings, package.settings)
        plan = Plan(package.name, limits, package.disabled_features)
        password = wanted.password or _generated_password()
        account = self._accounts.create(
            wanted.username.lower(),
            password,
            wanted.email,
            (wanted.domain,),
            owner=owner,
            plan=plan,
            by=principal,
        )
        log = (
            f"Creating account {account.username} for {wanted.domain} on the package {package.name}.\n"
            f"Owner: {owner}. Home directory made. Account Creation Ok.\n"
        )
        return Created(account, package, log)

    def suspend(self, username: str, reason: str | None, locked: bool) -> Account:
        if username == ROOT:
            raise InvalidInput("user", "Root user may not be suspended.")
        account = self.reach(username)
        locked = locked and access.privileges(self._principal).is_root
        return self._accounts.set_suspended(account.username, True, reason, locked=locked, by=self._principal)

    def unsuspend(self, username: str) -> Account:
        account = self.reach(username)
        if account.suspend_locked and not access.privileges(self._principal).is_root:
            raise PermissionDenied("Failed to unsuspend account: only root may lift this suspension.", "all")
        return self._accounts.set_suspended(account.username, False, by=self._principal)

    def remove(self, username: str) -> None:
        if username == access.owner_name(self._principal):
            raise InvalidInput("user", "You cannot remove yourself!")
        account = self.reach(username)
        if account.is_reseller:
            for owned in self._uow.accounts.owned_by(account.username):
                self._accounts.modify(owned.username, owner=ROOT, by=self._principal)
        self._accounts.delete(account.username, by=self._principal)

    def set_password(self, username: str, password: str) -> None:
        account = self.reach(username)
        if not account.is_active:
            raise InvalidInput(
                "password",
                f"Sorry, the user “{username}” is currently suspended. Changing the user’s password would unsuspend "
                "the account.",
            )
        self._accounts.set_password(account.username, password, by=self._principal)

    def change_package(self, username: str, name: str) -> Account:
        if not name:
            raise InvalidInput("pkg", "The value of “pkg” may not be empty.")
        account = self.reach(username)
        package = self._packages.usable(name, held_by=self._principal)
        plan = Plan(package.name, dict(package.settings), package.disabled_features)
        return self._accounts.set_plan(account.username, plan, by=self._principal)

    def modify(self, username: str, limits: dict[str, str], email: str | None, owner: str | None) -> Account:
        account = self.reach(username)
        if owner is not None and owner != account.owner:
            if not access.privileges(self._principal).is_root:
                raise PermissionDenied("Only root may give an account to another owner.", missing="all")
            owning = self._uow.accounts.get_by_username(owner)
            if owning is None or not owning.is_reseller:
                raise InvalidInput("owner", f"The owner “{owner}” is not a reseller.")
        merged = {**account.limits, **limits} if limits else None
        return self._accounts.modify(account.username, limits=merged, email=email, owner=owner, by=self._principal)

    def by_domain(self, domain: str) -> Account:
        account = self._uow.accounts.by_domain(domain.lower().rstrip("."))
        if account is None or not access.mine(self._principal, account):
            raise NotFound("Account does not exist.")
        return account


def _matcher(search: str, exact: bool) -> Callable[[str], bool]:
    if exact:
        return lambda value: value == search
    if len(search) <= MAX_PATTERN:
        try:
            pattern = re2.compile(search, options=_RE2)
        except re2.error:
            return lambda _value: True  # cPanel: an invalid expression matches every account
        return lambda value: pattern.search(value) is not None
    return lambda _value: True


def _generated_password() -> str:
    return "-".join(secrets.token_urlsafe(9) for _ in range(3))
