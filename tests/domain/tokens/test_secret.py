"""The token format: recognisable, checksummed, never confused with look-alike text."""

from __future__ import annotations

import math
import string

from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.tokens import secret

BASE62 = st.text(alphabet=secret.ALPHABET, min_size=1, max_size=1)


@given(st.integers(min_value=0, max_value=50))
def test_generated_tokens_parse_back_to_their_key(_: int) -> None:
    token = secret.generate()
    parsed = secret.parse(token)
    assert parsed is not None
    assert parsed.text == token
    assert token.startswith("hpat_") and len(token) == secret.TOKEN_LENGTH
    assert parsed.key == token[5:17]
    assert ":" not in token


def test_secret_carries_at_least_160_bits() -> None:
    assert secret.SECRET_LENGTH * math.log2(len(secret.ALPHABET)) >= 160


@given(st.data())
def test_any_single_character_change_is_caught_offline(data: st.DataObject) -> None:
    token = secret.generate()
    position = data.draw(st.integers(min_value=len(secret.PREFIX), max_value=len(token) - 1))
    if token[position] == "_":
        return
    replacement = data.draw(BASE62.filter(lambda c: c != token[position]))
    mutated = token[:position] + replacement + token[position + 1 :]
    assert secret.parse(mutated) is None


@given(st.text(max_size=200))
def test_arbitrary_text_never_parses_and_never_raises(text: str) -> None:
    assert secret.parse(text) is None


@given(st.text(alphabet=string.ascii_letters + " \n=:\"'", max_size=50), st.text(alphabet=" \n=:\"'", max_size=5))
def test_scanner_finds_tokens_inside_text(before: str, after: str) -> None:
    token = secret.generate()
    found = [parsed.text for parsed in secret.find_all(f"{before} {token}{after} hpat_notatoken")]
    assert found == [token]


def test_scanner_ignores_a_token_glued_to_more_text() -> None:
    token = secret.generate()
    assert list(secret.find_all("x" + token)) == []
    assert list(secret.find_all(token + "x")) == []


def test_digest_is_keyed() -> None:
    token = secret.generate()
    one, other = b"a" * 32, b"b" * 32
    assert secret.digest(one, token) != secret.digest(other, token)
    assert secret.matches(one, token, secret.digest(one, token))
    assert not secret.matches(other, token, secret.digest(one, token))
