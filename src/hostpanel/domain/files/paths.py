"""Paths inside a home, parsed lexically before anything touches the disk (pure functions).

A `HomePath` is a tuple of names below the home; it never holds `..`, `.`, an empty name, a NUL or a control
character, so joining it under the home cannot climb out. Following links is the confinement point's business
(jail.py), which never follows any.
"""

from __future__ import annotations

from dataclasses import dataclass

from hostpanel.domain.errors import InvalidInput

NAME_MAX = 255  # bytes, as the kernel counts them
PATH_MAX = 4096
# cPanel refuses these in names it is asked to create (its message lists them).
FORBIDDEN_NAME_CHARACTERS = frozenset(",/\\<>;")
# Absolute paths cPanel scripts send for the home (`/home/USER/...`) are read as the home itself.
CPANEL_HOME_PREFIX = "/home/"


@dataclass(frozen=True, order=True)
class HomePath:
    """A path below an account's home as a tuple of checked names; the empty path is the home itself."""

    parts: tuple[str, ...] = ()

    @property
    def is_home(self) -> bool:
        return not self.parts

    @property
    def name(self) -> str:
        return self.parts[-1] if self.parts else ""

    @property
    def parent(self) -> HomePath:
        return HomePath(self.parts[:-1])

    @property
    def relative(self) -> str:
        """The path as the API shows it relative to the home: `public_html/app` (empty for the home)."""
        return "/".join(self.parts)

    def join(self, *names: str) -> HomePath:
        return HomePath(self.parts + names)

    def is_within(self, other: HomePath) -> bool:
        """True when self is `other` or below it."""
        return self.parts[: len(other.parts)] == other.parts

    def __str__(self) -> str:
        return self.relative or "~"


def has_control_characters(text: str) -> bool:
    return any(ord(character) < 32 or ord(character) == 127 for character in text)


def _control_characters(field: str, what: str) -> str:
    return f"The parameter ‘{field}’ contains control characters, which {what} may not contain."


def _byte_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


def parse_relative(text: str, field: str) -> HomePath:
    """A path relative to the home; `..` may step back but never above the home."""
    if has_control_characters(text):
        raise InvalidInput(field, _control_characters(field, "paths"))
    if _byte_length(text) > PATH_MAX:
        raise InvalidInput(field, f"The parameter ‘{field}’ is longer than {PATH_MAX} bytes.")
    parts: list[str] = []
    for part in text.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise InvalidInput(field, f"The path “{text}” is outside your home directory.")
            parts.pop()
            continue
        if _byte_length(part) > NAME_MAX:
            raise InvalidInput(field, f"The name “{part[:40]}…” is longer than {NAME_MAX} bytes.")
        parts.append(part)
    return HomePath(tuple(parts))


def parse_in_home(text: str, field: str, home: str, username: str) -> HomePath:
    """A path as cPanel takes it: relative to the home, or absolute when it names the home or a path below it."""
    if text.startswith("/"):
        for prefix in (home.rstrip("/"), CPANEL_HOME_PREFIX + username):
            if text == prefix or text.startswith(prefix + "/"):
                return parse_relative(text[len(prefix) :], field)
        if has_control_characters(text):
            raise InvalidInput(field, _control_characters(field, "paths"))
        raise InvalidInput(field, f"The path “{text}” is outside your home directory.")
    if text == "~" or text.startswith("~/"):
        text = text[1:]
    return parse_relative(text, field)


def validate_name(name: str, field: str, *, existing: bool = False) -> str:
    """A single name. One to create (a file, a folder, an upload) follows cPanel's rules; one to look up
    (`existing`) may be anything a file can be called, but one level only (no `/`, `.` or `..`)."""
    forbidden = frozenset("/") if existing else FORBIDDEN_NAME_CHARACTERS
    if name in ("", ".", "..") or any(character in forbidden for character in name):
        raise InvalidInput(
            field,
            f"The parameter ‘{field}’ contains invalid characters for a filename. "
            "Do not include ,/\\<>; characters in a filename.",
        )
    if has_control_characters(name):
        raise InvalidInput(field, _control_characters(field, "file names"))
    if _byte_length(name) > NAME_MAX:
        raise InvalidInput(field, f"The parameter ‘{field}’ is longer than {NAME_MAX} bytes.")
    return name


def utf8_name(text: str) -> bool:
    """JSON carries only UTF-8; a name that is not (possible on disk) cannot be shown or addressed."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
