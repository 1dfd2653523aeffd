"""Which accounts a WHM caller reaches (cPanel's `verify_account_access`): with `all`, any that exists; otherwise
only itself and the accounts it owns. So a root token limited to a few ACLs acts on root's own accounts only, and a
reseller never on another's or on root's."""

from __future__ import annotations

from hostpanel.domain.accounts.model import ROOT, Account, AccountKind
from hostpanel.domain.errors import NotFound, PermissionDenied
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.whm.acls import Privileges


class AccessDenied(PermissionDenied):
    """An account the caller may not act on (cPanel answers it as an API failure, with an XID)."""

    def __init__(self, message: str, username: str) -> None:
        super().__init__(message, missing=f"account:{username}")
        self.username = username


def privileges(principal: Principal) -> Privileges:
    held = principal.privileges
    if held is None:
        raise PermissionDenied("This function is available only through WHM.", missing="whm")
    return held


def owner_name(principal: Principal) -> str:
    """Whose accounts the caller acts for: root's own, or the reseller's."""
    return principal.account.username


def reach(uow: UnitOfWork, principal: Principal, username: str) -> Account:
    """The hosting account `username` if the caller may act on it; else cPanel's access error (recorded as a
    denial by the gate). Root itself is never a hosting account to act on."""
    account = uow.accounts.get_by_username(username) if username else None
    if privileges(principal).is_root:
        if account is None or account.kind != AccountKind.ACCOUNT:
            raise NotFound(f"You do not have a user named “{username}”.")
        return account
    if account is None or account.kind != AccountKind.ACCOUNT or not mine(principal, account):
        raise AccessDenied(f"You do not have access to an account named “{username}”.", username)
    return account


def reach_zone(uow: UnitOfWork, principal: Principal, zone: str) -> tuple[Account, str]:
    """The hosting account whose domain `zone` is, and the zone's name, if the caller may act on that account (WHM's
    DNS functions). Root is told when no account has the zone; anyone else gets the same refusal for a zone that is
    not there as for one that is another's (recorded as a denial), so a reseller cannot learn whose zones exist."""
    name = zone.strip().lower().removesuffix(".")
    owner_id = uow.zones.owner(name) if name else None
    account = uow.accounts.get(owner_id) if owner_id is not None else None
    refusal = f"You do not control a DNS zone named “{zone.strip()[:253]}”."
    if account is None or account.kind != AccountKind.ACCOUNT:
        if privileges(principal).is_root:
            raise NotFound(refusal)
        raise AccessDenied(refusal, name[:253] or "?")
    if not mine(principal, account):
        raise AccessDenied(refusal, account.username)
    return account, name


def mine(principal: Principal, account: Account) -> bool:
    """The account is the caller itself or one it owns (with `all`: any)."""
    if privileges(principal).is_root:
        return True
    name = owner_name(principal)
    return name in (account.username, account.owner)


def visible(uow: UnitOfWork, principal: Principal, listing: bool = False) -> list[Account]:
    """The accounts a caller sees. `listing`: listaccts and listsuspended, where the user root holding
    `list-accts` sees every account, as in cPanel."""
    held = privileges(principal)
    if held.is_root or (listing and principal.account.username == ROOT and held.has("list-accts")):
        return uow.accounts.all()
    return uow.accounts.owned_by(owner_name(principal))
