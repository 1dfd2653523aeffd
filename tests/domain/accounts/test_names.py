"""cPanel's username rules, and domain and address validation."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.accounts.names import validate_domain, validate_email, validate_username
from hostpanel.domain.errors import InvalidInput


@given(st.text(alphabet="abcdefgz0189_-.A", max_size=20))
def test_usernames_follow_the_rules(name: str) -> None:
    shape = re.fullmatch(r"[a-z][a-z0-9]{0,15}", name) is not None
    try:
        validate_username(name)
        accepted = True
    except InvalidInput:
        accepted = False
    if accepted:
        assert shape
    elif shape:  # the right shape refused: only for reserved names
        assert name.startswith(("test", "cpanel", "pg", "cpses")) or name in {"all", "dbus", "dirs", "files"}


@pytest.mark.parametrize("name", ["root", "test1", "cpanelx", "all", "nobody", "mypassword", "postgres"])
def test_reserved_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="reserved"):
        validate_username(name)


@pytest.mark.parametrize("name", ["Alice", "1alice", "alice_b", "a" * 17, ""])
def test_malformed_usernames(name: str) -> None:
    with pytest.raises(InvalidInput, match="not a valid username"):
        validate_username(name)


def test_domains_and_addresses() -> None:
    assert validate_domain("Example.COM.") == "example.com"
    assert validate_email("Bob@Example.com") == "Bob@example.com"


@pytest.mark.parametrize("bad", ["localhost", "-a.com", "a..b", "a.123", "x" * 64 + ".com", "a b.com"])
def test_malformed_domains(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_domain(bad)


@pytest.mark.parametrize("bad", ["nobody", "@x.com", "a@", "a@@b.com", "a b@c.com"])
def test_malformed_addresses(bad: str) -> None:
    with pytest.raises(InvalidInput):
        validate_email(bad)
