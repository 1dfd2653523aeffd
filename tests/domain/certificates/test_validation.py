"""What a certificate must be before it is installed: its key's pair, covering the domain (wildcards one label
deep), a complete chain, within its dates; each refusal names the field and never repeats the key."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.certificates.validation import check_certificate, covers
from hostpanel.domain.errors import InvalidInput
from tests.factories import START, TestCa

CA = TestCa()


def refused(crt: str, key: str, cabundle: str, domain: str = "alice.test", now: float = START) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_certificate(crt, key, cabundle, domain, now)
    return caught.value


def test_a_complete_certificate_is_described_with_its_names_issuer_and_dates() -> None:
    leaf = CA.leaf("alice.test", "www.alice.test")
    checked = check_certificate(leaf.cert, leaf.key, leaf.cabundle, "www.alice.test", START)
    assert checked.names == ("alice.test", "www.alice.test")
    assert checked.issuer == "CN=hostpanel test intermediate" and checked.subject == "CN=alice.test"
    assert checked.not_before == int(START) - 86400 and checked.not_after == int(START) + 90 * 86400
    assert checked.key_type == "ecdsa" and not checked.self_signed
    assert checked.cabundle_pem == leaf.cabundle


def test_the_chain_may_come_after_the_certificate_or_end_at_the_root() -> None:
    leaf = CA.leaf("alice.test")
    assert check_certificate(leaf.cert + leaf.cabundle, leaf.key, "", "alice.test", START).cabundle_pem
    assert check_certificate(leaf.cert, leaf.key, leaf.cabundle + CA.root_pem, "alice.test", START)


def test_a_self_signed_certificate_needs_no_bundle() -> None:
    leaf = CA.leaf("alice.test", self_signed=True)
    assert check_certificate(leaf.cert, leaf.key, "", "alice.test", START).self_signed


def test_a_key_of_another_certificate_is_refused_without_quoting_it() -> None:
    leaf, other = CA.leaf("alice.test"), CA.leaf("alice.test")
    error = refused(leaf.cert, other.key, leaf.cabundle)
    assert (error.field, error.message) == ("key", "The certificate does not match the private key.")


@pytest.mark.parametrize("key", ["", "not a key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"])
def test_an_unreadable_key_is_refused_and_not_echoed(key: str) -> None:
    leaf = CA.leaf("alice.test")
    error = refused(leaf.cert, key, leaf.cabundle)
    assert error.field == "key" and (not key or key not in error.message) and "AAAA" not in error.message


def test_an_unreadable_certificate_is_refused() -> None:
    leaf = CA.leaf("alice.test")
    assert refused("garbage", leaf.key, leaf.cabundle).field == "cert"


def test_a_certificate_for_other_names_is_refused_naming_them() -> None:
    leaf = CA.leaf("bob.test")
    error = refused(leaf.cert, leaf.key, leaf.cabundle)
    assert error.field == "domain" and "“alice.test”" in error.message and "bob.test" in error.message


def test_an_incomplete_chain_is_refused() -> None:
    leaf = CA.leaf("alice.test")
    error = refused(leaf.cert, leaf.key, "")
    assert error.field == "cabundle" and "hostpanel test intermediate" in error.message
    # Another CA's intermediate of the same name does not complete it either (its signature is checked).
    impostor = TestCa().leaf("x.test")
    assert refused(leaf.cert, leaf.key, impostor.cabundle).field == "cabundle"


def test_an_expired_or_not_yet_valid_certificate_is_refused() -> None:
    expired = CA.leaf("alice.test", days=(-90, -1))
    assert "expired on" in refused(expired.cert, expired.key, expired.cabundle).message
    future = CA.leaf("alice.test", days=(1, 90))
    assert "not valid before" in refused(future.cert, future.key, future.cabundle).message


def test_wildcards_cover_one_label_only() -> None:
    assert covers("*.alice.test", "www.alice.test")
    assert covers("*.alice.test", "WWW.Alice.Test.")
    assert not covers("*.alice.test", "alice.test")
    assert not covers("*.alice.test", "a.b.alice.test")
    assert not covers("*.alice.test", "evilalice.test")
    leaf = CA.leaf("*.alice.test")
    assert check_certificate(leaf.cert, leaf.key, leaf.cabundle, "blog.alice.test", START).names == ("*.alice.test",)
    assert refused(leaf.cert, leaf.key, leaf.cabundle).field == "domain"


@given(st.from_regex(r"[a-z0-9]{1,10}(\.[a-z0-9]{1,10}){0,3}", fullmatch=True))
def test_a_wildcard_covers_exactly_the_names_one_label_below_its_base(host: str) -> None:
    label, _, rest = host.partition(".")
    assert covers("*.alice.test", host) == (rest == "alice.test" and bool(label))
    assert covers(host, host)
