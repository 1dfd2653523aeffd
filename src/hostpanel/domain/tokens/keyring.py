"""The server-side peppers that key token digests; they live in a file outside the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hostpanel.domain.tokens import secret


@dataclass(frozen=True)
class Keyring:
    """Versioned peppers: new tokens use the newest, old tokens keep verifying with the one they were made with."""

    peppers: Mapping[int, bytes]

    def __post_init__(self) -> None:
        if not self.peppers:
            raise ValueError("a keyring needs at least one pepper")
        if any(len(pepper) < 32 for pepper in self.peppers.values()):
            raise ValueError("each pepper must be at least 32 bytes")

    @property
    def current_id(self) -> int:
        return max(self.peppers)

    @property
    def current(self) -> bytes:
        return self.peppers[self.current_id]

    def get(self, pepper_id: int) -> bytes | None:
        return self.peppers.get(pepper_id)

    def verifies(self, text: str, pepper_id: int, stored: bytes) -> bool:
        """`text` is the secret whose digest, keyed by pepper `pepper_id`, is `stored` (in constant time); a token
        made with a pepper no longer held verifies nothing."""
        pepper = self.get(pepper_id)
        return pepper is not None and secret.matches(pepper, text, stored)
