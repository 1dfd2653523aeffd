"""Recording "last used" without a database write on the request path.

Each request notes its token use in memory (a lock and a dict update); a background flush writes the batch in one
transaction every few seconds. A crash loses at most one flush interval of "last used" times; nothing else depends
on them. The first use of a token from an address is also found at flush time and written to the audit trail with
the time of that use.
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


@dataclass
class _PendingUse:
    account_id: int
    username: str
    token_name: str
    last_at: float
    last_ip: str | None
    first_seen: dict[str, float] = field(default_factory=dict)  # address -> first use in this batch

    def merge(self, other: _PendingUse) -> None:
        if other.last_at >= self.last_at:
            self.last_at, self.last_ip, self.token_name = other.last_at, other.last_ip, other.token_name
        for ip, at in other.first_seen.items():
            self.first_seen[ip] = min(at, self.first_seen.get(ip, at))


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

    def note(self, principal: Principal) -> None:
        """Remember that the principal's token was just used; called on every authenticated request."""
        token = principal.token
        if token is None:
            return
        now, ip = self._clock.now(), principal.ip
        with self._lock:
            use = self._pending.get(token.id)
            if use is None:
                use = self._pending[token.id] = _PendingUse(
                    principal.account.id, principal.account.username, token.name, now, ip
                )
            else:
                use.last_at, use.last_ip, use.token_name = now, ip, token.name
            if ip is not None and ip not in use.first_seen and (token.id, ip) not in self._known:
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
                for ip, at in sorted(use.first_seen.items(), key=lambda item: item[1]):
                    if uow.tokens.remember_ip(token_id, ip, int(at)):
                        new.append((use, NewAddress(use.account_id, use.token_name, ip, at)))
                    learned.append((token_id, ip))
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
