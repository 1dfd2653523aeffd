"""Warning owners, once per token, that tokens expire within the notice period (one mail per account)."""

from __future__ import annotations

from hostpanel.domain.clock import Clock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.security.notices import Notifier, deliver, tokens_expiring

DAY = 86400


class ExpiryNotices:
    """Mails owners about tokens that expire soon, once per token."""

    def __init__(self, uow: UnitOfWork, clock: Clock, notifier: Notifier) -> None:
        self._uow = uow
        self._clock = clock
        self._notifier = notifier

    def send(self, days: int) -> dict[str, list[str]]:
        """Mail each owner the tokens expiring within `days` they were not told of yet; {username: token names}.

        A token is marked once its owner's mail has gone out (or the owner has no address): never told twice."""
        now = int(self._clock.now())
        due = self._uow.tokens.expiring_unnoticed(now + days * DAY, now)
        by_account: dict[int, list[tuple[int, str, int]]] = {}
        accounts = {}
        for token, account in due:
            by_account.setdefault(account.id, []).append((token.id, token.name, token.expires_at or 0))
            accounts[account.id] = account
        told: dict[str, list[str]] = {}
        for account_id, tokens in by_account.items():
            account = accounts[account_id]
            if account.email and not deliver(
                self._notifier, account, tokens_expiring(account, [(name, at) for _, name, at in tokens])
            ):
                continue  # delivery failed: try again next time
            for token_id, _, _ in tokens:
                self._uow.tokens.mark_expiry_noticed(token_id, now)
            told[account.username] = [name for _, name, _ in tokens]
        return told
