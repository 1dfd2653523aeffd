"""Who is acting: an account through one of its tokens, the account's password session, or the administrator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import token_actor
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions


class AuthMethod(StrEnum):
    """How the actor proved who it is: an API token, the account's password, or as the administrator."""

    TOKEN = "token"
    PASSWORD = "password"
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """Who is acting: the account, how it authenticated, the token it used if any, and from which address."""

    account: Account
    method: AuthMethod
    token: ApiToken | None = None
    ip: str | None = None

    @property
    def permissions(self) -> Permissions | None:
        """The token's grant; None means the account's own rights (password session or administrator)."""
        return self.token.permissions if self.token is not None else None

    @property
    def restrictions(self) -> Restrictions:
        """The token's restrictions; none for the account's own rights."""
        return self.token.restrictions if self.token is not None else NO_RESTRICTIONS

    @property
    def actor(self) -> str:
        """How the audit trail names the actor; a copy, so it survives renames and deletions."""
        if self.token is not None:
            return token_actor(self.token.name)
        return self.method.value

    @classmethod
    def admin(cls, account: Account) -> Principal:
        return cls(account=account, method=AuthMethod.ADMIN)
