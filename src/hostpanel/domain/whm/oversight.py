"""Token oversight, beyond cPanel: root sees every API token on the server (a reseller, those of its accounts), with
what it may do and when it was last used; filters the risky ones; revokes one, or all of an account's at once (the
answer to a compromised account). Each revocation is recorded on both trails and mailed to the owner, as a leak
revocation is."""

from __future__ import annotations

from dataclasses import dataclass

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import NotFound
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.notices import Notifier, deliver, tokens_revoked_by_administrator
from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.restrictions import IpAllowlist
from hostpanel.domain.tokens.review import is_unused
from hostpanel.domain.whm import access


@dataclass(frozen=True)
class TokenFilter:
    """Which tokens to show: each set condition must hold."""

    user: str | None = None
    unused_days: int | None = None
    full_access: bool = False
    no_expiry: bool = False
    no_allowlist: bool = False

    def keeps(self, token: ApiToken, account: Account, now: float) -> bool:
        full = token.permissions.full_access if token.service == Service.CPANEL else token.acls is None
        return (
            (self.user is None or account.username == self.user)
            and (self.unused_days is None or is_unused(token, now, self.unused_days))
            and (not self.full_access or full)
            and (not self.no_expiry or token.expires_at is None)
            and (not self.no_allowlist or token.restrictions.get(IpAllowlist) is None)
        )


class TokenOversight:
    """Every token a WHM caller oversees, and their revocation."""

    def __init__(
        self, uow: UnitOfWork, principal: Principal, clock: Clock, audit: AuditLog, notifier: Notifier
    ) -> None:
        self._uow = uow
        self._principal = principal
        self._clock = clock
        self._audit = audit
        self._notifier = notifier

    def tokens(self, wanted: TokenFilter) -> list[tuple[ApiToken, Account]]:
        """Root: every token (root's and resellers' WHM tokens too); a reseller: its accounts' tokens."""
        now = self._clock.now()
        held = access.privileges(self._principal)
        if wanted.user is not None:
            self._account(wanted.user)
        rows = self._uow.tokens.all_with_accounts()
        if not held.is_root:
            mine = {account.id for account in access.visible(self._uow, self._principal)}
            rows = [(token, account) for token, account in rows if account.id in mine]
        return [(token, account) for token, account in rows if wanted.keeps(token, account, now)]

    def _account(self, username: str) -> Account:
        return access.reach(self._uow, self._principal, username)

    def revoke(self, username: str, name: str, service: Service = Service.CPANEL) -> bool:
        account = self._account(username)
        token = self._uow.tokens.get_by_name(account.id, name, service)
        if token is None:
            raise NotFound(f"The API token “{name}” does not exist.")
        revoked = [token.name] if self._uow.tokens.delete(token.id) else []
        self._revoked(account, revoked)
        return bool(revoked)

    def revoke_all(self, username: str) -> list[str]:
        """Every token of the account, cPanel's and WHM's, in one step."""
        account = self._account(username)
        names = self._uow.tokens.delete_all(account.id, None)
        self._revoked(account, names)
        return names

    def _revoked(self, account: Account, names: list[str]) -> None:
        by = self._principal
        for name in names:
            self._audit.record_on(account, AuditAction.WHM_TOKEN_REVOKE, by, target=name)
        if names:
            notice = tokens_revoked_by_administrator(account, names, by.account.username)

            def tell() -> None:
                deliver(self._notifier, account, notice)

            self._uow.on_commit(tell)
