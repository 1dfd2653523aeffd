"""Verified-token lookups kept in memory, so a request whose token was seen recently reads no database.

What is kept is exactly what `TokenRepository.find_by_key` answers (the token and its account, by the token's public
key); authentication still computes the HMAC and checks the account, the expiry and the address on every request.
An entry is stamped with the *generation* of tokens read before the database was, and used only while the
generation is unchanged and the entry is younger than `max_age`. Every change that authentication could notice
(rename, revocation of any kind, account suspension, features, deletion) moves the generation in every process
before the changing call returns (how: `storage/changes.py`); a generation of None turns the cache off. Unknown
keys are never kept, so a new token needs no announcement and a guessed key always costs one indexed lookup.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import WouldBlock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.tokens.model import ApiToken

Found = tuple[ApiToken, Account]


def lookup(read: Callable[[], UnitOfWork]) -> Callable[[str], Found | None]:
    """What the cache loads a missing key with: one read transaction and one indexed lookup."""

    def find(key: str) -> Found | None:
        with read() as uow:
            return uow.tokens.find_by_key(key)

    return find


class TokenCache:
    """Verified tokens with their accounts, by public key, trusted only while their generation is unchanged."""

    def __init__(
        self,
        load: Callable[[str], Found | None],
        generation: Callable[[], int | None],
        capacity: int,
        max_age: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._generation = generation
        self._capacity = capacity
        self._max_age = max_age
        self._monotonic = monotonic
        self._entries: OrderedDict[str, tuple[int, float, Found]] = OrderedDict()
        self._seen: int | None = None  # the generation the entries were stamped with
        self._lock = threading.Lock()

    def find_by_key(self, key: str) -> Found | None:
        """The token with this public key and its account, from memory when still current, else from storage."""
        generation = self._generation()  # before any read: a change racing with the load leaves a stale stamp
        entry = self._entries.get(key)
        if entry is not None and entry[0] == generation and self._monotonic() < entry[1]:  # stamps are never None
            return entry[2]
        found = self._load(key)
        if found is not None and generation is not None and self._capacity > 0:
            self._keep(key, generation, found)
        return found

    def find_in_memory(self, key: str) -> Found | None:
        """The current entry for this key; raises WouldBlock when answering would need the database."""
        generation = self._generation()
        entry = self._entries.get(key)
        if entry is None or entry[0] != generation or self._monotonic() >= entry[1]:
            raise WouldBlock
        return entry[2]

    def __len__(self) -> int:
        return len(self._entries)

    def _keep(self, key: str, generation: int, found: Found) -> None:
        with self._lock:
            if generation != self._seen:
                if self._seen is not None and generation < self._seen:
                    return  # a newer generation was seen meanwhile: this load may predate its change
                self._entries.clear()  # everything stamped earlier is dead anyway: free it
                self._seen = generation
            self._entries[key] = (generation, self._monotonic() + self._max_age, found)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
