"""Setting up, checking and removing an account's two-factor authentication."""

from __future__ import annotations

from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.sealing import SecretBox
from hostpanel.domain.twofactor import recovery, totp
from hostpanel.domain.twofactor.model import Enrolment, SecondFactor, TwoFactorStatus

INVALID_CODE = "The security code is invalid."


def _context(account_id: int) -> str:
    return f"totp-secret:{account_id}"


class TwoFactorService:
    """Sets up, checks and removes an account's TOTP two-factor authentication and its recovery codes."""

    def __init__(
        self, uow: UnitOfWork, *, box: SecretBox, recovery_key: bytes, clock: Clock, audit: AuditLog, issuer: str
    ) -> None:
        self._uow = uow
        self._box = box
        self._recovery_key = recovery_key
        self._clock = clock
        self._audit = audit
        self.issuer = issuer

    def status(self, account: Account) -> TwoFactorStatus:
        record = self._uow.twofactor.get(account.id)
        if record is None:
            return TwoFactorStatus(enabled=False)
        left = self._uow.twofactor.recovery_codes_left(account.id)
        return TwoFactorStatus(enabled=True, enabled_at=record.enabled_at, recovery_codes_left=left)

    def is_enabled(self, account: Account) -> bool:
        return self._uow.twofactor.get(account.id) is not None

    def generate(self, account: Account) -> Enrolment:
        secret = totp.generate_secret()
        return Enrolment(secret=secret, uri=totp.provisioning_uri(secret, account.username, self.issuer))

    def enable(self, principal: Principal, secret: str, code: str) -> list[str]:
        """Save `secret` once `code` proves the authenticator has it; replaces any earlier setup. Returns the new
        recovery codes, which exist nowhere else in clear."""
        account = principal.account
        canonical = totp.normalise_secret(secret)
        if canonical is None:
            raise InvalidInput(
                "secret",
                "The secret must be 26 to 64 characters from the base32 alphabet (A-Z, 2-7): 128 bits or more.",
            )
        now = self._clock.now()
        step = totp.matching_step(canonical, code, now, last_step=None)
        if step is None:
            raise InvalidInput("tfa_token", INVALID_CODE)
        sealed = self._box.seal(canonical.encode("ascii"), _context(account.id))
        self._uow.twofactor.put(account.id, sealed, int(now), step)
        codes = self._replace_recovery_codes(account.id, int(now))
        self._audit.record_by(principal, AuditAction.ACCOUNT_TWOFACTOR_ENABLE)
        return codes

    def disable(self, principal: Principal) -> bool:
        removed = self._uow.twofactor.delete(principal.account.id)
        if removed:
            self._audit.record_by(principal, AuditAction.ACCOUNT_TWOFACTOR_DISABLE)
        return removed

    def renew_recovery_codes(self, principal: Principal) -> list[str]:
        if not self.is_enabled(principal.account):
            raise InvalidInput("twofactor", "Two-factor authentication is not set up.")
        codes = self._replace_recovery_codes(principal.account.id, int(self._clock.now()))
        self._audit.record_by(principal, AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_RENEW)
        return codes

    def check_code(self, principal: Principal, code: str) -> str | None:
        """Accept a current TOTP code (each step once) or an unused recovery code (then burnt). Returns which kind
        matched (SecondFactor.*), or None; an account without two-factor matches nothing."""
        account = principal.account
        record = self._uow.twofactor.get(account.id)
        if record is None:
            return None
        if totp.normalise_code(code) is not None:
            secret = self._box.open(record.sealed_secret, _context(account.id)).decode("ascii")
            step = totp.matching_step(secret, code, self._clock.now(), record.last_step)
            # The conditional update is what makes a code single-use when two requests race with it.
            if step is not None and self._uow.twofactor.advance_step(account.id, step):
                return SecondFactor.TOTP
            return None
        if recovery.normalise(code) is None:
            return None
        digest = recovery.digest(self._recovery_key, code)
        if not self._uow.twofactor.use_recovery_code(account.id, digest, int(self._clock.now())):
            return None
        left = self._uow.twofactor.recovery_codes_left(account.id)
        self._audit.record_by(principal, AuditAction.ACCOUNT_TWOFACTOR_RECOVERY_USE, details={"codes_left": left})
        return SecondFactor.RECOVERY_CODE

    def _replace_recovery_codes(self, account_id: int, now: int) -> list[str]:
        codes = recovery.generate()
        self._uow.twofactor.replace_recovery_codes(
            account_id, [recovery.digest(self._recovery_key, code) for code in codes], now
        )
        return codes
