"""Request rate limits in fixed windows, with what the `RateLimit-*` and `Retry-After` headers report.

Counting never touches the database: by default each process counts in memory (with several worker processes each
enforces the limit on its own share of requests); with Redis configured the count is shared by every process.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass
from typing import Protocol

from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import WouldBlock


class RateCounter(Protocol):
    """Counts requests per key in fixed windows, in this process or in a store every process shares."""

    in_memory: bool  # counts without I/O (per process), so a request can be counted on the event loop

    def increment(self, key: str, window_start: int, window: int) -> int:
        """Count one request for `key` in the window starting at `window_start`; the count so far."""
        ...


@dataclass(frozen=True)
class RateDecision:
    """Whether a request is within its limit, and what the rate limit headers tell the client."""

    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds until the window ends
    window: int

    def headers(self) -> dict[str, str]:
        """draft-ietf-httpapi-ratelimit-headers fields, plus Retry-After on refusal."""
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset),
            "RateLimit-Policy": f"{self.limit};w={self.window}",
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset)
        return headers


class RateLimiter:
    """Counts a request against a per-window limit and decides whether it may go ahead."""

    def __init__(self, counter: RateCounter, clock: Clock, window: int) -> None:
        self._counter = counter
        self._clock = clock
        self._window = window

    def hit(self, key: str, limit: int, in_memory_only: bool = False) -> RateDecision | None:
        """Count a request against `limit` per window; None when `limit` is 0 (unlimited). With `in_memory_only`,
        raise WouldBlock rather than count in a shared store."""
        if limit <= 0:
            return None
        if in_memory_only and not self._counter.in_memory:
            raise WouldBlock
        now = self._clock.now()
        start = int(now // self._window * self._window)
        count = self._counter.increment(key, start, self._window)
        reset = max(1, math.ceil(start + self._window - now))
        return RateDecision(count <= limit, limit, max(0, limit - count), reset, self._window)


class MemoryRateCounter:
    """Per-process counts; windows that ended are dropped as new ones start."""

    in_memory = True

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}
        self._current = 0

    def increment(self, key: str, window_start: int, window: int) -> int:
        with self._lock:
            if window_start > self._current:
                self._current = window_start
                self._counts = {k: v for k, v in self._counts.items() if v[0] + window > window_start}
            start, count = self._counts.get(key, (window_start, 0))
            if start != window_start:
                start, count = window_start, 0
            self._counts[key] = (start, count + 1)
            return count + 1
