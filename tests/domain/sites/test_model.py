"""Sites' names and document roots as the domain checks them (pure), and the certificate files a host is served
with."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.sites.certificates import CertificateFiles, SitesLayout
from hostpanel.domain.sites.model import parse_docroot, subdomain_name

HOME = "/srv/homes/alice"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("blog", "blog.alice.test"),
        ("Blog.", "blog.alice.test"),
        ("a.b", "a.b.alice.test"),
        ("blog.alice.test", "blog.alice.test"),
    ],
)
def test_subdomain_names(label: str, expected: str) -> None:
    assert subdomain_name(label, "alice.test") == expected


@pytest.mark.parametrize("label", ["", "-x", "a_b", "a b", "www", "www.shop", "*", "a..b", "x" * 64])
def test_bad_subdomain_names_are_refused(label: str) -> None:
    with pytest.raises(InvalidInput):
        subdomain_name(label, "alice.test")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("public_html/blog", "public_html/blog"), ("/public_html/blog/", "public_html/blog"), (f"{HOME}/site", "site"),
     ("~/www/a.b", "www/a.b"), ("/home/alice/x", "x"), ("/etc", "etc")],
)  # fmt: skip
def test_document_roots_are_folders_of_the_home(text: str, expected: str) -> None:
    assert parse_docroot(text, HOME, "alice").relative == expected


@pytest.mark.parametrize(
    "text", ["..", "../bob", "/../bob", "~", "/", f"{HOME}/", "a/../..", "x y", "a;b", "a$b", 'a"b', "é"]
)
def test_document_roots_outside_the_home_or_unsafe_for_nginx_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_docroot(text, HOME, "alice")


@given(st.text(max_size=40))
def test_an_accepted_document_root_is_inside_the_home_and_plain(text: str) -> None:
    try:
        path = parse_docroot(text, HOME, "alice")
    except InvalidInput:
        return
    assert path.parts and all(part not in ("", ".", "..") for part in path.parts)
    assert all(char.isascii() and (char.isalnum() or char in "._-+@~") for part in path.parts for char in part)


def test_a_host_uses_its_own_certificate_else_its_parents_wildcard(tmp_path: Path) -> None:
    layout = SitesLayout(tmp_path)
    layout.certificates.mkdir(parents=True)
    source = CertificateFiles(layout)
    assert source.served_certificate("blog.alice.test") is None
    wildcard = layout.certificate_files("_.alice.test")
    wildcard.chain.write_text("chain")
    assert source.served_certificate("blog.alice.test") is None  # a pair, or nothing
    wildcard.key.write_text("key")
    assert source.served_certificate("blog.alice.test") == wildcard
    assert source.served_certificate("a.blog.alice.test") is None  # a wildcard covers one label
    own = layout.certificate_files("blog.alice.test")
    own.chain.write_text("chain")
    own.key.write_text("key")
    assert source.served_certificate("blog.alice.test") == own
