"""Administering accounts: create, password, suspension, features, domains, deletion."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from hostpanel.domain.accounts.model import ROOT, Account, AccountKind, AccountStatus
from hostpanel.domain.accounts.names import validate_domain, validate_email, validate_username
from hostpanel.domain.accounts.passwords import PasswordHasher, check_strength
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.provision import create_zone, owner_nameservers
from hostpanel.domain.dns.zone import ZoneTemplate
from hostpanel.domain.errors import Conflict, InvalidInput, NotFound
from hostpanel.domain.permissions import Feature
from hostpanel.domain.ports import HomeDirectories, UnitOfWork
from hostpanel.domain.principal import Principal


@dataclass(frozen=True)
class Plan:
    """What a package gives an account: its name, a copy of its limits, and the features its list turns off."""

    name: str
    limits: dict[str, str] = field(hash=False, compare=False)
    disabled_features: frozenset[str] = frozenset()


class AccountService:
    """The administrator's operations on accounts; every change is validated and recorded in the audit trail."""

    def __init__(
        self,
        uow: UnitOfWork,
        hasher: PasswordHasher,
        clock: Clock,
        homes: HomeDirectories,
        audit: AuditLog,
        *,
        zone_template: ZoneTemplate,
        after_change: Callable[[], None] | None = None,
    ) -> None:
        """`zone_template`: what the DNS zone of each new domain holds. `after_change` runs once a suspension,
        unsuspension or deletion has committed (e.g. to stop the account's mailboxes from logging in)."""
        self._uow = uow
        self._zone_template = zone_template
        self._hasher = hasher
        self._clock = clock
        self._homes = homes
        self._audit = audit
        self._after_change = after_change

    def get(self, username: str) -> Account:
        """A hosting account (root is none: it has no home, panel or tokens of its own)."""
        account = self._uow.accounts.get_by_username(username)
        if account is None or account.kind != AccountKind.ACCOUNT:
            raise NotFound(f"The account “{username}” does not exist.")
        return account

    def root(self) -> Account:
        account = self._uow.accounts.get_by_username(ROOT)
        if account is None or not account.is_root:
            raise NotFound("The server has no administrator yet: run `hostpanel init`.")
        return account

    def ensure_root(self, password: str) -> bool:
        """Make the administrator `root` with this password unless it exists; True when it was made now."""
        if self._uow.accounts.get_by_username(ROOT) is not None:
            return False
        check_strength(password, ROOT)
        now = int(self._clock.now())
        account = self._uow.accounts.add(
            ROOT, self._hasher.hash(password), None, now, kind=AccountKind.ROOT, acls=frozenset({"all"})
        )
        self._audit.record_by(Principal.admin(account), AuditAction.ADMIN_ACCOUNT_CREATE, target=ROOT)
        return True

    def set_root_password(self, password: str) -> None:
        root = self.root()
        check_strength(password, ROOT)
        self._uow.accounts.set_password_hash(root.id, self._hasher.hash(password))
        self._uow.sessions.delete_for_account(root.id)
        self._audit.record_by(Principal.admin(root), AuditAction.ADMIN_ACCOUNT_PASSWORD, target=ROOT)

    def all(self) -> list[Account]:
        return self._uow.accounts.all()

    def domains(self, account: Account) -> list[str]:
        return self._uow.accounts.domains(account.id)

    def create(
        self,
        username: str,
        password: str,
        email: str | None = None,
        domains: tuple[str, ...] = (),
        *,
        owner: str = ROOT,
        plan: Plan | None = None,
        by: Principal | None = None,
    ) -> Account:
        """Validate everything first, then write rows and the home directory; a rollback removes the directory.
        `owner` is root or the reseller the account belongs to; `plan` its package's name, limits and features."""
        validate_username(username)
        check_strength(password, username)
        email = validate_email(email) if email else None
        domains = tuple(dict.fromkeys(validate_domain(domain) for domain in domains))
        if self._uow.accounts.get_by_username(username) is not None:
            raise Conflict(f"The account “{username}” already exists.")
        for domain in domains:
            if self._uow.accounts.by_domain(domain) is not None:
                raise Conflict(f"The domain “{domain}” already belongs to an account.")
        now = int(self._clock.now())
        for domain in domains:
            self._check_not_nested(domain, None)
        account = self._uow.accounts.add(username, self._hasher.hash(password), email, now, owner=owner)
        if plan is not None:
            self._uow.accounts.set_plan(account.id, plan.name, plan.limits)
            self._uow.accounts.set_disabled_features(account.id, plan.disabled_features)
        for domain in domains:
            self._add_domain(account.id, owner, domain, now)
        home = self._homes.create(username)
        self._uow.on_rollback(lambda: self._homes.remove(username))
        details: dict[str, DetailValue] = {"domains": list(domains), "home": str(home)}
        if owner != ROOT:
            details["owner"] = owner
        if plan is not None:
            details["plan"] = plan.name
        self._record(account, AuditAction.ADMIN_ACCOUNT_CREATE, by, details)
        return self.get(username)

    def set_password(self, username: str, password: str, *, by: Principal | None = None) -> None:
        account = self.get(username)
        check_strength(password, username)
        self._uow.accounts.set_password_hash(account.id, self._hasher.hash(password))
        self._uow.sessions.delete_for_account(account.id)  # a new password signs everyone out of the web interface
        self._record(account, AuditAction.ADMIN_ACCOUNT_PASSWORD, by, {})

    def set_suspended(
        self,
        username: str,
        suspended: bool,
        reason: str | None = None,
        *,
        locked: bool = False,
        by: Principal | None = None,
    ) -> Account:
        """Suspend (or lift the suspension of) an account: its tokens, sign-ins, web sessions, single sign-on links
        and mailboxes stop at once, in every process. `locked`: only root may lift it. `by`: who, if not the
        administrator on the command line (it is recorded on the account's trail)."""
        account = self.get(username)
        status = AccountStatus.SUSPENDED if suspended else AccountStatus.ACTIVE
        now = int(self._clock.now())
        if suspended:
            self._uow.accounts.set_status(account.id, status, reason, now, locked)
            self._uow.sessions.delete_for_account(account.id)
            self._uow.sessions.delete_tickets(account.id)
        else:
            self._uow.accounts.set_status(account.id, status)
        self._changed()
        action = AuditAction.ADMIN_ACCOUNT_SUSPEND if suspended else AuditAction.ADMIN_ACCOUNT_UNSUSPEND
        details: dict[str, DetailValue] = {"reason": reason} if suspended and reason else {}
        self._record(account, action, by, details)
        return self.get(username)

    def set_plan(self, username: str, plan: Plan, *, by: Principal | None = None) -> Account:
        """Move the account to a package: its limits and its feature list (features off) are the package's."""
        account = self.get(username)
        self._uow.accounts.set_plan(account.id, plan.name, plan.limits)
        self._uow.accounts.set_disabled_features(account.id, plan.disabled_features)
        self._record(account, AuditAction.WHM_ACCOUNT_PACKAGE, by, {"plan": plan.name})
        return self.get(username)

    def modify(
        self,
        username: str,
        *,
        limits: dict[str, str] | None = None,
        email: str | None = None,
        owner: str | None = None,
        by: Principal | None = None,
    ) -> Account:
        """Change an account's own limits (beyond its package), contact address or owner."""
        account = self.get(username)
        details: dict[str, DetailValue] = {}
        if limits is not None:
            self._uow.accounts.set_plan(account.id, account.plan, limits)
            details["limits"] = sorted(f"{key}={value}" for key, value in limits.items())
        if email is not None:
            self._uow.accounts.set_email(account.id, validate_email(email) if email else None)
            details["email"] = email
        if owner is not None:
            self._uow.accounts.set_owner(account.id, owner)
            details["owner"] = owner
        self._record(account, AuditAction.WHM_ACCOUNT_MODIFY, by, details)
        return self.get(username)

    def set_acls(self, username: str, acls: frozenset[str] | None, *, by: Principal | None = None) -> Account:
        """Make the account a reseller with these WHM privileges (None: no longer a reseller, its WHM tokens and
        sessions refused from now on)."""
        account = self.get(username)
        self._uow.accounts.set_acls(account.id, acls)
        if acls is None:
            action = AuditAction.WHM_RESELLER_REMOVE
        else:
            action = AuditAction.WHM_RESELLER_ACLS if account.is_reseller else AuditAction.WHM_RESELLER_CREATE
        self._record(account, action, by, {"acls": sorted(acls)} if acls is not None else {})
        return self.get(username)

    def record_reseller_limits(self, account: Account, limits: dict[str, str], *, by: Principal | None) -> None:
        self._record(
            account, AuditAction.WHM_RESELLER_LIMITS, by, {"limits": sorted(f"{k}={v}" for k, v in limits.items())}
        )

    def _record(
        self, account: Account, action: AuditAction, by: Principal | None, details: dict[str, DetailValue]
    ) -> None:
        self._audit.record_on(account, action, by, target=account.username, details=details)

    def set_features(self, username: str, disable: list[str], enable: list[str]) -> Account:
        account = self.get(username)
        for name in [*disable, *enable]:
            if name not in {feature.value for feature in Feature}:
                known = ", ".join(feature.value for feature in Feature)
                raise InvalidInput("feature", f"“{name}” is not a feature. Known features: {known}.")
        disabled = (account.disabled_features | set(disable)) - set(enable)
        self._uow.accounts.set_disabled_features(account.id, frozenset(disabled))
        self._audit.record_by(
            Principal.admin(account),
            AuditAction.ADMIN_ACCOUNT_FEATURES,
            target=username,
            details={"disabled": sorted(disabled)},
        )
        return self.get(username)

    def add_domain(self, username: str, domain: str) -> Account:
        account = self.get(username)
        name = validate_domain(domain)
        self._check_not_nested(name, account.id)
        self._add_domain(account.id, account.owner, name, int(self._clock.now()))
        self._audit.record_by(Principal.admin(account), AuditAction.ADMIN_ACCOUNT_DOMAIN_ADD, target=name)
        return self.get(username)

    def _add_domain(self, account_id: int, owner: str, domain: str, now: int) -> None:
        """The domain and its DNS zone, together; the zone names the nameservers of the account's reseller, if it
        set any, else the server's."""
        self._uow.accounts.add_domain(account_id, domain, now)
        template = self._zone_template.with_nameservers(owner_nameservers(self._uow, owner))
        create_zone(self._uow, domain, template, now)

    def _check_not_nested(self, domain: str, account_id: int | None) -> None:
        """A domain inside another account's domain (or holding one) would take over part of its DNS: the more
        specific zone answers for every name below it."""
        for other, owner in self._uow.accounts.nested_domains(domain):
            if owner != account_id:
                raise Conflict(
                    f"The domain “{domain}” overlaps “{other}”, which belongs to another account: its DNS zone "
                    "would answer for the other account's names."
                )

    def _changed(self) -> None:
        if self._after_change is not None:
            self._uow.on_commit(self._after_change)

    def delete(self, username: str, *, by: Principal | None = None) -> None:
        """Remove the account, its domains with their DNS zones, and its tokens; the home directory goes once the
        deletion has committed."""
        account = self.get(username)
        for zone in self._uow.zones.names(account.id):
            self._uow.zones.delete(zone)
        self._uow.accounts.delete(account.id)
        self._uow.on_commit(lambda: self._homes.remove(username))
        self._changed()
        self._record(account, AuditAction.ADMIN_ACCOUNT_DELETE, by, {})

    def disk_used(self, username: str) -> int:
        return self._homes.disk_used(username)
