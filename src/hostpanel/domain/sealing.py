"""Authenticated encryption of small secrets kept in the database (e.g. TOTP secrets), under a server-side key."""

from __future__ import annotations

import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SealError(Exception):
    """A sealed value could not be opened: wrong key, wrong context, or tampered with."""


class SecretBox:
    """AES-256-GCM. `context` is bound to the ciphertext, so a value sealed for one account does not open for
    another (a row copied between accounts in the database is refused)."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("a SecretBox key is 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if sealed[:1] != _VERSION or len(sealed) < 1 + _NONCE_BYTES + 16:
            raise SealError("not a sealed value")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SealError("the sealed value does not open with this key and context") from None
