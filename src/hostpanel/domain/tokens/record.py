"""A token as the API, the CLI and the pages report it: cPanel's fields, then ours; never the secret."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.tokens.model import ApiToken
from hostpanel.domain.tokens.review import ReviewPolicy, flags


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
    }
