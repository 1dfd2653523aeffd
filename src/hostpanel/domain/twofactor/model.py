"""What is stored about an account's two-factor authentication, and what is shown about it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TwoFactorRecord:
    """As stored: the TOTP secret only sealed (encrypted), and the last step accepted (replay protection)."""

    account_id: int
    sealed_secret: bytes = field(repr=False)
    enabled_at: int
    last_step: int | None


@dataclass(frozen=True)
class TwoFactorStatus:
    """What is shown about an account's two-factor authentication: on or off, since when, codes left."""

    enabled: bool
    enabled_at: int | None = None
    recovery_codes_left: int = 0


@dataclass(frozen=True)
class Enrolment:
    """A fresh secret and the URI for the QR code; nothing is saved until a code confirms it."""

    secret: str = field(repr=False)
    uri: str = field(repr=False)


class SecondFactor:
    """The kinds of second factor a code can be, as the audit trail names them."""

    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"
