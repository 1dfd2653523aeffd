"""Single sign-on (WHM's create_user_session): a link that signs a browser in to an account's interface once,
within a few minutes, without the password.

The link carries a random secret; only its HMAC is stored, and redeeming it deletes it in the same statement, so two
browsers racing with one link get one session between them. A suspended or removed account's links stop working at
once. A session opened this way is signed in but not confirmed (no sudo): changing the password, two-factor or
tokens still asks for the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import AuthenticationFailed
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.sessions.model import IssuedSession, LoginTicket, SessionStage
from hostpanel.domain.sessions.service import SessionService

LIFETIME = 300  # cPanel's pre-authenticated sessions live five minutes
SECRET_BYTES = 32


@dataclass(frozen=True)
class IssuedTicket:
    """The only object that holds a link's secret: what issuing returns."""

    secret: str
    expires_at: int


def link(base: str, username: str, ticket: IssuedTicket, goto: str | None = None) -> tuple[str, str]:
    """The link a ticket is used with, on the interface at `base` (`https://host:port`), and its `/cpsessN`
    prefix (cPanel's `cp_security_token`, which some clients put in front of later calls)."""
    prefix = f"/cpsess{secrets.randbelow(10**10):010d}"
    query = {"session": f"{username}:{ticket.secret}", **({"goto_uri": goto} if goto else {})}
    return f"{base}{prefix}/login/?{urlencode(query)}", prefix


class SingleSignOn:
    """Issues and redeems single sign-on tickets, recording both on the account's trail (and the issuer's)."""

    def __init__(self, uow: UnitOfWork, key: bytes, clock: Clock, audit: AuditLog, sessions: SessionService) -> None:
        self._uow = uow
        self._key = key
        self._clock = clock
        self._audit = audit
        self._sessions = sessions

    def _digest(self, secret: str) -> bytes:
        return hmac.new(self._key, secret.encode("utf-8", "replace"), hashlib.sha256).digest()

    def issue(self, by: Principal, account: Account, service: Service) -> IssuedTicket:
        now = int(self._clock.now())
        secret = secrets.token_urlsafe(SECRET_BYTES)
        ticket = LoginTicket(account.id, service, by.account.username, now, now + LIFETIME)
        self._uow.sessions.add_ticket(ticket, self._digest(secret))
        details: dict[str, DetailValue] = {"service": service.value, "expires_at": ticket.expires_at}
        self._audit.record_on(account, AuditAction.WHM_SESSION_CREATE, by, target=account.username, details=details)
        return IssuedTicket(secret, ticket.expires_at)

    def redeem(
        self, secret: str, service: Service, ip: str | None, user_agent: str | None
    ) -> tuple[IssuedSession, Account]:
        """Use a ticket (once) for a signed-in session of `service`; AuthenticationFailed for a secret never
        issued, used already, expired, for another interface, or for an account that is suspended or gone."""
        ticket = self._uow.sessions.take_ticket(self._digest(secret)) if 0 < len(secret) <= 200 else None
        if ticket is None:
            raise AuthenticationFailed("unknown or used single sign-on link")
        account = self._uow.accounts.get(ticket.account_id)
        reason = None
        if account is None:
            raise AuthenticationFailed("single sign-on link of a removed account")
        if ticket.expires_at <= self._clock.now():
            reason = "expired single sign-on link"
        elif ticket.service != service:
            reason = f"single sign-on link for {ticket.service} used on {service}"
        elif not account.is_active or not account.may_use(service):
            reason = "single sign-on link of a suspended account"
        principal = Principal(account, AuthMethod.PASSWORD, ip=ip, service=service)
        if reason is not None:
            self._audit.record_by(
                principal, AuditAction.WHM_SESSION_USE, outcome=Outcome.FAILURE, details={"reason": reason}
            )
            raise AuthenticationFailed(reason, account.username)
        issued = self._sessions.start(account, SessionStage.SIGNED_IN, ip, user_agent, service, elevated=False)
        self._audit.record_by(principal, AuditAction.WHM_SESSION_USE, details={"created_by": ticket.created_by})
        return issued, account
