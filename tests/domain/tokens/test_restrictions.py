"""Token restrictions: parsing, normal forms, storage round trips and the rule that restrictions only narrow."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hostpanel.domain.errors import InvalidInput, RestrictionDenied
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.permissions import Permissions, Scope, check_access
from hostpanel.domain.tokens.restrictions import (
    EmailDomains,
    FilemanPaths,
    IpAllowlist,
    ReadOnly,
    Restrictions,
    UnknownRestriction,
)


def test_ip_allowlist_is_normalised_as_whm_does() -> None:
    allowlist = IpAllowlist.parse(["10.1.2.3/24", "192.0.2.7", "10.1.2.0/24", "2001:db8::1", "2001:db8::/48"])
    assert allowlist.to_json() == [
        "10.1.2.0/24",
        "192.0.2.7",
        "2001:0db8:0000:0000:0000:0000:0000:0000/48",
        "2001:0db8:0000:0000:0000:0000:0000:0001",
    ]


@pytest.mark.parametrize(
    ("ip", "allowed"),
    [
        ("10.1.2.200", True),
        ("10.1.3.1", False),
        ("192.0.2.7", True),
        ("::ffff:192.0.2.7", True),  # an IPv4 client seen through a dual-stack socket
        ("2001:db8:0:ffff::9", True),
        ("2001:db9::1", False),
        ("testclient", False),
        (None, False),
        ("", False),
    ],
)
def test_ip_allowlist_matches_addresses_and_ranges(ip: str | None, allowed: bool) -> None:
    allowlist = IpAllowlist.parse(["10.1.2.0/24", "192.0.2.7", "2001:db8::/48"])
    assert allowlist.allows(ip) is allowed
    assert Restrictions.of(allowlist).allows_address(ip) is allowed
    assert Restrictions().allows_address(ip) is True


def test_ip_allowlist_errors_use_whms_words() -> None:
    with pytest.raises(InvalidInput, match="Invalid IP address or CIDR range specified: 10.0.0.300"):
        IpAllowlist.parse(["10.0.0.300"])
    with pytest.raises(InvalidInput, match="You have entered “101” IP addresses, which is above the limit of 100."):
        IpAllowlist.parse([f"10.0.0.{n}" for n in range(101)])


def test_paths_are_home_relative_and_nested_ones_collapse() -> None:
    paths = FilemanPaths.parse(["public_html/app/", "./public_html/app/static", "logs"])
    assert paths.to_json() == ["logs", "public_html/app"]
    assert paths.allows(HomePath(("public_html", "app", "x.css")))
    assert paths.allows(HomePath(("public_html", "app")))
    assert not paths.allows(HomePath(("public_html",)))
    assert not paths.allows(HomePath(("public_html", "application")))
    assert not paths.allows(HomePath())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/etc", "relative to the home directory"),
        ("..", "outside your home directory"),
        ("a/../..", "outside your home directory"),
        (".", "whole home directory"),
        ("a\nb", "control characters"),
    ],
)
def test_bad_paths_are_refused(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        FilemanPaths.parse([text])


def test_mail_domains_are_validated_and_lowercased() -> None:
    assert EmailDomains.parse(["Alice.Test", "alice.test"]).to_json() == ["alice.test"]
    with pytest.raises(InvalidInput, match="not a valid domain"):
        EmailDomains.parse(["not a domain"])


DEPLOY = Restrictions.parse(fileman_paths=["public_html"], whitelist_ips=["10.0.0.0/8"], read_only=True)


def test_covers_only_narrower_or_equal_restrictions() -> None:
    deploy = DEPLOY
    assert deploy.covers(deploy)
    narrower = Restrictions.parse(
        fileman_paths=["public_html/app"], whitelist_ips=["10.1.0.0/16"], read_only=True, email_domains=["a.test"]
    )
    assert deploy.covers(narrower)
    assert not narrower.covers(deploy)
    assert deploy.uncovered(Restrictions.parse(whitelist_ips=["10.0.0.0/8"], read_only=True)) == deploy.get(
        FilemanPaths
    )
    assert Restrictions().covers(deploy) and Restrictions().covers(Restrictions())


@pytest.mark.parametrize(
    "looser",
    [
        Restrictions.parse(fileman_paths=["public_html"], whitelist_ips=["10.0.0.0/8"]),  # drops read_only
        Restrictions.parse(fileman_paths=["public_html", "etc"], whitelist_ips=["10.0.0.0/8"], read_only=True),
        Restrictions.parse(fileman_paths=["public_html"], whitelist_ips=["0.0.0.0/0"], read_only=True),
        Restrictions.parse(fileman_paths=["public_html"], whitelist_ips=["2001:db8::/32"], read_only=True),
        Restrictions.parse(whitelist_ips=["10.0.0.0/8"], read_only=True),  # drops the paths
    ],
    ids=["read-write", "another-path", "every-address", "other-addresses", "every-path"],
)
def test_looser_restrictions_are_not_covered(looser: Restrictions) -> None:
    assert not DEPLOY.covers(looser), looser


def test_storage_round_trip_and_records() -> None:
    restrictions = Restrictions.parse(
        fileman_paths=["public_html/app"], email_domains=["alice.test"], whitelist_ips=["192.0.2.0/24"], read_only=True
    )
    stored = restrictions.to_json()
    assert Restrictions.from_json(stored) == restrictions
    assert json.loads(stored) == {
        "email_domains": ["alice.test"],
        "fileman_paths": ["public_html/app"],
        "read_only": True,
        "whitelist_ips": ["192.0.2.0/24"],
    }
    assert Restrictions.from_json("{}").record() == {
        "fileman_paths": None,
        "email_domains": None,
        "whitelist_ips": None,
        "read_only": 0,
        "dns_names": None,
        "dns_types": None,
    }
    assert restrictions.record()["read_only"] == 1
    assert restrictions.describe() == [
        "email_domains=alice.test",
        "fileman_paths=public_html/app",
        "read_only",
        "whitelist_ips=192.0.2.0/24",
    ]


def test_an_unknown_or_unreadable_restriction_is_kept_and_covers_nothing() -> None:
    stored = Restrictions.from_json('{"rate_limit": {"per_minute": 10}, "whitelist_ips": ["not an address"]}')
    assert [type(item) for item in stored.items] == [UnknownRestriction, UnknownRestriction]
    assert stored.record()["rate_limit"] == {"per_minute": 10}
    assert not stored.covers(stored)
    assert [item.key for item in stored.unknown] == ["rate_limit", "whitelist_ips"]
    with pytest.raises(RestrictionDenied, match="“rate_limit”, which this server does not know"):
        check_access(Permissions.full(), frozenset(), Scope.parse("tokens:read"), None, stored)


def test_read_only_refuses_writes_in_the_authorisation_rule() -> None:
    read_only = Restrictions.parse(read_only=True)
    check_access(Permissions.full(), frozenset(), Scope.parse("fileman:read"), None, read_only)
    with pytest.raises(RestrictionDenied, match="read-only") as denied:
        check_access(Permissions.full(), frozenset(), Scope.parse("fileman:write"), None, read_only)
    assert denied.value.restriction == "read_only"


def test_read_only_is_a_kind_of_its_own() -> None:
    assert Restrictions.parse(read_only=True).read_only
    assert not Restrictions.parse(fileman_paths=["a"]).read_only
    assert ReadOnly().covers(ReadOnly())


segments = st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3).map("/".join)


@given(st.lists(segments, min_size=1, max_size=4), st.lists(segments, min_size=1, max_size=4))
def test_path_covering_agrees_with_allowing(outer: list[str], inner: list[str]) -> None:
    mine, theirs = FilemanPaths.parse(outer), FilemanPaths.parse(inner)
    allowed_by_theirs = [HomePath(tuple(p.split("/"))) for p in inner]
    assert mine.covers(theirs) == all(mine.allows(path) for path in allowed_by_theirs)
    assert mine.covers(mine)
