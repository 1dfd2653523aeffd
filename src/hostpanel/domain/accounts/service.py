"""Administering accounts: create, password, suspension, features, domains, deletion."""

from __future__ import annotations

from collections.abc import Callable

from hostpanel.domain.accounts.model import Account, AccountStatus
from hostpanel.domain.accounts.names import validate_domain, validate_email, validate_username
from hostpanel.domain.accounts.passwords import PasswordHasher, check_strength
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.provision import create_zone
from hostpanel.domain.dns.zone import ZoneTemplate
from hostpanel.domain.errors import Conflict, InvalidInput, NotFound
from hostpanel.domain.permissions import Feature
from hostpanel.domain.ports import HomeDirectories, UnitOfWork
from hostpanel.domain.principal import Principal


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
        account = self._uow.accounts.get_by_username(username)
        if account is None:
            raise NotFound(f"The account “{username}” does not exist.")
        return account

    def all(self) -> list[Account]:
        return self._uow.accounts.all()

    def domains(self, account: Account) -> list[str]:
        return self._uow.accounts.domains(account.id)

    def create(self, username: str, password: str, email: str | None = None, domains: tuple[str, ...] = ()) -> Account:
        """Validate everything first, then write rows and the home directory; a rollback removes the directory."""
        validate_username(username)
        check_strength(password, username)
        email = validate_email(email) if email else None
        domains = tuple(dict.fromkeys(validate_domain(domain) for domain in domains))
        if self._uow.accounts.get_by_username(username) is not None:
            raise Conflict(f"The account “{username}” already exists.")
        now = int(self._clock.now())
        for domain in domains:
            self._check_not_nested(domain, None)
        account = self._uow.accounts.add(username, self._hasher.hash(password), email, now)
        for domain in domains:
            self._add_domain(account.id, domain, now)
        home = self._homes.create(username)
        self._uow.on_rollback(lambda: self._homes.remove(username))
        self._audit.record_by(
            Principal.admin(account),
            AuditAction.ADMIN_ACCOUNT_CREATE,
            target=username,
            details={"domains": list(domains), "home": str(home)},
        )
        return self.get(username)

    def set_password(self, username: str, password: str) -> None:
        account = self.get(username)
        check_strength(password, username)
        self._uow.accounts.set_password_hash(account.id, self._hasher.hash(password))
        self._uow.sessions.delete_for_account(account.id)  # a new password signs everyone out of the web interface
        self._audit.record_by(Principal.admin(account), AuditAction.ADMIN_ACCOUNT_PASSWORD, target=username)

    def set_suspended(self, username: str, suspended: bool) -> Account:
        account = self.get(username)
        status = AccountStatus.SUSPENDED if suspended else AccountStatus.ACTIVE
        self._uow.accounts.set_status(account.id, status)
        self._changed()
        action = AuditAction.ADMIN_ACCOUNT_SUSPEND if suspended else AuditAction.ADMIN_ACCOUNT_UNSUSPEND
        self._audit.record_by(Principal.admin(account), action, target=username)
        return self.get(username)

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
        self._add_domain(account.id, name, int(self._clock.now()))
        self._audit.record_by(Principal.admin(account), AuditAction.ADMIN_ACCOUNT_DOMAIN_ADD, target=name)
        return self.get(username)

    def _add_domain(self, account_id: int, domain: str, now: int) -> None:
        """The domain and its DNS zone, together."""
        self._uow.accounts.add_domain(account_id, domain, now)
        create_zone(self._uow, domain, self._zone_template, now)

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

    def delete(self, username: str) -> None:
        """Remove the account, its domains with their DNS zones, and its tokens; the home directory goes once the
        deletion has committed."""
        account = self.get(username)
        for zone in self._uow.zones.names(account.id):
            self._uow.zones.delete(zone)
        self._uow.accounts.delete(account.id)
        self._uow.on_commit(lambda: self._homes.remove(username))
        self._changed()
        self._audit.record_by(Principal.admin(account), AuditAction.ADMIN_ACCOUNT_DELETE, target=username)
