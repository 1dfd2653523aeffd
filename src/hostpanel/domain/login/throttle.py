"""Slowing down password guessing: each failure from an address, or against a username, doubles the wait before
the answer, up to a cap; a success clears both. Kept in memory per process: it slows guessing, it does not lock."""

from __future__ import annotations

import threading
from collections import OrderedDict

from hostpanel.domain.clock import Clock
from hostpanel.domain.security.lockout import address_subject


class LoginThrottle:
    """This process's wait before answering a failed sign-in; it doubles with each failure from an address or name."""

    def __init__(self, clock: Clock, base_delay: float, max_delay: float = 8.0, forget_after: float = 900.0) -> None:
        self._clock = clock
        self._base = base_delay
        self._max = max(max_delay, base_delay)
        self._forget_after = forget_after
        self._lock = threading.Lock()
        self._failures: OrderedDict[str, tuple[int, float]] = OrderedDict()  # key -> (count, last failure)
        self._limit = 100_000

    def _keys(self, ip: str | None, username: str) -> list[str]:
        return [f"ip:{address_subject(ip) if ip else '-'}", f"user:{username.strip().lower()[:64]}"]

    def failed(self, ip: str | None, username: str) -> float:
        """Count a failure; returns how long to wait before answering it."""
        now = self._clock.now()
        worst = 0
        with self._lock:
            for key in self._keys(ip, username):
                count, last = self._failures.pop(key, (0, now))
                count = 1 if now - last > self._forget_after else count + 1
                self._failures[key] = (count, now)
                worst = max(worst, count)
            while len(self._failures) > self._limit:
                self._failures.popitem(last=False)
        return float(min(self._base * 2 ** min(worst - 1, 16), self._max))

    def succeeded(self, ip: str | None, username: str) -> None:
        with self._lock:
            self._failures.pop(self._keys(ip, username)[1], None)
