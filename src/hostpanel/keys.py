"""The server key file: token peppers and the web session secret, kept outside the database (mode 0600)."""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hostpanel.domain.tokens.keyring import Keyring

PEPPER_BYTES = 32


class KeyFileError(Exception):
    """The key file is missing, unreadable, malformed or too widely readable."""


@dataclass(frozen=True)
class ServerKeys:
    """The contents of the server key file: the token peppers and the secret other keys derive from."""

    keyring: Keyring
    session_secret: bytes

    def derive(self, purpose: str) -> bytes:
        """A 32-byte key for one purpose (session digests, CSRF, TOTP sealing, ...), derived with HKDF-SHA256
        from the file's session secret: one secret in the file, a separate key for each use."""
        kdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"hostpanel:{purpose}".encode())
        return kdf.derive(self.session_secret)


def _encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def create_key_file(path: Path) -> bool:
    """Write a fresh key file unless one exists; True if it was created. Never overwrites: that would orphan
    every token issued under the old pepper."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    content = {
        "token_peppers": {"1": _encode(secrets.token_bytes(PEPPER_BYTES))},
        "session_secret": _encode(secrets.token_bytes(32)),
    }
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as handle:
        json.dump(content, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    return True


def load_key_file(path: Path) -> ServerKeys:
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except FileNotFoundError:
        raise KeyFileError(f"The server key file {path} does not exist: run `hostpanel init` first.") from None
    except OSError as error:
        raise KeyFileError(f"The server key file {path} cannot be read: {error.strerror}.") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"The server key file {path} is readable by other users: run `chmod 600 {path}`.")
    try:
        content = json.loads(text)
        peppers = {int(key): base64.b64decode(value) for key, value in content["token_peppers"].items()}
        return ServerKeys(keyring=Keyring(peppers), session_secret=base64.b64decode(content["session_secret"]))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise KeyFileError(f"The server key file {path} is malformed ({error}).") from None
