"""Recovery codes: ten single-use codes of 64 random bits, shown once, kept only as keyed digests."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

COUNT = 10
_CODE = re.compile(r"[0-9a-f]{16}")


def generate() -> list[str]:
    """Ten codes written `xxxx-xxxx-xxxx-xxxx` (hex, so nothing is ambiguous to read or type)."""
    codes = []
    for _ in range(COUNT):
        raw = secrets.token_hex(8)
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def normalise(text: str) -> str | None:
    code = re.sub(r"[\s-]", "", text).lower()
    return code if _CODE.fullmatch(code) else None


def digest(key: bytes, code: str) -> bytes:
    """HMAC-SHA256 under a server-side key: a copy of the database alone cannot test guesses offline."""
    normalised = normalise(code)
    if normalised is None:
        raise ValueError("not a recovery code")
    return hmac.new(key, normalised.encode("ascii"), hashlib.sha256).digest()
