"""Starting, resuming, promoting and ending web sessions.

The cookie carries a random secret; the database keeps only HMAC(server key, secret). Every request looks the
session up, so signing out (this session or every other one) takes effect at once, in every worker.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.clock import Clock
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.sessions.model import IssuedSession, SessionPolicy, SessionStage, WebSession

SECRET_BYTES = 32
MAX_USER_AGENT = 200


class SessionService:
    """Starts, resumes, promotes, renews and ends web sessions, keeping only keyed digests of their secrets."""

    def __init__(self, uow: UnitOfWork, key: bytes, clock: Clock, policy: SessionPolicy) -> None:
        self._uow = uow
        self._key = key
        self._clock = clock
        self.policy = policy

    def _digest(self, secret: str) -> bytes:
        return hmac.new(self._key, secret.encode("utf-8", "replace"), hashlib.sha256).digest()

    def start(
        self,
        account: Account,
        stage: SessionStage,
        ip: str | None,
        user_agent: str | None,
        service: Service = Service.CPANEL,
        *,
        elevated: bool = True,
    ) -> IssuedSession:
        """A new session of `service`; signing in with the password counts as confirming it (sudo), unless
        `elevated` is False (a single sign-on link: whoever follows it has not shown the password)."""
        now = int(self._clock.now())
        secret = secrets.token_urlsafe(SECRET_BYTES)
        elevated_at = now if stage == SessionStage.SIGNED_IN and elevated else None
        session = self._uow.sessions.add(
            account_id=account.id,
            digest=self._digest(secret),
            stage=stage,
            created_at=now,
            elevated_at=elevated_at,
            ip=ip,
            user_agent=(user_agent or "")[:MAX_USER_AGENT] or None,
            service=service,
        )
        return IssuedSession(session, secret)

    def resume(
        self, secret: str, service: Service = Service.CPANEL, touch: bool = True
    ) -> tuple[WebSession, Account] | None:
        """The live session of `service` for a cookie's secret and its active account; None for anything else. An
        expired session is deleted on the way. `touch` False: "last seen" is left for the caller to write elsewhere
        (`touch_due`, `touch`), as a page whose work runs in transactions of its own must."""
        found = self._uow.sessions.find(self._digest(secret))
        if found is None:
            return None
        session, account = found
        if session.service != service or not account.may_use(service):
            return None
        now = self._clock.now()
        if session.expired(self.policy, now):
            self._uow.sessions.delete(session.id)
            return None
        if not account.is_active:
            return None
        if touch and self.touch_due(session):
            self.touch(session)
        return session, account

    def touch_due(self, session: WebSession) -> bool:
        """ "Last seen" is written at most this often."""
        return self._clock.now() - session.last_seen_at >= self.policy.touch_every

    def touch(self, session: WebSession) -> None:
        self._uow.sessions.touch(session.id, int(self._clock.now()))

    def promote(self, session: WebSession) -> IssuedSession:
        """Fully signed in after the second factor: a new secret (the half-signed-in one stops working) and the
        clock restarts, as for a fresh sign-in."""
        now = int(self._clock.now())
        secret = secrets.token_urlsafe(SECRET_BYTES)
        updated = self._uow.sessions.replace_secret(
            session.id, self._digest(secret), SessionStage.SIGNED_IN, created_at=now, elevated_at=now
        )
        return IssuedSession(updated, secret)

    def renew(self, session: WebSession) -> IssuedSession:
        """A new secret for the same session (after a password change), keeping its stage and times."""
        secret = secrets.token_urlsafe(SECRET_BYTES)
        updated = self._uow.sessions.replace_secret(
            session.id, self._digest(secret), session.stage, session.created_at, session.elevated_at
        )
        return IssuedSession(updated, secret)

    def elevate(self, session: WebSession) -> None:
        self._uow.sessions.elevate(session.id, int(self._clock.now()))

    def end(self, session: WebSession) -> None:
        self._uow.sessions.delete(session.id)

    def end_others(self, session: WebSession) -> int:
        return self._uow.sessions.delete_for_account(session.account_id, keep=session.id)

    def end_all(self, account_id: int) -> int:
        return self._uow.sessions.delete_for_account(account_id)

    def count_live(self, account_id: int) -> int:
        """Signed-in sessions neither idle nor past their lifetime (expired ones may linger until next used)."""
        now = self._clock.now()
        return self._uow.sessions.count_live(
            account_id,
            created_since=int(now - self.policy.lifetime_seconds),
            seen_since=int(now - self.policy.idle_seconds),
        )
