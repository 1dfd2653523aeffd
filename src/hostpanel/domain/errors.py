"""The small tree of domain errors; each interface maps them to its own form in exactly one place."""

from __future__ import annotations

from dataclasses import dataclass


class HostpanelError(Exception):
    """Base of every error the domain raises on purpose; `message` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(HostpanelError):
    """A value the caller gave is not acceptable; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class NotFound(HostpanelError):
    """The named object does not exist (for this account)."""


class Conflict(HostpanelError):
    """The change would break a uniqueness rule, e.g. a second token with the same name."""


@dataclass(frozen=True)
class MisusedToken:
    """A real token presented under another username: its owner should hear of it (it may have leaked)."""

    account_id: int
    username: str
    token_name: str


class AuthenticationFailed(HostpanelError):
    """Credentials were refused. `reason` (and `restriction`, when a token restriction refused the caller) are for
    the audit trail only: callers all see the same answer. `misused` names a real token presented under another
    username, for its owner's trail."""

    def __init__(
        self,
        reason: str,
        username: str | None = None,
        restriction: str | None = None,
        misused: MisusedToken | None = None,
    ) -> None:
        super().__init__("Access denied")
        self.reason = reason
        self.username = username
        self.restriction = restriction
        self.misused = misused


class PermissionDenied(HostpanelError):
    """An authenticated caller lacks a feature or scope; `missing` names it (e.g. `tokens:write`)."""

    def __init__(self, message: str, missing: str) -> None:
        super().__init__(message)
        self.missing = missing


class Unavailable(HostpanelError):
    """A service the request needs (the counters' store, say) cannot be reached; the caller may retry."""


class RestrictionDenied(PermissionDenied):
    """A token restriction refused the call; `restriction` names it (e.g. `read_only`, `fileman_paths`)."""

    def __init__(self, message: str, restriction: str, detail: str | None = None) -> None:
        super().__init__(message, missing=restriction)
        self.restriction = restriction
        self.detail = detail


class AccountSuspended(HostpanelError):
    """The account is suspended, so the requested change is refused."""


class WouldBlock(Exception):
    """Answering needs I/O (a database or Redis read), and the caller asked for an answer from memory only."""
