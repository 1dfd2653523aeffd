"""Properties of name validation: token names and usernames accept exactly cPanel's alphabets and lengths."""

from __future__ import annotations

import re
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.accounts.names import RESERVED_PREFIXES, RESERVED_SUFFIXES, RESERVED_USERNAMES, validate_username
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.tokens.model import validate_name

TOKEN_NAME_CHARS = string.ascii_letters + string.digits + "_-"


@given(st.text(alphabet=TOKEN_NAME_CHARS, min_size=1, max_size=50))
def test_every_name_of_the_token_alphabet_is_accepted(name: str) -> None:
    assert validate_name(name) == name


@given(st.text(max_size=80))
def test_anything_else_is_refused_with_the_field_named(name: str) -> None:
    if re.fullmatch(r"[A-Za-z0-9_-]{1,50}", name):
        return
    with pytest.raises(InvalidInput) as refused:
        validate_name(name, field="new_name")
    assert refused.value.field == "new_name"


@given(st.text(max_size=30))
def test_usernames_are_lowercase_alphanumerics_and_never_reserved(username: str) -> None:
    try:
        validate_username(username)
    except InvalidInput as refused:
        assert refused.field == "username"
        return
    assert re.fullmatch(r"[a-z][a-z0-9]{0,15}", username)
    assert username not in RESERVED_USERNAMES
    assert not username.startswith(RESERVED_PREFIXES) and not username.endswith(RESERVED_SUFFIXES)
