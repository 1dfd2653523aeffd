"""Time as a collaborator, so services and tests agree on "now"."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where services read the current time, so tests can set it."""

    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real clock: the system's wall-clock time."""

    def now(self) -> float:
        return time.time()
