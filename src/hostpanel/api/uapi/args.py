"""Call arguments with cPanel's conventions: GET and POST merged, repeated keys numbered, cPanel's error texts."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hostpanel.domain.errors import InvalidInput

META_PREFIX = "api."
_NUMBERED = re.compile(r"-(\d+)")


class Args:
    """`foo=a&foo=b&foo=c` is stored as `foo=a`, `foo-0=b`, `foo-1=c`, as cPanel's form parser does."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._values: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        for key, value in pairs:
            target = self.meta if key.startswith(META_PREFIX) else self._values
            if key not in target:
                target[key] = value
                continue
            n = 0
            while f"{key}-{n}" in target:
                n += 1
            target[f"{key}-{n}"] = value

    def names(self) -> set[str]:
        return set(self._values)

    def get(self, name: str, default: str | None = None) -> str | None:
        return self._values.get(name, default)

    def require(self, name: str) -> str:
        value = self._values.get(name)
        if value is None:
            raise InvalidInput(name, f"Provide the “{name}” argument.")
        if value == "":
            raise InvalidInput(name, f"The “{name}” argument cannot be empty.")
        return value

    def get_multiple(self, name: str) -> list[str]:
        """The bare key first, then `name-N` in numeric order."""
        numbered = []
        for key, value in self._values.items():
            if key.startswith(name) and (match := _NUMBERED.fullmatch(key[len(name) :])):
                numbered.append((int(match.group(1)), value))
        bare = [self._values[name]] if name in self._values else []
        return bare + [value for _, value in sorted(numbered)]

    def require_multiple(self, name: str) -> list[str]:
        values = self.optional_multiple(name)
        if not values:
            raise InvalidInput(name, f"Provide at least one “{name}” argument.")
        return values

    def optional_multiple(self, name: str) -> list[str]:
        """Like `get_multiple`, but an empty item is an error rather than a value."""
        values = self.get_multiple(name)
        if any(value == "" for value in values):
            raise InvalidInput(name, f"The “{name}” arguments cannot be empty.")
        return values

    def flag(self, name: str, default: bool = False) -> bool:
        """cPanel booleans are 1 and 0."""
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if value not in ("0", "1"):
            raise InvalidInput(name, f"The “{name}” argument must be 1 or 0.")
        return value == "1"

    def integer(
        self, name: str, default: int | None = None, minimum: int = 0, maximum: int | None = None
    ) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        if not value.isascii() or not value.isdigit() or int(value) < minimum or (maximum and int(value) > maximum):
            bounds = f"from {minimum} to {maximum}" if maximum else f"of at least {minimum}"
            raise InvalidInput(name, f"The “{name}” argument must be a whole number {bounds}.")
        return int(value)
