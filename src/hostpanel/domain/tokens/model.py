"""The stored token record and the rules for its name and expiry (cPanel's rules and messages)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.accounts.model import Service
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions

NAME_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,50}")
# cPanel's upper bound for an epoch value; anything larger is not a timestamp.
MAX_EPOCH = 67767976233521999


class TokenStatus(StrEnum):
    """Whether a token still authenticates (active) or has passed its expiry."""

    ACTIVE = "active"
    EXPIRED = "expired"


@dataclass(frozen=True)
class PreviousSecret:
    """A rotated-out secret (its keyed digest only), accepted until `valid_until`."""

    digest: bytes
    pepper_id: int
    valid_until: int
    last_used_at: int | None = None


@dataclass(frozen=True)
class ApiToken:
    """A token as stored: never its secret, only the public key and the keyed digest."""

    id: int
    account_id: int
    name: str
    key: str
    digest: bytes
    pepper_id: int
    permissions: Permissions
    created_at: int
    expires_at: int | None
    last_used_at: int | None = None
    last_used_ip: str | None = None
    rate_limit: int | None = None  # requests per rate window; None: the server's default, 0: unlimited
    restrictions: Restrictions = NO_RESTRICTIONS
    service: Service = Service.CPANEL  # a cPanel token works on the account's API, a WHM token on WHM's only
    acls: frozenset[str] | None = None  # a WHM token's ACLs; None: all of its owner's
    previous: PreviousSecret | None = None  # the secret before the last rotation, while it may still be accepted
    rotated_at: int | None = None
    max_uses: int | None = None  # None: no limit
    uses: int = 0  # counted only when there is a limit
    imported: bool = False  # from a cPanel token store (its secret may be a 32-character cPanel token)

    def is_expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def previous_valid(self, now: float) -> PreviousSecret | None:
        """The old secret when its grace period has not run out yet."""
        return self.previous if self.previous is not None and now < self.previous.valid_until else None

    @property
    def exhausted(self) -> bool:
        return self.max_uses is not None and self.uses >= self.max_uses

    def status(self, now: float) -> TokenStatus:
        return TokenStatus.EXPIRED if self.is_expired(now) else TokenStatus.ACTIVE


@dataclass(frozen=True)
class IssuedToken:
    """The only object that ever holds a token's secret: the return value of creation."""

    token: ApiToken
    secret: str


MAX_GRACE_PERIOD = 7 * 86400
DEFAULT_GRACE_PERIOD = 86400
MAX_USES = 1_000_000_000


def parse_grace_period(value: str | int | None) -> int:
    """Seconds the old secret keeps working after a rotation: 0 to 7 days; absent: 24 hours."""
    if value is None or value == "":
        return DEFAULT_GRACE_PERIOD
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 7 or int(text) > MAX_GRACE_PERIOD:
        raise InvalidInput(
            "grace_period", f"“{value}” is not a valid grace period: give 0 to {MAX_GRACE_PERIOD} seconds (7 days)."
        )
    return int(text)


def parse_max_uses(value: str | int | None) -> int | None:
    """How many requests a token may make in all: a positive integer; absent: no limit."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10 or not 1 <= int(text) <= MAX_USES:
        raise InvalidInput("max_uses", f"“{value}” is not a valid use limit: give a whole number from 1 to {MAX_USES}.")
    return int(text)


def validate_name(name: str, field: str = "name") -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidInput(
            field,
            f"“{name}” is not a valid API token name. An API token name must not be longer than 50 characters "
            "and may only contain the following characters: a-z A-Z 0-9 _ -",
        )
    return name


def parse_expires_at(value: str | int | None, now: float) -> int | None:
    """cPanel's `expires_at`: Unix seconds in the future; absent or 0 means the token never expires."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    digits = text.lstrip("0") or "0"
    # Length before int(): int() refuses strings of thousands of digits with a ValueError.
    if not text.isascii() or not text.isdigit() or len(digits) > len(str(MAX_EPOCH)) or int(digits) > MAX_EPOCH:
        raise InvalidInput("expires_at", f"“{value}” is not a valid UNIX epoch timestamp.")
    epoch = int(digits)
    if epoch == 0:
        return None
    if epoch <= now:
        raise InvalidInput("expires_at", f"The “{value}” value must be a future date.")
    return epoch


class TokenOrder(StrEnum):
    """The columns a page of tokens can be sorted by."""

    NAME = "name"
    CREATED = "created_at"
    EXPIRES = "expires_at"  # tokens that never expire come last
    LAST_USED = "last_used_at"  # tokens never used come last


@dataclass(frozen=True)
class TokenQuery:
    """A page of an account's tokens: `offset` counts from 0; `limit=None` means all the rest. `name_contains`
    keeps only names containing that text (case-insensitive). A user's cPanel and WHM tokens are apart: `service`
    says which ones."""

    offset: int = 0
    limit: int | None = None
    order: TokenOrder = TokenOrder.NAME
    descending: bool = False
    name_contains: str | None = None
    service: Service = Service.CPANEL
