"""The audit recorder keeps what callers supplied readable and storable, and never a secret."""

from __future__ import annotations

from hostpanel.domain.audit.service import MAX_TEXT, REDACTED, scrub
from hostpanel.domain.tokens import secret


def test_tokens_are_redacted_and_text_is_bounded() -> None:
    token = secret.generate()
    assert scrub(f"user {token} end") == f"user {REDACTED} end"
    assert scrub("x" * 1000) == "x" * MAX_TEXT
    assert scrub(None) is None


def test_control_and_invisible_characters_are_shown_escaped() -> None:
    # A terminal would obey ESC sequences, PostgreSQL refuses NUL, a newline forges a line, U+202E reverses text.
    assert scrub("a\x00b") == "a\\x00b"
    assert scrub("\x1b]0;owned\x07\x1b[2J") == "\\x1b]0;owned\\x07\\x1b[2J"
    assert scrub("one\ntwo\rthree\tfour") == "one\\ntwo\\rthree\\tfour"
    assert scrub("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert scrub("café ünïcode ok") == "café ünïcode ok"
