"""The token wire format, its checksum and its keyed digest (pure functions, no storage).

A token reads `hpat_<key>_<secret><checksum>`:
- `hpat_` marks it as a hostpanel API token, so secret scanners can find it;
- `<key>` (12 base62 characters, about 71 bits) is a public lookup id, stored in clear and indexed;
- `<secret>` (32 base62 characters, about 190 bits from `secrets`) is never stored;
- `<checksum>` (6 base62 characters) is the CRC32 of everything before it, so a scanner can tell a real token from
  look-alike text offline, without asking the server.
Underscores keep the whole token selectable with one double-click, and no character is `:`, which the
`cpanel USER:TOKEN` header uses as its separator.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import zlib
from collections.abc import Iterator
from typing import NamedTuple

PREFIX = "hpat_"
ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
KEY_LENGTH = 12
SECRET_LENGTH = 32
CHECKSUM_LENGTH = 6
TOKEN_LENGTH = len(PREFIX) + KEY_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH
PATTERN = re.compile(
    rf"{PREFIX}(?P<key>[0-9A-Za-z]{{{KEY_LENGTH}}})_[0-9A-Za-z]{{{SECRET_LENGTH}}}[0-9A-Za-z]{{{CHECKSUM_LENGTH}}}"
)
# Scanners look for whole tokens only: not glued to more base62 text on either side.
_SCAN_PATTERN = re.compile(rf"(?<![0-9A-Za-z_]){PATTERN.pattern}(?![0-9A-Za-z])")
REDACTED = "[redacted token]"
_KEY_START = len(PREFIX)
_KEY_END = _KEY_START + KEY_LENGTH


class ParsedToken(NamedTuple):
    """A token whose shape and checksum are right; says nothing about whether it was ever issued. (A tuple: it is
    made on every API request, and a tuple is the cheapest immutable record.)"""

    text: str
    key: str


# Every two-digit base62 string by value: the checksum is written with three look-ups instead of six divisions.
_DIGIT_PAIRS = [high + low for high in ALPHABET for low in ALPHABET]
_PAIR_BASE = len(ALPHABET) ** 2


def _random_text(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def checksum(body: str) -> str:
    """CRC32 of `body`, written as 6 base62 digits (62**6 > 2**32), most significant first."""
    high, rest = divmod(zlib.crc32(body.encode("ascii")), _PAIR_BASE * _PAIR_BASE)
    middle, low = divmod(rest, _PAIR_BASE)
    return _DIGIT_PAIRS[high] + _DIGIT_PAIRS[middle] + _DIGIT_PAIRS[low]


def generate() -> str:
    """A new token with a fresh random key and secret."""
    body = f"{PREFIX}{_random_text(KEY_LENGTH)}_{_random_text(SECRET_LENGTH)}"
    return body + checksum(body)


def parse(text: str) -> ParsedToken | None:
    """The token's key when `text` is exactly one well-formed token with a valid checksum, else None."""
    shaped = shape(text)
    return shaped if shaped is not None and checksum_ok(text) else None


def shape(text: str) -> ParsedToken | None:
    """The token's key when `text` has a token's shape, its checksum not checked: authentication's first step, which
    checks the checksum only to name a refusal (a token whose digest matches has a valid checksum anyway)."""
    if len(text) != TOKEN_LENGTH or PATTERN.fullmatch(text) is None:
        return None
    return ParsedToken(text, text[_KEY_START:_KEY_END])


def checksum_ok(text: str) -> bool:
    """The checksum of a token-shaped text is right (public information: no secret is compared here)."""
    return checksum(text[:-CHECKSUM_LENGTH]) == text[-CHECKSUM_LENGTH:]


def find_all(text: str) -> Iterator[ParsedToken]:
    """Every well-formed token with a valid checksum inside arbitrary text (for leak scanning)."""
    for match in _SCAN_PATTERN.finditer(text):
        parsed = parse(match.group(0))
        if parsed is not None:
            yield parsed


def redact(text: str) -> str:
    """`text` with everything shaped like a token replaced, even glued to other text or with a wrong checksum."""
    return PATTERN.sub(REDACTED, text)


def digest(pepper: bytes, token: str) -> bytes:
    """HMAC-SHA256 of the whole token under a server-side pepper: what the database keeps instead of the token."""
    return hmac.digest(pepper, token.encode("ascii"), "sha256")  # one call into OpenSSL


def matches(pepper: bytes, token: str, stored: bytes) -> bool:
    """Constant-time comparison of a presented token with a stored digest."""
    return hmac.compare_digest(digest(pepper, token), stored)


# cPanel's own tokens: 32 characters from A-Z and 0-9, stored by cPanel as the unsalted SHA-512 hex digest. Imported
# ones keep working: the database holds only keyed values derived from that digest, never the digest itself.
LEGACY_PATTERN = re.compile(r"[A-Z0-9]{32}")
LEGACY_DIGEST_PATTERN = re.compile(r"[0-9a-f]{128}")
_LEGACY_LOOKUP = b"hostpanel legacy token lookup\x00"


def is_legacy(text: str) -> bool:
    """`text` has the shape of a cPanel API token."""
    return len(text) == 32 and LEGACY_PATTERN.fullmatch(text) is not None


def legacy_digest(text: str) -> str:
    """cPanel's stored form of one of its tokens: the SHA-512 hex digest."""
    return hashlib.sha512(text.encode("ascii")).hexdigest()


def legacy_key(pepper: bytes, sha512_hex: str) -> str:
    """The public-key column of an imported cPanel token: a keyed value of cPanel's digest (so the lookup stays one
    indexed read), written like any key, so a rotation can give the token our format without moving it."""
    mac = hmac.new(pepper, _LEGACY_LOOKUP + sha512_hex.encode("ascii"), hashlib.sha256).digest()
    number = int.from_bytes(mac[:12], "big")
    chars = []
    for _ in range(KEY_LENGTH):
        number, digit = divmod(number, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "".join(chars)


def generate_with_key(key: str) -> str:
    """A new token with a fresh secret under an existing public key (a rotation keeps the token's key)."""
    body = f"{PREFIX}{key}_{_random_text(SECRET_LENGTH)}"
    return body + checksum(body)
