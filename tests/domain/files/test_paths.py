"""Lexical path parsing: whatever the input, a parsed path names something inside the home, or is refused."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.files.paths import HomePath, parse_in_home, parse_relative, validate_name

HOME = "/srv/hostpanel/homes/alice"


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("", ()),
        (".", ()),
        ("public_html", ("public_html",)),
        ("public_html//app/./", ("public_html", "app")),
        ("public_html/../mail", ("mail",)),
        (f"{HOME}/public_html", ("public_html",)),
        (HOME, ()),
        ("/home/alice/public_html/x", ("public_html", "x")),
        ("~/etc", ("etc",)),
        ("~", ()),
    ],
)
def test_paths_inside_the_home(text: str, parts: tuple[str, ...]) -> None:
    assert parse_in_home(text, "dir", HOME, "alice") == HomePath(parts)


@pytest.mark.parametrize(
    "text",
    [
        "..",
        "../etc",
        "public_html/../../etc",
        "a/b/../../..",
        "/etc/passwd",
        "/",
        "/home/alicex/public_html",
        f"{HOME}x/file",
        f"{HOME}/../bob",
        "/home/alice/../bob",
    ],
)
def test_paths_leaving_the_home_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="outside your home directory"):
        parse_in_home(text, "dir", HOME, "alice")


@pytest.mark.parametrize("text", ["a\0b", "a\nb", "tab\there", "del\x7f", "\x1b[31m", "/etc/\0"])
def test_control_characters_and_nul_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="control characters"):
        parse_in_home(text, "dir", HOME, "alice")


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "a<b", "a>b", "a;b", "a,b"])
def test_names_to_create_follow_cpanels_rules(name: str) -> None:
    with pytest.raises(InvalidInput, match="invalid characters for a filename"):
        validate_name(name, "file")


def test_overlong_names_and_paths_are_refused() -> None:
    with pytest.raises(InvalidInput, match="longer than 255 bytes"):
        validate_name("é" * 128, "file")
    with pytest.raises(InvalidInput, match="longer than 4096 bytes"):
        parse_relative("a/" * 2049, "dir")


@given(
    st.lists(st.sampled_from(["a", "b", ".", "..", "/", "~", "\0", "\n", "é", "/home/alice", HOME]), max_size=12).map(
        "".join
    )
)
def test_any_input_parses_to_a_path_below_the_home_or_is_refused(text: str) -> None:
    try:
        path = parse_in_home(text, "dir", HOME, "alice")
    except InvalidInput:
        return
    assert all(part not in ("", ".", "..") and "/" not in part and "\0" not in part for part in path.parts)
    joined = posixpath.normpath(posixpath.join(HOME, *path.parts))
    assert joined == HOME or joined.startswith(HOME + "/")
