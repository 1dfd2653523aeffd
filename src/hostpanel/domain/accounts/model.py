"""The account record."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Service(StrEnum):
    """Which of the server's interfaces a credential belongs to: an account's own panel (cPanel, port 2083) or the
    server's administration (WHM, port 2087). Tokens, web sessions and sign-ins are each bound to one."""

    CPANEL = "cpanel"
    WHM = "whm"


class AccountKind(StrEnum):
    """A hosting account, or the server's administrator (`root`, who owns accounts but has no home or panel)."""

    ACCOUNT = "account"
    ROOT = "root"


ROOT = "root"  # the administrator's user name, reserved for it (names.RESERVED_USERNAMES)


class AccountStatus(StrEnum):
    """Whether an account may sign in and use its tokens (active) or is shut out by the administrator."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


@dataclass(frozen=True)
class Account:
    """An account as stored: its name, password hash, contact address, status and switched-off features."""

    id: int
    username: str
    password_hash: str = field(repr=False)
    email: str | None
    status: AccountStatus
    created_at: int
    disabled_features: frozenset[str] = frozenset()
    notify_new_ip: bool = False  # mail the owner when a token is used from an address it never came from
    kind: AccountKind = AccountKind.ACCOUNT
    owner: str = ROOT  # the user name of the reseller (or root) that owns the account
    acls: frozenset[str] | None = None  # WHM privileges: None for an account that is not a reseller; root: {"all"}
    plan: str | None = None  # the package the account was created with or changed to
    limits: dict[str, str] = field(default_factory=dict, hash=False, compare=False)  # cPanel's MAXPOP, QUOTA, ...
    suspend_reason: str | None = None
    suspended_at: int | None = None
    suspend_locked: bool = False  # only root may lift this suspension (WHM's `disallowun`)

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    @property
    def is_root(self) -> bool:
        return self.kind == AccountKind.ROOT

    @property
    def is_reseller(self) -> bool:
        """Root counts as a reseller, as in cPanel: both may sign in to WHM."""
        return self.acls is not None

    def may_use(self, service: Service) -> bool:
        """Root and resellers use WHM; hosting accounts (resellers included) use their own panel; root never does."""
        if service == Service.WHM:
            return self.is_reseller
        return self.kind == AccountKind.ACCOUNT
