"""The account record."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


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

    @property
    def is_active(self) -> bool:
        return self.status == AccountStatus.ACTIVE
