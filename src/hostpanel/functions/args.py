"""A call's arguments with cPanel's form conventions (shared by UAPI, API 2 and WHM API 1): GET and POST merged,
repeated keys numbered, cPanel's error texts. Which keys are the dialect's own meta-arguments, the dialect says."""

from __future__ import annotations

import re
from collections.abc import Iterable

from hostpanel.domain.errors import InvalidInput

# `foo-N`: ASCII digits, few enough for int() and for any sane count of repeats; other suffixes are just names.
_NUMBERED = re.compile(r"-([0-9]{1,9})")
# What a SQL BIGINT holds: a larger number would fail in the database instead of getting a clear answer here.
MAX_INTEGER = 2**63 - 1


class Args:
    """`foo=a&foo=b&foo=c` is stored as `foo=a`, `foo-0=b`, `foo-1=c`, as cPanel's form parser does.

    Keys starting with one of `meta_prefixes` are the dialect's meta-arguments (UAPI's `api.*`), kept apart in
    `meta`. Raises InvalidInput for an argument containing NUL.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]], meta_prefixes: tuple[str, ...] = ()) -> None:
        self._values: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        # Per repeated key, the lowest number not yet known to be taken: slots below it never free up, so the
        # search resumes there and a request of one key repeated is numbered in linear, not quadratic, time.
        next_free: dict[str, int] = {}
        for key, value in pairs:
            if "\0" in key or "\0" in value:
                # No name, address or path holds one, and PostgreSQL refuses it in text.
                shown = key.replace("\0", "\\0")
                raise InvalidInput(shown, f"The “{shown}” argument cannot contain a NUL character.")
            target = self.meta if meta_prefixes and key.startswith(meta_prefixes) else self._values
            if key not in target:
                target[key] = value
                continue
            n = next_free.get(key, 0)
            while f"{key}-{n}" in target:
                n += 1
            target[f"{key}-{n}"] = value
            next_free[key] = n + 1

    def names(self) -> set[str]:
        return set(self._values)

    def pairs(self) -> list[tuple[str, str]]:
        """Every argument (repeats numbered), meta-arguments aside."""
        return list(self._values.items())

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
        self, name: str, default: int | None = None, minimum: int = 0, maximum: int = MAX_INTEGER
    ) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return default
        digits = value.lstrip("0") or "0"
        # Length before int(): int() refuses strings of thousands of digits with a ValueError.
        usable = value.isascii() and value.isdigit() and len(digits) <= len(str(maximum))
        number = int(digits) if usable else None
        if number is None or number < minimum or number > maximum:
            raise InvalidInput(name, f"The “{name}” argument must be a whole number from {minimum} to {maximum}.")
        return number
