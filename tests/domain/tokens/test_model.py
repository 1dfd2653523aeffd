"""Token names and expiry follow cPanel's rules and messages."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.tokens.model import MAX_EPOCH, parse_expires_at, validate_name

CPANEL_NAME = re.compile(r"\A[A-Za-z0-9_-]{1,50}\Z")
NOW = 1_800_000_000


@given(st.text(max_size=60))
def test_name_accepted_exactly_when_cpanel_accepts_it(name: str) -> None:
    if CPANEL_NAME.match(name) and not name.endswith("\n"):
        assert validate_name(name) == name
    else:
        with pytest.raises(InvalidInput) as raised:
            validate_name(name)
        assert "is not a valid API token name" in raised.value.message


@pytest.mark.parametrize("name", ["ok\n", "", "a" * 51, "with space", "semi;colon", "ünï", "a:b"])
def test_bad_names(name: str) -> None:
    with pytest.raises(InvalidInput):
        validate_name(name)


def test_expiry_rules() -> None:
    now = NOW
    assert parse_expires_at(None, now) is None
    assert parse_expires_at("", now) is None
    assert parse_expires_at("0", now) is None
    assert parse_expires_at(str(now + 10), now) == now + 10
    with pytest.raises(InvalidInput, match="must be a future date"):
        parse_expires_at(str(now), now)


@pytest.mark.parametrize("bad", ["-5", "1e9", "12abc", str(MAX_EPOCH + 1), "１２３"])
def test_what_is_not_an_epoch_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid UNIX epoch timestamp"):
        parse_expires_at(bad, NOW)


def test_expiry_edges() -> None:
    now = NOW
    assert parse_expires_at(f"000{now + 10}", now) == now + 10  # leading zeros are still the number
    assert parse_expires_at(f" {now + 10}\t", now) == now + 10
    assert parse_expires_at("0" * 5000, now) is None
    assert parse_expires_at(str(MAX_EPOCH), now) == MAX_EPOCH
    with pytest.raises(InvalidInput, match="must be a future date"):
        parse_expires_at(f"0{now}", now)  # exactly now has already expired


@pytest.mark.parametrize(
    "bad",
    ["9" * 5000, "1" + "0" * 5000, "٣٣٣٣٣٣٣٣٣٣", "²", f"{NOW + 10}\x00", "+99"],
    ids=["huge", "long", "arabic-indic", "superscript", "nul", "plus"],
)
def test_edges_that_are_not_an_epoch_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid UNIX epoch timestamp"):
        parse_expires_at(bad, NOW)
