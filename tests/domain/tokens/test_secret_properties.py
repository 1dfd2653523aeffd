"""Properties of the token format: parse accepts exactly the well-formed tokens, and the scanner finds them all."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.tokens import secret

BASE62 = st.text(alphabet=secret.ALPHABET, min_size=1, max_size=60)
tokens = st.builds(lambda _: secret.generate(), st.integers())


@given(tokens)
def test_every_generated_token_parses_to_its_own_key(token: str) -> None:
    parsed = secret.parse(token)
    assert parsed is not None and parsed.text == token and token.startswith(f"hpat_{parsed.key}_")


@given(tokens, st.integers(min_value=0, max_value=secret.TOKEN_LENGTH - 1), st.sampled_from(secret.ALPHABET))
def test_any_single_character_change_is_refused(token: str, position: int, replacement: str) -> None:
    changed = token[:position] + replacement + token[position + 1 :]
    if changed != token:
        assert secret.parse(changed) is None  # CRC32 catches every single-character change


@given(st.text(max_size=200))
def test_parse_never_raises_and_accepts_nothing_malformed(text: str) -> None:
    parsed = secret.parse(text)
    assert parsed is None or (len(text) == secret.TOKEN_LENGTH and secret.checksum(text[:-6]) == text[-6:])


@given(st.lists(tokens, max_size=4), st.text(alphabet=string.whitespace + ",;:'\"=()[]{}", min_size=1, max_size=5))
def test_the_scanner_finds_every_token_between_separators(found: list[str], separator: str) -> None:
    text = separator.join(["start", *found, "end"])
    assert [parsed.text for parsed in secret.find_all(text)] == found


@given(tokens, BASE62)
def test_the_scanner_ignores_tokens_glued_to_more_text(token: str, glue: str) -> None:
    assert list(secret.find_all(glue + token)) == []
    assert list(secret.find_all(token + glue)) == []
