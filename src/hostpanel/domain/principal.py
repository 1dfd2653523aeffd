"""Who is acting: an account through one of its tokens, the account's password session, or the administrator."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.accounts.model import ROOT, Account, Service
from hostpanel.domain.audit.model import token_actor
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions
from hostpanel.domain.whm.acls import ALL, Privileges


class AuthMethod(StrEnum):
    """How the actor proved who it is: an API token, the account's password, or as the administrator."""

    TOKEN = "token"
    PASSWORD = "password"
    ADMIN = "admin"
    AUTOSSL = "autossl"  # the server's own certificate renewal, acting for the account


@dataclass(frozen=True)
class Principal:
    """Who is acting: the account, how it authenticated, the token it used if any, from which address, and through
    which interface (the account's own panel, or WHM as root or a reseller)."""

    account: Account
    method: AuthMethod
    token: ApiToken | None = None
    ip: str | None = None
    service: Service = Service.CPANEL
    on_behalf_of: str | None = None  # the WHM user acting in this account's name (uapi_cpanel, the CLI's uapi)
    old_secret: bool = False  # authenticated by a rotated-out secret in its grace period

    @property
    def privileges(self) -> Privileges | None:
        """WHM privileges: the owner's ACLs as its token narrows them; None outside WHM."""
        if self.service != Service.WHM or self.account.acls is None:
            return None
        held = Privileges(self.account.acls)
        return held.narrowed(self.token.acls) if self.token is not None else held

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
        if self.on_behalf_of is not None:
            return f"whm:{self.on_behalf_of}"
        if self.token is not None:
            return token_actor(self.token.name)
        return self.method.value

    @classmethod
    def admin(cls, account: Account) -> Principal:
        return cls(account=account, method=AuthMethod.ADMIN)

    @classmethod
    def autossl(cls, account: Account) -> Principal:
        """AutoSSL acting in the account's name: its edits are the account's, named `autossl` in the trail."""
        return cls(account=account, method=AuthMethod.AUTOSSL)

    @classmethod
    def root(cls, account: Account) -> Principal:
        """Root on the server itself (the CLI): WHM with every privilege."""
        assert account.username == ROOT and account.acls is not None and ALL in account.acls
        return cls(account=account, method=AuthMethod.ADMIN, service=Service.WHM)
