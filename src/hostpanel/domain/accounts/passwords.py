"""Password hashing (argon2id) and the strength policy."""

from __future__ import annotations

from dataclasses import dataclass

import argon2
from zxcvbn import zxcvbn

from hostpanel.domain.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024
MIN_SCORE = 3  # zxcvbn's "safely unguessable: moderate protection from offline slow-hash scenario"
# zxcvbn's cost grows with length; a long password's strength is decided by its first characters anyway.
_STRENGTH_SAMPLE = 100


@dataclass(frozen=True)
class HashingCost:
    """The argon2id work factors for account passwords: passes, memory and lanes."""

    time_cost: int = 3
    memory_kib: int = 65536
    parallelism: int = 4


class PasswordHasher:
    """argon2id hashing with transparent rehash, and a dummy verification that costs what a real one costs."""

    def __init__(self, cost: HashingCost | None = None) -> None:
        cost = cost or HashingCost()
        self._hasher = argon2.PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_kib,
            parallelism=cost.parallelism,
            type=argon2.Type.ID,
        )
        self._dummy: str | None = None  # made on first need: CLI commands that never verify do not pay for it

    def warm(self) -> None:
        """Make the dummy hash now (the server does at start), so the first unknown user costs no more than others."""
        if self._dummy is None:
            self._dummy = self._hasher.hash("hostpanel dummy password for unknown users")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """True if `password` matches; with `stored=None` it does the same work and returns False."""
        if stored is None:
            self.warm()
        try:
            return self._hasher.verify(stored or self._dummy or "", password) and stored is not None
        except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)


def check_strength(password: str, username: str) -> None:
    """Refuse weak passwords with the reason, in the words a person can act on."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput("password", f"The password must be at least {MIN_LENGTH} characters long.")
    if len(password) > MAX_LENGTH:
        raise InvalidInput("password", f"The password must be at most {MAX_LENGTH} characters long.")
    if username and username.lower() in password.lower():
        raise InvalidInput("password", "The password may not contain the username.")
    result = zxcvbn(password[:_STRENGTH_SAMPLE], user_inputs=[username])
    if result["score"] < MIN_SCORE:
        feedback = result.get("feedback") or {}
        hints = [feedback.get("warning") or "", *(feedback.get("suggestions") or [])]
        reason = " ".join(h.strip() for h in hints if h and h.strip()) or "It would be too easy to guess."
        raise InvalidInput("password", f"The password is too weak: {reason}")
