"""The regular review of tokens: which ones are expired, expiring, unused, never used, or hold full access."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hostpanel.domain.tokens.model import ApiToken

DAY = 86400


class Flag(StrEnum):
    """Why a review points a token out: expired, expiring soon, unused, never used, or full access."""

    EXPIRED = "expired"
    EXPIRING_SOON = "expiring_soon"
    UNUSED = "unused"
    NEVER_USED = "never_used"
    FULL_ACCESS = "full_access"


@dataclass(frozen=True)
class ReviewPolicy:
    """When a review calls a token unused, and how close to expiry it calls it expiring soon."""

    unused_days: int = 90
    expiring_days: int = 7


def is_unused(token: ApiToken, now: float, days: int) -> bool:
    """Not used for `days` days: its last use (or, never used, its creation) is at least that old."""
    return (token.last_used_at or token.created_at) <= now - days * DAY


def is_expiring_soon(token: ApiToken, now: float, days: int) -> bool:
    """Not expired yet, but within `days` days of it."""
    return token.expires_at is not None and not token.is_expired(now) and token.expires_at <= now + days * DAY


def flags(token: ApiToken, now: float, policy: ReviewPolicy) -> list[Flag]:
    found = []
    if token.is_expired(now):
        found.append(Flag.EXPIRED)
    elif is_expiring_soon(token, now, policy.expiring_days):
        found.append(Flag.EXPIRING_SOON)
    if is_unused(token, now, policy.unused_days):
        found.append(Flag.UNUSED)
    if token.last_used_at is None:
        found.append(Flag.NEVER_USED)
    if token.permissions.full_access:
        found.append(Flag.FULL_ACCESS)
    return found
