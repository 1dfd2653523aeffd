"""Hosting packages: a feature list and limits, in cPanel's keys and words.

A package's settings are kept as cPanel writes them (`QUOTA`, `MAXPOP`, ... with `unlimited` or a number; `CGI`,
`HASSHELL`, `IP`, `DIGESTAUTH` as `y`/`n`). An account gets a copy of its package's limits (so `modifyacct` can change
one account) and the package's feature list decides which account features are off. A reseller's packages are named
`<reseller>_<name>`; it may use only those (and root's, with `viewglobalpackages`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Feature

UNLIMITED = "unlimited"
DEFAULT = "default"  # the package an account gets when none is named; built in, all unlimited
LIMIT_KEYS = (
    "QUOTA",
    "BWLIMIT",
    "MAXFTP",
    "MAXPOP",
    "MAXSQL",
    "MAXSUB",
    "MAXPARK",
    "MAXADDON",
    "MAXLST",
    "MAX_EMAIL_PER_HOUR",
    "MAX_DEFER_FAIL_PERCENTAGE",
    "MAX_EMAILACCT_QUOTA",
    "MAX_TEAM_USERS",
)
FLAG_KEYS = ("HASSHELL", "CGI", "IP", "DIGESTAUTH")
TEXT_KEYS = ("FEATURELIST", "CPMOD", "LANG")
# What a package says when a key is not given (cPanel's defaults for a new package).
DEFAULTS: dict[str, str] = {
    **dict.fromkeys(LIMIT_KEYS, UNLIMITED),
    "MAX_TEAM_USERS": "7",
    "HASSHELL": "n",
    "CGI": "y",
    "IP": "n",
    "DIGESTAUTH": "n",
    "FEATURELIST": DEFAULT,
    "CPMOD": "jupiter",
    "LANG": "en",
}
# The lower-case arguments of addpkg/editpkg/createacct and the key each sets.
ARGUMENTS: dict[str, str] = {
    **{key.lower(): key for key in LIMIT_KEYS},
    "maxpark": "MAXPARK",
    "hasshell": "HASSHELL",
    "cgi": "CGI",
    "ip": "IP",
    "digestauth": "DIGESTAUTH",
    "featurelist": "FEATURELIST",
    "cpmod": "CPMOD",
    "language": "LANG",
    "lang": "LANG",
}
# Feature lists: which account features each turns off. `default` keeps every feature; `disabled` none.
FEATURE_LISTS: dict[str, frozenset[str]] = {
    DEFAULT: frozenset(),
    "disabled": frozenset(feature.value for feature in Feature),
}
NAME_PATTERN = re.compile(r"[A-Za-z0-9 _.-]{1,64}")
_NUMBER = re.compile(r"[0-9]{1,12}")
YES = ("1", "y", "yes", "on", "true")
NO = ("0", "n", "no", "off", "false", "")


@dataclass(frozen=True)
class Package:
    """A package: its full name (with a reseller's prefix), its owner, and its settings in cPanel's keys."""

    name: str
    owner: str
    settings: dict[str, str] = field(hash=False, compare=False)
    created_at: int = 0

    @property
    def disabled_features(self) -> frozenset[str]:
        return FEATURE_LISTS.get(self.settings.get("FEATURELIST", DEFAULT), frozenset())

    def limit(self, key: str) -> int | None:
        return limit_of(self.settings, key)


def builtin_default() -> Package:
    return Package(DEFAULT, "root", dict(DEFAULTS))


def limit_of(settings: Mapping[str, str], key: str) -> int | None:
    """A limit as a number; None when unlimited (cPanel's `unlimited`, or 0 for most limits)."""
    value = str(settings.get(key, UNLIMITED)).strip().lower()
    if value in (UNLIMITED, "", "0") or not _NUMBER.fullmatch(value):
        return None
    return int(value)


def parse_value(key: str, raw: str) -> str:
    """One argument's value in the stored form; a clear error for nonsense."""
    text = raw.strip()
    if key in LIMIT_KEYS:
        lowered = text.lower()
        if lowered in (UNLIMITED, ""):
            return UNLIMITED
        if not _NUMBER.fullmatch(lowered):
            raise InvalidInput(key.lower(), f"The value “{raw}” for “{key.lower()}” must be a number or “unlimited”.")
        return str(int(lowered))
    if key in FLAG_KEYS:
        lowered = text.lower()
        if lowered in YES:
            return "y"
        if lowered in NO:
            return "n"
        raise InvalidInput(key.lower(), f"The value “{raw}” for “{key.lower()}” must be 1 or 0.")
    if key == "FEATURELIST" and text not in FEATURE_LISTS:
        known = ", ".join(sorted(FEATURE_LISTS))
        raise InvalidInput("featurelist", f"The feature list “{text}” does not exist. Feature lists: {known}.")
    if len(text) > 64 or not text.isprintable():
        raise InvalidInput(key.lower(), f"The value for “{key.lower()}” is not valid.")
    return text


def settings_from(arguments: Callable[[str], str | None], base: Mapping[str, str]) -> dict[str, str]:
    """`base` with every setting the caller gave (cPanel's lower-case argument names) applied."""
    settings = dict(base)
    for name, key in ARGUMENTS.items():
        value = arguments(name)
        if value is not None:
            settings[key] = parse_value(key, value)
    return settings


def validate_name(name: str, field: str = "name") -> str:
    if not NAME_PATTERN.fullmatch(name) or name.strip() != name:
        raise InvalidInput(
            field, f"“{name}” is not a valid package name: use 1 to 64 letters, digits, spaces, “_”, “-” or “.”."
        )
    return name


def listed(package: Package) -> dict[str, object]:
    """A package as `listpkgs` shows it: its name and every setting in cPanel's keys."""
    settings = {**DEFAULTS, **package.settings}
    return {"name": package.name, **{key: settings[key] for key in (*LIMIT_KEYS, *FLAG_KEYS, *TEXT_KEYS)},
            "_PACKAGE_EXTENSIONS": ""}  # fmt: skip


def described(package: Package) -> dict[str, object]:
    """A package as `getpkginfo` shows it: `unlimited` as null, the y/n flags as 1/0."""
    settings = {**DEFAULTS, **package.settings}
    shown: dict[str, object] = {}
    for key in (*LIMIT_KEYS, *FLAG_KEYS, *TEXT_KEYS):
        value = settings[key]
        if key in LIMIT_KEYS:
            shown[key] = None if value == UNLIMITED else int(value)
        elif key in FLAG_KEYS:
            shown[key] = 1 if value == "y" else 0
        else:
            shown[key] = value
    return {**shown, "_PACKAGE_EXTENSIONS": ""}
