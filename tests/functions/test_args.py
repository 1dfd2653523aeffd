"""cPanel's argument conventions."""

from __future__ import annotations

import pytest

from hostpanel.domain.errors import InvalidInput
from hostpanel.functions.args import Args


def test_repeated_keys_are_numbered_like_cpanels_form_parser() -> None:
    args = Args([("foo", "a"), ("foo", "b"), ("foo", "c"), ("api.columns_0", "x")], meta_prefixes=("api.",))
    assert args.get("foo") == "a" and args.get("foo-0") == "b" and args.get("foo-1") == "c"
    assert args.get_multiple("foo") == ["a", "b", "c"]
    assert args.meta == {"api.columns_0": "x"}


def test_explicit_numbering_sorts_numerically_after_the_bare_key() -> None:
    args = Args([("backup-10", "j"), ("backup-2", "b"), ("backup", "a"), ("backupx-1", "no")])
    assert args.get_multiple("backup") == ["a", "b", "j"]


def test_required_and_list_messages() -> None:
    args = Args([("empty", ""), ("list", "a"), ("list-1", "")])
    with pytest.raises(InvalidInput, match="Provide the “name” argument."):
        args.require("name")
    with pytest.raises(InvalidInput, match="The “empty” argument cannot be empty."):
        args.require("empty")
    with pytest.raises(InvalidInput, match="Provide at least one “backup” argument."):
        args.require_multiple("backup")
    with pytest.raises(InvalidInput, match="The “list” arguments cannot be empty."):
        args.require_multiple("list")


def test_booleans_and_integers() -> None:
    args = Args([("on", "1"), ("off", "0"), ("bad", "yes"), ("n", "42"), ("neg", "-1")])
    assert args.flag("on") is True and args.flag("off") is False and args.flag("missing", True) is True
    with pytest.raises(InvalidInput, match="must be 1 or 0"):
        args.flag("bad")
    assert args.integer("n") == 42
    with pytest.raises(InvalidInput, match="whole number"):
        args.integer("neg")
    with pytest.raises(InvalidInput, match="whole number from 1 to 10"):
        args.integer("n", minimum=1, maximum=10)


def test_repeats_skip_numbers_already_given_explicitly() -> None:
    args = Args([("a", "1"), ("a-0", "x"), ("a", "2"), ("a-2", "y"), ("a", "3"), ("a", "4")])
    assert args.get_multiple("a") == ["1", "x", "2", "y", "3", "4"]


@pytest.mark.parametrize("value", ["9" * 5000, str(2**63)], ids=["huge", "big"])
def test_integers_beyond_what_storage_holds_are_refused_clearly(value: str) -> None:
    with pytest.raises(InvalidInput, match="must be a whole number from 0 to 9223372036854775807"):
        Args([("n", value)]).integer("n")


def test_integers_up_to_what_storage_holds_are_read() -> None:
    args = Args([("max", str(2**63 - 1)), ("zeros", "0" * 5000 + "7")])
    assert args.integer("max") == 2**63 - 1
    assert args.integer("zeros") == 7


def test_numbered_suffixes_are_ascii_and_short() -> None:
    args = Args([("scope", "a"), ("scope-٣", "arabic"), (f"scope-{'1' * 5000}", "long"), ("scope-3", "b")])
    assert args.get_multiple("scope") == ["a", "b"]
