"""Resellers: hosting accounts root gives WHM privileges to. A reseller owns the accounts it creates (within the
limits root sets) and acts only on them; suspending or terminating a reseller reaches its accounts too."""

from __future__ import annotations

from dataclasses import dataclass

from hostpanel.domain.accounts.model import ROOT, Account
from hostpanel.domain.accounts.service import AccountService
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.whm.acls import INITIAL_PRIVILEGES, parse_acls
from hostpanel.domain.whm.packages import limit_of

# setresellerlimits' arguments, kept as given (cPanel's names).
LIMIT_ARGUMENTS = (
    "enable_account_limit",
    "account_limit",
    "enable_resource_limits",
    "diskspace_limit",
    "bandwidth_limit",
    "enable_overselling",
    "enable_overselling_diskspace",
    "enable_overselling_bandwidth",
)


@dataclass(frozen=True)
class ResellerRules:
    """The limits root set on resellers, checked where an account is made."""

    uow: UnitOfWork

    def check_room(self, reseller: Account) -> None:
        limits = self.uow.accounts.reseller_limits(reseller.id)
        if limits.get("enable_account_limit") not in ("1", "y"):
            return
        allowed = limit_of(limits, "account_limit")
        if allowed is not None and len(self.uow.accounts.owned_by(reseller.username)) >= allowed:
            raise InvalidInput(
                "owner", f"The reseller “{reseller.username}” may own at most {allowed} accounts, and owns as many."
            )


class Resellers:
    """Root's reseller functions: set up, privileges, limits, suspension, termination, statistics."""

    def __init__(self, uow: UnitOfWork, principal: Principal, accounts: AccountService) -> None:
        self._uow = uow
        self._principal = principal
        self._accounts = accounts

    def get(self, username: str) -> Account:
        account = self._accounts.get(username)
        if not account.is_reseller:
            raise InvalidInput("user", f"The user “{username}” is not a reseller.")
        return account

    def all(self) -> list[Account]:
        return self._uow.accounts.resellers()

    def setup(self, username: str, make_owner: bool) -> Account:
        account = self._accounts.get(username)
        if not account.is_reseller:
            account = self._accounts.set_acls(username, INITIAL_PRIVILEGES, by=self._principal)
        if make_owner and account.owner != username:
            account = self._accounts.modify(username, owner=username, by=self._principal)
        return account

    def unsetup(self, username: str) -> Account:
        """No longer a reseller: its WHM tokens and sessions stop; the accounts it owned (itself aside) go to root."""
        account = self.get(username)
        for owned in self._uow.accounts.owned_by(username):
            if owned.username != username:
                self._accounts.modify(owned.username, owner=ROOT, by=self._principal)
        if account.owner == username:
            self._accounts.modify(username, owner=ROOT, by=self._principal)
        return self._accounts.set_acls(username, None, by=self._principal)

    def set_acls(self, username: str, names: list[str]) -> Account:
        self.get(username)
        return self._accounts.set_acls(username, parse_acls(names), by=self._principal)

    def set_limits(self, username: str, given: dict[str, str]) -> dict[str, str]:
        account = self.get(username)
        limits = {**self._uow.accounts.reseller_limits(account.id), **given}
        self._uow.accounts.set_reseller_limits(account.id, limits)
        self._accounts.record_reseller_limits(account, limits, by=self._principal)
        return limits

    def limits(self, account: Account) -> dict[str, str]:
        return self._uow.accounts.reseller_limits(account.id)

    def owned(self, username: str) -> list[Account]:
        return [account for account in self._uow.accounts.owned_by(username) if account.username != username]

    def suspend(self, username: str, reason: str | None, locked: bool, reseller_only: bool) -> list[str]:
        """Suspend the reseller and (unless `reseller_only`) every account it owns; the names suspended."""
        self.get(username)
        names = [username] + ([] if reseller_only else [a.username for a in self.owned(username)])
        for name in names:
            self._accounts.set_suspended(name, True, reason, locked=locked, by=self._principal)
        return names

    def unsuspend(self, username: str, reseller_only: bool) -> list[str]:
        self.get(username)
        names = [username] + ([] if reseller_only else [a.username for a in self.owned(username)])
        for name in names:
            self._accounts.set_suspended(name, False, by=self._principal)
        return names

    def terminate(self, username: str) -> list[str]:
        """Remove every account the reseller owns, then the reseller; the names removed."""
        self.get(username)
        names = [account.username for account in self.owned(username)] + [username]
        for name in names:
            self._accounts.delete(name, by=self._principal)
        return names
