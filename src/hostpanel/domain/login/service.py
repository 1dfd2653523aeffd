"""Signing in (password, then two-factor code), re-authenticating for sensitive changes, changing the password
and signing out. Every refusal of a credential looks the same to the caller; the reason goes to the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.accounts.passwords import PasswordHasher, check_strength
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.errors import AuthenticationFailed, InvalidInput
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.sessions.model import IssuedSession, SessionStage, WebSession
from hostpanel.domain.sessions.service import SessionService
from hostpanel.domain.tokens.service import TokenService
from hostpanel.domain.twofactor.service import TwoFactorService

WRONG_CREDENTIALS = "The username or password is incorrect."
WRONG_CODE = "The code is not valid. Enter the current code from your authenticator app, or a recovery code."


@dataclass(frozen=True)
class SignIn:
    """A session started by a correct password, and whether it still waits for the two-factor code."""

    issued: IssuedSession
    needs_second_factor: bool


@dataclass(frozen=True)
class PasswordChanged:
    """What a password change did: the current session's new secret, and what it ended or revoked."""

    issued: IssuedSession  # the current session's new secret
    sessions_ended: int
    tokens_revoked: int


class LoginService:
    """The web sign-in: password, two-factor code, sudo confirmation, password change and sign-out."""

    def __init__(
        self,
        uow: UnitOfWork,
        *,
        hasher: PasswordHasher,
        audit: AuditLog,
        sessions: SessionService,
        twofactor: TwoFactorService,
        tokens: TokenService,
    ) -> None:
        self._uow = uow
        self._hasher = hasher
        self._audit = audit
        self._sessions = sessions
        self._twofactor = twofactor
        self._tokens = tokens

    def sign_in(
        self,
        username: str,
        password: str,
        ip: str | None,
        user_agent: str | None,
        service: Service = Service.CPANEL,
    ) -> SignIn:
        """Check the password (the same work for unknown users) and start a session of `service` (the account's
        panel, or WHM for root and resellers): fully signed in, or waiting for the second factor. Raises
        AuthenticationFailed, whose reason is for the audit trail only."""
        account = self._checked(username, password, ip, service)
        if self._twofactor.is_enabled(account):
            issued = self._sessions.start(account, SessionStage.SECOND_FACTOR, ip, user_agent, service)
            return SignIn(issued, needs_second_factor=True)
        issued = self._sessions.start(account, SessionStage.SIGNED_IN, ip, user_agent, service)
        principal = self._principal(account, ip, service)
        self._audit.record_by(principal, AuditAction.ACCOUNT_LOGIN_SUCCESS, details={"factors": 1})
        return SignIn(issued, needs_second_factor=False)

    def verify_password(self, username: str, password: str, code: str, ip: str | None, service: Service) -> Principal:
        """An API request signed with the password (HTTP Basic): the password, and the current two-factor code
        when it is on (cPanel's `X-CPANEL-OTP`). No session is made; refusals are recorded as for a sign-in."""
        account = self._checked(username, password, ip, service)
        principal = self._principal(account, ip, service)
        if self._twofactor.is_enabled(account) and self._twofactor.check_code(principal, code) is None:
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, account, username, ip, "wrong or missing second factor")
        return principal

    def _checked(self, username: str, password: str, ip: str | None, service: Service) -> Account:
        """The account whose password this is, if it may use `service`; the same work for unknown users."""
        account = self._uow.accounts.get_by_username(username) if 0 < len(username) <= 64 else None
        password_ok = self._hasher.verify(account.password_hash if account else None, password)
        if account is None:
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, None, username, ip, "unknown user")
        if not password_ok:
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, account, username, ip, "wrong password")
        if not account.is_active:
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, account, username, ip, "account suspended")
        if not account.may_use(service):
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, account, username, ip, f"may not sign in to {service}")
        if self._hasher.needs_rehash(account.password_hash):
            self._uow.accounts.set_password_hash(account.id, self._hasher.hash(password))
        return account

    def second_factor(self, session: WebSession, account: Account, code: str, ip: str | None) -> IssuedSession:
        principal = self._principal(account, ip, session.service)
        if session.stage != SessionStage.SECOND_FACTOR:
            raise InvalidInput("code", "This session is not waiting for a two-factor code.")
        kind = self._twofactor.check_code(principal, code)
        if kind is None:
            self._refuse(AuditAction.ACCOUNT_LOGIN_FAILURE, account, account.username, ip, "wrong second factor")
        issued = self._sessions.promote(session)
        self._audit.record_by(principal, AuditAction.ACCOUNT_LOGIN_SUCCESS, details={"factors": 2, "second": kind})
        return issued

    def confirm(self, session: WebSession, account: Account, password: str, code: str, ip: str | None) -> None:
        """Sudo mode: the password, and the code when two-factor is on, entered again for sensitive changes."""
        principal = self._principal(account, ip, session.service)
        if not self._hasher.verify(account.password_hash, password):
            self._refuse(AuditAction.ACCOUNT_SUDO_FAILURE, account, account.username, ip, "wrong password")
        if self._twofactor.is_enabled(account) and self._twofactor.check_code(principal, code) is None:
            self._refuse(AuditAction.ACCOUNT_SUDO_FAILURE, account, account.username, ip, "wrong second factor")
        self._sessions.elevate(session)
        self._audit.record_by(principal, AuditAction.ACCOUNT_SUDO_SUCCESS)

    def change_password(
        self,
        session: WebSession,
        account: Account,
        *,
        current: str,
        new: str,
        revoke_tokens: bool,
        ip: str | None,
    ) -> PasswordChanged:
        """Replace the password; every other session ends, this one gets a new secret, and optionally every API
        token is revoked in the same transaction."""
        principal = self._principal(account, ip, session.service)
        if not self._hasher.verify(account.password_hash, current):
            self._audit.record_by(
                principal,
                AuditAction.ACCOUNT_PASSWORD_CHANGE,
                outcome=Outcome.FAILURE,
                details={"reason": "wrong current password"},
            )
            raise AuthenticationFailed("wrong current password", account.username)
        if new == current:
            raise InvalidInput("new_password", "You cannot reuse the old password.")
        try:
            check_strength(new, account.username)
        except InvalidInput as weak:
            raise InvalidInput("new_password", weak.message) from None
        self._uow.accounts.set_password_hash(account.id, self._hasher.hash(new))
        ended = self._sessions.end_others(session)
        revoked = self._tokens.revoke_all(principal) if revoke_tokens else 0
        issued = self._sessions.renew(session)
        self._audit.record_by(
            principal,
            AuditAction.ACCOUNT_PASSWORD_CHANGE,
            details={"other_sessions_ended": ended, "tokens_revoked": revoked},
        )
        return PasswordChanged(issued, ended, revoked)

    def sign_out(self, session: WebSession, account: Account, ip: str | None) -> None:
        self._sessions.end(session)
        self._audit.record_by(self._principal(account, ip, session.service), AuditAction.ACCOUNT_SESSION_END)

    def sign_out_others(self, session: WebSession, account: Account, ip: str | None) -> int:
        ended = self._sessions.end_others(session)
        self._audit.record_by(
            self._principal(account, ip, session.service),
            AuditAction.ACCOUNT_SESSION_END_OTHERS,
            details={"sessions_ended": ended},
        )
        return ended

    @staticmethod
    def _principal(account: Account, ip: str | None, service: Service = Service.CPANEL) -> Principal:
        return Principal(account=account, method=AuthMethod.PASSWORD, ip=ip, service=service)

    def _refuse(
        self, action: AuditAction, account: Account | None, username: str, ip: str | None, reason: str
    ) -> NoReturn:
        """Record the refusal (the caller commits it even though the use case fails) and raise the uniform error."""
        self._audit.record(
            action,
            actor="password",
            account_id=account.id if account else None,
            username=username[:64],
            ip=ip,
            outcome=Outcome.FAILURE,
            details={"reason": reason},
        )
        raise AuthenticationFailed(reason, username)
