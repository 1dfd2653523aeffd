"""Mailboxes and forwarders as stored, and cPanel's rules for their names and quotas."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hostpanel.domain.errors import InvalidInput

LOCAL_PART = re.compile(r"[a-z0-9_-]+(?:\.[a-z0-9_-]+)*")
MAX_LOCAL_PART = 64
RESERVED_LOCAL_PARTS = frozenset({"cpanel"})  # cPanel keeps this name for itself
MAX_QUOTA_MB = 2_097_152  # 2 TiB
UNLIMITED = 0
# One message fans out to every destination of its address, and every change rewrites the whole alias map.
MAX_DESTINATIONS = 100
MAX_FORWARDERS = 10_000


@dataclass(frozen=True)
class Mailbox:
    """A mailbox as stored: its address on one of the account's domains, password hash and quota."""

    id: int
    account_id: int
    domain: str
    local_part: str
    password_hash: str
    quota_mb: int  # 0: unlimited
    created_at: int

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


@dataclass(frozen=True)
class PublishedMailbox:
    """What the mail server needs of a mailbox: its account's name locates the Maildir under the home."""

    mailbox: Mailbox
    username: str


@dataclass(frozen=True)
class Forwarder:
    """One forwarding as stored: mail for `address` is also sent to `destination`."""

    id: int
    account_id: int
    domain: str
    address: str  # the address mail arrives for
    destination: str  # where it goes
    created_at: int


def validate_local_part(text: str, field: str = "email") -> str:
    local = text.strip().lower()
    if len(local) > MAX_LOCAL_PART or not LOCAL_PART.fullmatch(local):
        raise InvalidInput(
            field,
            f"“{text}” is not a valid email account name: use 1 to {MAX_LOCAL_PART} letters, digits, hyphens, "
            "underscores and periods, with no period at the start or end and never two in a row.",
        )
    if local in RESERVED_LOCAL_PARTS:
        raise InvalidInput(field, f"“{text}” is a reserved name.")
    return local


def parse_quota(text: str | None, default: int = UNLIMITED) -> int:
    """cPanel's `quota`: megabytes; `0` or `unlimited` for no limit."""
    if text is None or text == "":
        return default
    value = text.strip().lower()
    if value == "unlimited":
        return UNLIMITED
    if not value.isascii() or not value.isdigit() or int(value) > MAX_QUOTA_MB:
        raise InvalidInput(
            "quota",
            f"The quota must be a whole number of megabytes from 1 to {MAX_QUOTA_MB}, or 0 or “unlimited” for no "
            "limit.",
        )
    return int(value)
