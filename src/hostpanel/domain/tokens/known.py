"""Which lookup keys exist, in memory: a set with no false negatives, so an unknown key is refused without the
database.

Each key is kept as a 64-bit fingerprint: Python's `hash` (SipHash) of the key's text behind a random salt each set
draws, so no one outside the process can make keys that collide with stored ones and push them onto the database,
not even where an operator fixed `PYTHONHASHSEED` (which makes `hash` alone predictable). Fingerprints live in a
sorted array (8 bytes a key) searched by bisection, with the keys added since the last merge in a small set beside
it. A key is never taken out: a deleted token's key stays "maybe" (a false positive, answered by one lookup, then
remembered as absent by the cache) until the set is loaded again. Keys of any kind fit (public ids, keyed hashes of
imported tokens): only their text is fingerprinted.
"""

from __future__ import annotations

import secrets
import threading
from array import array
from bisect import bisect_left
from collections.abc import Iterable

_MERGE_AT = 4096  # keys added since the last merge kept in a set; past that, merged into the sorted array


class KnownKeys:
    """A set of lookup keys with no false negatives and rare false positives, about 8 bytes per key."""

    def __init__(self, keys: Iterable[str] = ()) -> None:
        # A list sorted in place, duplicates kept (a key is stored once; a repeat costs 8 bytes, not a wrong answer):
        # building a set of a million fingerprints first took twice as long.
        self._salt = secrets.token_hex(8)
        fingerprints = list(map(hash, map(self._salt.__add__, keys)))
        fingerprints.sort()
        self._sorted = array("q", fingerprints)
        self._added: set[int] = set()
        self._lock = threading.Lock()

    def may_contain(self, key: str) -> bool:
        """False only when the key was never added: the answer a refusal may rest on."""
        fingerprint = hash(self._salt + key)
        if fingerprint in self._added:
            return True
        found = self._sorted
        at = bisect_left(found, fingerprint)
        return at < len(found) and found[at] == fingerprint

    def add(self, key: str) -> None:
        fingerprint = hash(self._salt + key)
        with self._lock:
            self._added.add(fingerprint)
            if len(self._added) >= _MERGE_AT:
                # A new array, swapped in whole: readers see the old one (with `_added`) or the new one, never half.
                # The sort finds the long sorted run and merges the additions in: ~0.1 s at a million keys.
                merged = self._sorted.tolist()
                merged.extend(self._added)
                merged.sort()
                self._sorted = array("q", merged)
                self._added = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._added)

    @property
    def nbytes(self) -> int:
        """Memory the fingerprints take (the array's buffer; the small set of recent additions aside)."""
        return self._sorted.itemsize * len(self._sorted)
