"""A token as the API, the CLI and the pages report it: cPanel's fields, then ours; never the secret."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.review import ReviewPolicy, flags
from hostpanel.domain.tokens.usage import DAY, TokenUsage


def token_record(token: ApiToken, now: float, review: ReviewPolicy | None = None) -> dict[str, Any]:
    """cPanel's list fields, then ours: expiry state, scopes, restrictions, last use, rate limit and review flags
    (never the secret or its digest). `whitelist_ips` is cPanel's field; `fileman_paths`, `email_domains` and
    `read_only` are ours."""
    permissions = token.permissions
    return {
        "name": token.name,
        "create_time": token.created_at,
        "expires_at": token.expires_at,
        "expired": 1 if token.is_expired(now) else 0,
        "has_full_access": 1 if permissions.full_access else 0,
        "features": permissions.feature_names(),
        "scopes": permissions.scope_names(),
        **token.restrictions.record(),
        "last_used": token.last_used_at,
        "last_used_ip": token.last_used_ip,
        "rate_limit": token.rate_limit,
        "flags": [flag.value for flag in flags(token, now, review or ReviewPolicy())],
        **lifecycle_fields(token, now),
    }


def lifecycle_fields(token: ApiToken, now: float) -> dict[str, Any]:
    """Our `hp_*` fields: rotation (the old secret's end and last use), the use limit, and the import origin."""
    previous = token.previous_valid(now)
    return {
        "hp_rotated_at": token.rotated_at,
        "hp_rotating": 1 if previous is not None else 0,
        "hp_old_secret_valid_until": previous.valid_until if previous else None,
        "hp_old_secret_last_used": previous.last_used_at if previous else None,
        "hp_max_uses": token.max_uses,
        "hp_uses": token.uses if token.max_uses is not None else None,
        "hp_imported": 1 if token.imported else 0,
        "hp_cpanel_format": 1 if token.imported and token.rotated_at is None else 0,
        "hp_state": describe_lifecycle(token, now),
    }


def describe_lifecycle(token: ApiToken, now: float) -> list[str]:
    """Short phrases for lists and pages: "rotating, old secret valid until …", "used k of N", "imported"."""
    phrases = []
    previous = token.previous_valid(now)
    if previous is not None:
        used = f"last used {_utc(previous.last_used_at)}" if previous.last_used_at else "not used since"
        phrases.append(f"rotating, old secret valid until {_utc(previous.valid_until)} ({used})")
    if token.max_uses is not None:
        phrases.append(f"used {token.uses} of {token.max_uses}")
    if token.imported:
        phrases.append("imported (rotate to get hostpanel's format)" if token.rotated_at is None else "imported")
    return phrases


def _utc(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def usage_fields(usage: TokenUsage) -> dict[str, Any]:
    """Our `hp_*` usage fields: calls over the kept days, by module and by day, and the last addresses."""
    return {
        "hp_calls": usage.total,
        "hp_calls_by_module": usage.by_module(),
        "hp_calls_by_day": [{"day": _day(day), "module": module, "calls": count} for day, module, count in usage.calls],
        "hp_recent_addresses": [
            {"ip": seen.ip, "first_seen": seen.first_seen, "last_seen": seen.last_seen} for seen in usage.addresses
        ],
    }


def _day(day: int) -> str:
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")
