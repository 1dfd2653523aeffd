"""Recording "last used" and usage history without a database write on the request path.

Each request notes its token use in memory (a lock and a few dict updates); a background flush writes the batch in
one transaction every few seconds: "last used" (and the old secret's last use during a rotation), calls per day and
module (`HISTORY_DAYS` kept, older days trimmed by the flush at most once an hour), and each address's first and last
use. A crash loses at most one flush interval of these; nothing else depends on them. The first use of a token from
an address is also found at flush time and written to the audit trail with the time of that use.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.notices import Notifier, deliver, token_used_from_new_address

HISTORY_DAYS = 90
DAY = 86400
_TRIM_EVERY = 3600.0


@dataclass
class _PendingUse:
    account_id: int
    username: str
    token_name: str
    last_at: float
    last_ip: str | None
    first_seen: dict[str, float] = field(default_factory=dict)  # address -> first use in this batch
    last_seen: dict[str, float] = field(default_factory=dict)  # address -> last use in this batch
    calls: dict[tuple[int, str], int] = field(default_factory=dict)  # (day, module) -> calls in this batch
    old_secret_at: float | None = None  # the last use of the rotated-out secret in this batch

    def merge(self, other: _PendingUse) -> None:
        if other.last_at >= self.last_at:
            self.last_at, self.last_ip, self.token_name = other.last_at, other.last_ip, other.token_name
        for ip, at in other.first_seen.items():
            self.first_seen[ip] = min(at, self.first_seen.get(ip, at))
        for ip, at in other.last_seen.items():
            self.last_seen[ip] = max(at, self.last_seen.get(ip, at))
        for slot, count in other.calls.items():
            self.calls[slot] = self.calls.get(slot, 0) + count
        if other.old_secret_at is not None:
            self.old_secret_at = max(other.old_secret_at, self.old_secret_at or 0.0)


@dataclass(frozen=True)
class NewAddress:
    """A token's first use from an address, found by a flush (for the owner's optional notice)."""

    account_id: int
    token_name: str
    ip: str
    at: float


class UsageRecorder:
    """Notes each token use in memory and writes "last used" and new addresses in batches."""

    def __init__(
        self,
        clock: Clock,
        known_addresses: int = 100_000,
        on_new_addresses: Callable[[list[NewAddress]], None] | None = None,
    ) -> None:
        self._clock = clock
        self._on_new_addresses = on_new_addresses
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._pending: dict[int, _PendingUse] = {}
        # (token id, address) pairs this process knows are already in the database: skip asking again.
        self._known: OrderedDict[tuple[int, str], None] = OrderedDict()
        self._known_limit = known_addresses
        self._trimmed_at: float | None = None

    def note(self, principal: Principal, module: str = "") -> None:
        """Remember that the principal's token was just used (to call a function of `module`); called on every
        authenticated request."""
        token = principal.token
        if token is None:
            return
        now, ip = self._clock.now(), principal.ip
        slot = (int(now) // DAY, module[:64])
        with self._lock:
            use = self._pending.get(token.id)
            if use is None:
                use = self._pending[token.id] = _PendingUse(
                    principal.account.id, principal.account.username, token.name, now, ip
                )
            else:
                use.last_at, use.last_ip, use.token_name = now, ip, token.name
            use.calls[slot] = use.calls.get(slot, 0) + 1
            if principal.old_secret:
                use.old_secret_at = now
            if ip is not None:
                use.last_seen[ip] = now
                if ip not in use.first_seen and (token.id, ip) not in self._known:
                    use.first_seen[ip] = now

    @property
    def pending(self) -> int:
        return len(self._pending)

    def flush(self, uow_factory: Callable[[], UnitOfWork]) -> int:
        """Write the batch; on failure the batch goes back into memory for the next flush. Returns tokens written."""
        with self._flush_lock:
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                return 0
            try:
                learned, new = self._write(uow_factory, batch)
            except BaseException:
                self._restore(batch)
                raise
            with self._lock:
                for pair in learned:
                    self._remember(pair)
            if new and self._on_new_addresses is not None:
                self._on_new_addresses(new)
            return len(batch)

    def _write(
        self, uow_factory: Callable[[], UnitOfWork], batch: dict[int, _PendingUse]
    ) -> tuple[list[tuple[int, str]], list[NewAddress]]:
        learned: list[tuple[int, str]] = []
        new: list[tuple[_PendingUse, NewAddress]] = []
        with uow_factory() as uow:
            audit = AuditLog(uow.audit, self._clock)
            for token_id, use in sorted(batch.items()):
                if not uow.tokens.record_use(token_id, int(use.last_at), use.last_ip):
                    continue  # revoked since: nothing to remember
                if use.old_secret_at is not None:
                    uow.tokens.record_old_secret_use(token_id, int(use.old_secret_at))
                uow.tokens.add_calls(token_id, use.calls)
                for ip, at in sorted(use.first_seen.items(), key=lambda item: item[1]):
                    if uow.tokens.remember_ip(token_id, ip, int(at)):
                        new.append((use, NewAddress(use.account_id, use.token_name, ip, at)))
                    learned.append((token_id, ip))
                uow.tokens.address_seen(token_id, {ip: int(at) for ip, at in use.last_seen.items()})
            self._trim(uow)
            # By account, so concurrent flushes lock the accounts' audit chains in one order (no deadlock).
            new.sort(key=lambda item: (item[1].account_id, item[1].at))
            for use, address in new:
                audit.record(
                    AuditAction.ACCOUNT_TOKEN_NEW_IP,
                    actor=f"token:{use.token_name}",
                    account_id=use.account_id,
                    username=use.username,
                    ip=address.ip,
                    target=use.token_name,
                    time=address.at,
                )
            uow.commit()
        return learned, [address for _, address in new]

    def _trim(self, uow: UnitOfWork) -> None:
        """Forget days older than the history keeps, at most once an hour (an indexed range delete)."""
        now = self._clock.now()
        if self._trimmed_at is not None and now - self._trimmed_at < _TRIM_EVERY:
            return
        uow.tokens.trim_calls(int(now) // DAY - HISTORY_DAYS)
        self._trimmed_at = now

    def _restore(self, batch: dict[int, _PendingUse]) -> None:
        with self._lock:
            for token_id, use in batch.items():
                newer = self._pending.get(token_id)
                if newer is not None:
                    use.merge(newer)
                self._pending[token_id] = use

    def _remember(self, pair: tuple[int, str]) -> None:
        self._known[pair] = None
        self._known.move_to_end(pair)
        while len(self._known) > self._known_limit:
            self._known.popitem(last=False)


@dataclass(frozen=True)
class SeenAddress:
    ip: str
    first_seen: int
    last_seen: int


@dataclass(frozen=True)
class TokenUsage:
    """A token's recent history: calls per day and module (oldest day first) and its last addresses."""

    calls: list[tuple[int, str, int]]  # (day since the epoch, module, calls)
    addresses: list[SeenAddress]

    def by_module(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for _, module, count in self.calls:
            totals[module] = totals.get(module, 0) + count
        return dict(sorted(totals.items()))

    def by_day(self, today: int, days: int = HISTORY_DAYS) -> list[int]:
        """Calls on each of the last `days` days, oldest first (today last)."""
        counts = [0] * days
        for day, _, count in self.calls:
            index = day - (today - days + 1)
            if 0 <= index < days:
                counts[index] += count
        return counts

    @property
    def total(self) -> int:
        return sum(count for _, _, count in self.calls)


RECENT_ADDRESSES = 10


def read_usage(uow: UnitOfWork, token_ids: list[int], now: float) -> dict[int, TokenUsage]:
    """The history of these tokens (two queries however many tokens)."""
    since = int(now) // DAY - HISTORY_DAYS + 1
    calls = uow.tokens.calls(token_ids, since)
    addresses = uow.tokens.recent_addresses(token_ids, RECENT_ADDRESSES)
    return {
        token_id: TokenUsage(calls[token_id], [SeenAddress(*row) for row in addresses[token_id]])
        for token_id in token_ids
    }


class NewAddressNotices:
    """Mails the owners who asked to hear of a token used from a new address (called after a flush committed)."""

    def __init__(self, read: Callable[[], UnitOfWork], notifier: Notifier) -> None:
        self._read = read
        self._notifier = notifier

    def __call__(self, found: list[NewAddress]) -> None:
        with self._read() as uow:
            owners = {account_id: uow.accounts.get(account_id) for account_id in {item.account_id for item in found}}
        for item in found:
            account = owners[item.account_id]
            if account is not None and account.notify_new_ip:
                notice = token_used_from_new_address(account, item.token_name, item.ip, item.at)
                deliver(self._notifier, account, notice)
