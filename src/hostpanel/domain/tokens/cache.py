"""Token lookups kept in memory, so a request reads the database only for a token this process has not met yet.

What is kept is exactly what `TokenRepository.find_by_key` answers (the token and its account, by the token's lookup
key, or that no such token exists); authentication still computes the HMAC and checks the account, the expiry and the
address on every request. Beside the entries, the process knows which keys exist at all (`KnownKeys`, loaded at
start): a key never issued is answered "no such token" from memory, without a database read.

Entries live until what they hold changes (and at most `max_age`, a safety limit). Every change that authentication
could notice names what it changed (a token by its key, an account by its id) in a feed every process reads
(`storage/changes.py`): before reading an entry the cache applies the changes announced since it last looked,
dropping only the entries they name, so a revocation elsewhere leaves every other token warm. A creation is a change
too: it adds the key to the known set in every process before the creating call returns. A load is stamped with the
feed's stable position read before the database was; it is kept only if nothing it holds was announced after that
stamp (a change racing with the load leaves it unkept). A feed that is not trusted now (None) turns memory off:
every lookup reads the database, and nothing is kept; a feed that lost changes makes the cache start over.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import WouldBlock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.tokens.known import KnownKeys
from hostpanel.domain.tokens.model import ApiToken

Found = tuple[ApiToken, Account]
Change = tuple[int, str, str]  # (position, "key" | "account" | anything else: everything, value)
_LOG = 8192  # changes remembered to check loads against; a load stamped before the oldest is not kept


class TokenFeed(Protocol):
    """The changes to tokens and accounts announced by every process (see `storage/changes.py`)."""

    def token_position(self) -> int | None: ...

    def token_stable(self) -> int: ...

    def token_changes(self, after: int) -> tuple[int, list[Change]] | None: ...


def lookup(read: Callable[[], UnitOfWork]) -> Callable[[str], Found | None]:
    """A cache's loader through the repository: one read transaction and one indexed lookup."""

    def find(key: str) -> Found | None:
        with read() as uow:
            return uow.tokens.find_by_key(key)

    return find


def all_keys(read: Callable[[], UnitOfWork]) -> Callable[[], Iterable[str]]:
    """What the known set is loaded from: every stored lookup key."""

    def keys() -> Iterable[str]:
        with read() as uow:
            return list(uow.tokens.all_keys())

    return keys


class _Entry:
    __slots__ = ("account_id", "found", "until")

    def __init__(self, found: Found | None, until: float) -> None:
        self.found = found
        self.until = until
        self.account_id = found[1].id if found is not None else None


class TokenCache:
    """Token lookups by key (found or not), each dropped when a change names it; and the keys that exist."""

    def __init__(
        self,
        load: Callable[[str], Found | None],
        feed: TokenFeed,
        capacity: int,
        max_age: float,
        *,
        keys: Callable[[], Iterable[str]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._feed = feed
        self._keys = keys
        self._capacity = capacity
        self._max_age = max_age
        self._monotonic = monotonic
        self._entries: dict[str, _Entry] = {}
        self._by_account: dict[int, set[str]] = {}
        self._known: KnownKeys | None = None  # None until loaded: unknown keys are then read from the database
        self._applied = -1  # the feed's position the entries reflect (-1: never read)
        self._log: deque[Change] = deque(maxlen=_LOG)
        self._log_floor = 0  # loads stamped below this may have missed a change: never kept
        self._lock = threading.RLock()
        self._loading = False  # a thread is reading every key
        self.loads = 0  # how many lookups went to the database (for tests and benchmarks)

    def load(self) -> None:
        """Learn which keys exist (at start, and after the feed lost changes). Reads the whole key list."""
        with self._lock:
            position = self._feed.token_position()
            if position is None or self._keys is None:
                return  # not trusted yet: the first lookup that finds the feed trusted loads it
            known = self._read_keys()
            self._forget_all(position)
            self._known = known

    def _read_keys(self) -> KnownKeys:
        """Every stored key, read while `loading` says so: lookups meanwhile go to the database instead of waiting."""
        assert self._keys is not None
        self._loading = True
        try:
            return KnownKeys(self._keys())
        finally:
            self._loading = False

    def find_by_key(self, key: str) -> Found | None:
        """The token with this key and its account: from memory when current, else from storage (and kept)."""
        position = self._feed.token_position()
        if position is None or self._loading:
            # Not trusted yet, or another thread is reading every key (seconds at a million): the database answers
            # this one and nothing is kept.
            return self._read(key)
        if position != self._applied or self._unloaded():
            self._catch_up(position, may_read=True)
        entry = self._entries.get(key)
        if entry is not None and self._monotonic() < entry.until:
            return entry.found
        known = self._known
        if known is not None and not known.may_contain(key):
            return None
        stamp = self._feed.token_stable()
        found = self._read(key)
        if self._capacity > 0 and (found is not None or known is not None):
            self._keep(key, stamp, found)  # "no such token" is kept only for keys the known set lets through
        return found

    def find_in_memory(self, key: str) -> Found | None:
        """The answer from memory; raises WouldBlock when answering would need the database."""
        position = self._feed.token_position()
        if position is None:
            raise WouldBlock
        if position != self._applied or self._unloaded():
            self._catch_up(position, may_read=False)
        entry = self._entries.get(key)
        if entry is not None and self._monotonic() < entry.until:
            return entry.found
        known = self._known
        if known is None or known.may_contain(key):
            raise WouldBlock
        return None

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def known(self) -> KnownKeys | None:
        return self._known

    def _unloaded(self) -> bool:
        return self._known is None and self._keys is not None

    def _read(self, key: str) -> Found | None:
        self.loads += 1
        return self._load(key)

    def _catch_up(self, position: int, may_read: bool) -> None:
        """Apply the changes announced since the entries were last brought up to date. Without `may_read` (on the
        event loop) it never waits: while another thread holds the cache (loading every key takes a second or more
        at a million tokens) the caller is sent to the full path."""
        if not self._lock.acquire(blocking=may_read):
            raise WouldBlock
        try:
            if self._applied == position and not self._unloaded():
                return
            read = self._feed.token_changes(self._applied) if self._applied >= 0 else None
            if read is None or self._unloaded():
                if not may_read:
                    raise WouldBlock  # starting over reads every key: not on the event loop
                self._start_over()
                return
            reached, changes = read
            for change in changes:
                self._apply(change)
            self._applied = reached
        finally:
            self._lock.release()

    def _start_over(self) -> None:
        position = self._feed.token_position()
        if position is None:
            return
        if self._keys is None:
            self._forget_all(position)
            return
        known = self._read_keys()
        self._forget_all(position)
        self._known = known

    def _forget_all(self, position: int) -> None:
        self._entries = {}
        self._by_account = {}
        self._log.clear()
        self._log_floor = position
        self._applied = position

    def _apply(self, change: Change) -> None:
        _, kind, value = change
        self._log.append(change)
        if len(self._log) == self._log.maxlen:
            self._log_floor = self._log[0][0]
        if kind == "key":
            self._drop(value)
            if self._known is not None:
                self._known.add(value)  # a creation (adding a key already known changes nothing)
        elif kind == "account":
            for key in list(self._by_account.get(int(value), ())):
                self._drop(key)
        else:
            self._forget_all(change[0])
            if self._keys is not None:
                self._known = None  # creations may have been missed: loaded again by the next thread-side lookup

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None and entry.account_id is not None:
            keys = self._by_account.get(entry.account_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_account[entry.account_id]

    def _keep(self, key: str, stamp: int, found: Found | None) -> None:
        with self._lock:
            position = self._feed.token_position()
            if position is None:
                return
            if position != self._applied:
                try:
                    self._catch_up(position, may_read=False)
                except WouldBlock:
                    return  # the feed lost changes: the next lookup starts over
            if stamp < self._log_floor or self._announced_since(stamp, key, found):
                return  # a change may have raced with this load
            while len(self._entries) >= self._capacity:
                self._drop(next(iter(self._entries)))  # the oldest entry
            entry = _Entry(found, self._monotonic() + self._max_age)
            self._entries[key] = entry
            if entry.account_id is not None:
                self._by_account.setdefault(entry.account_id, set()).add(key)

    def _announced_since(self, stamp: int, key: str, found: Found | None) -> bool:
        account = str(found[1].id) if found is not None else None
        for position, kind, value in reversed(self._log):
            if position <= stamp:
                return False
            if kind == "key":
                if value == key:
                    return True
            elif kind != "account" or value == account:
                return True
        return False
