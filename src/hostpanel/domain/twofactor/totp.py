"""TOTP as cPanel and authenticator apps speak it: HMAC-SHA1, 30-second steps, 6 digits, one step of clock skew
either way. A code is accepted once: the step it matched is remembered and that step and older ones are refused."""

from __future__ import annotations

import hmac
import re

import pyotp

STEP_SECONDS = 30
DIGITS = 6
SKEW_STEPS = 1
SECRET_LENGTH = 32  # base32 characters: 160 bits, RFC 4226's recommended key size
# RFC 4226 requires at least 128 bits (26 base32 characters). cPanel's own 16-character (80-bit) secrets are
# refused: they are below that floor, and pyotp refuses them too.
_SECRET = re.compile(r"[A-Z2-7]{26,64}")
_CODE = re.compile(r"[0-9]{6}")  # ASCII only: \d would also admit other scripts' digits


def generate_secret() -> str:
    return pyotp.random_base32(SECRET_LENGTH)


def normalise_secret(text: str) -> str | None:
    """The secret in canonical form (upper case, no spaces or padding), or None if it is not base32 of 128-320
    bits."""
    secret = re.sub(r"[\s=]", "", text).upper()
    return secret if _SECRET.fullmatch(secret) else None


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """`otpauth://totp/<issuer>:<account>?secret=...&issuer=...`, what a QR code carries to the phone."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def current_step(now: float) -> int:
    return int(now // STEP_SECONDS)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise_code(text: str) -> str | None:
    code = re.sub(r"[\s-]", "", text)
    return code if _CODE.fullmatch(code) else None


def matching_step(secret: str, code: str, now: float, last_step: int | None) -> int | None:
    """The step whose code this is, within the skew window and after `last_step`; None if there is none.

    Every candidate step is compared (in constant time), so the answer's timing does not say which one matched."""
    wanted = normalise_code(code)
    if wanted is None:
        return None
    step = current_step(now)
    found = None
    for candidate in range(step - SKEW_STEPS, step + SKEW_STEPS + 1):
        if hmac.compare_digest(code_at(secret, candidate), wanted) and (last_step is None or candidate > last_step):
            found = candidate if found is None else found
    return found
