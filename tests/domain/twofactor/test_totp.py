"""TOTP codes (RFC 6238 as authenticator apps compute them), the skew window, replays, and recovery codes."""

from __future__ import annotations

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.sealing import SealError, SecretBox
from hostpanel.domain.twofactor import recovery, totp

NOW = 1_800_000_015.0


def test_a_generated_secret_is_160_bits_of_base32_and_the_uri_names_issuer_and_account() -> None:
    secret = totp.generate_secret()
    assert totp.normalise_secret(secret) == secret and len(secret) == 32
    uri = totp.provisioning_uri(secret, "alice", "Example Host")
    assert uri.startswith("otpauth://totp/Example%20Host:alice?secret=" + secret)
    assert "issuer=Example%20Host" in uri


def test_codes_match_what_an_authenticator_app_computes() -> None:
    secret = totp.generate_secret()
    app = pyotp.TOTP(secret)
    step = totp.current_step(NOW)
    assert totp.matching_step(secret, app.at(NOW), NOW, last_step=None) == step
    assert totp.matching_step(secret, app.at(NOW - 30), NOW, last_step=None) == step - 1  # clock skew: one step
    assert totp.matching_step(secret, app.at(NOW + 30), NOW, last_step=None) == step + 1
    assert totp.matching_step(secret, app.at(NOW - 60), NOW, last_step=None) is None
    assert totp.matching_step(secret, app.at(NOW + 60), NOW, last_step=None) is None


def test_a_step_once_used_and_every_older_step_are_refused() -> None:
    secret = totp.generate_secret()
    app = pyotp.TOTP(secret)
    step = totp.current_step(NOW)
    assert totp.matching_step(secret, app.at(NOW), NOW, last_step=step) is None
    assert totp.matching_step(secret, app.at(NOW - 30), NOW, last_step=step) is None
    assert totp.matching_step(secret, app.at(NOW + 30), NOW, last_step=step) == step + 1


@pytest.mark.parametrize("text", ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"])
def test_malformed_codes_match_nothing(text: str) -> None:
    assert totp.matching_step(totp.generate_secret(), text, NOW, last_step=None) is None


def test_spaces_in_codes_and_secrets_are_forgiven() -> None:
    secret = totp.generate_secret()
    code = pyotp.TOTP(secret).at(NOW)
    assert totp.matching_step(secret, f"{code[:3]} {code[3:]}", NOW, None) is not None
    assert totp.normalise_secret(" ".join(secret.lower()[i : i + 4] for i in range(0, 32, 4))) == secret
    assert totp.normalise_secret("not base32!") is None
    assert totp.normalise_secret("JBSWY3DPEHPK3PXP") is None  # 80 bits: below RFC 4226's 128


def test_recovery_codes_are_ten_distinct_and_forgiving_to_type() -> None:
    codes = recovery.generate()
    assert len(set(codes)) == 10
    key = b"k" * 32
    for code in codes:
        assert recovery.digest(key, code) == recovery.digest(key, code.upper().replace("-", " "))
    assert recovery.normalise("not-a-code") is None
    assert recovery.digest(key, codes[0]) != recovery.digest(b"j" * 32, codes[0])


@given(st.binary(max_size=64), st.text(max_size=20))
def test_sealed_values_open_only_with_their_key_and_context(plaintext: bytes, context: str) -> None:
    box = SecretBox(b"a" * 32)
    sealed = box.seal(plaintext, context)
    assert box.open(sealed, context) == plaintext
    assert len(plaintext) < 8 or plaintext not in sealed  # short strings may occur in any random bytes
    with pytest.raises(SealError):
        box.open(sealed, context + "x")
    with pytest.raises(SealError):
        SecretBox(b"b" * 32).open(sealed, context)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(SealError):
        box.open(tampered, context)
