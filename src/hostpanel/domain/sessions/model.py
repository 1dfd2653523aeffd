"""A web session and the rules for how long it lives and when it counts as freshly authenticated ("sudo")."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hostpanel.domain.accounts.model import Service

SUDO_SECONDS = 600  # sensitive changes need the password (and code) entered in the last ten minutes


class SessionStage(StrEnum):
    """How far a session's sign-in has got: password accepted, or fully signed in."""

    SECOND_FACTOR = "second_factor"  # the password was right; the two-factor code is awaited
    SIGNED_IN = "signed_in"


@dataclass(frozen=True)
class SessionPolicy:
    """How long sessions live, idle and in all, and how long sudo and the two-factor wait last."""

    idle_seconds: float = 1800
    lifetime_seconds: float = 43200
    sudo_seconds: float = SUDO_SECONDS
    second_factor_seconds: float = 300  # a half-signed-in session may only wait this long for its code
    touch_every: float = 60  # "last seen" is written at most this often, not on every page


@dataclass(frozen=True)
class WebSession:
    """A web session as stored (never its secret): its stage, and when it began, was last seen and entered sudo."""

    id: int
    account_id: int
    stage: SessionStage
    created_at: int
    last_seen_at: int
    elevated_at: int | None
    ip: str | None = None
    user_agent: str | None = None
    service: Service = Service.CPANEL  # the interface it signs in to: the account's panel or WHM

    def expired(self, policy: SessionPolicy, now: float) -> bool:
        if self.stage == SessionStage.SECOND_FACTOR:
            return now - self.created_at > policy.second_factor_seconds
        return now - self.last_seen_at > policy.idle_seconds or now - self.created_at > policy.lifetime_seconds

    def in_sudo(self, policy: SessionPolicy, now: float) -> bool:
        return (
            self.stage == SessionStage.SIGNED_IN
            and self.elevated_at is not None
            and now - self.elevated_at <= policy.sudo_seconds
        )


@dataclass(frozen=True)
class LoginTicket:
    """A single sign-on link's ticket as stored (never its secret): whose interface it opens, who made it, and
    until when it may be used, once."""

    account_id: int
    service: Service
    created_by: str
    created_at: int
    expires_at: int


@dataclass(frozen=True)
class IssuedSession:
    """The only object that holds a session's secret (the cookie's value): the return value of starting one."""

    session: WebSession
    secret: str = field(repr=False)
