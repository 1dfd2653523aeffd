"""Scopes, full access, and the rule combining a token's scopes with its account's features."""

from __future__ import annotations

import pytest

from hostpanel.domain.errors import InvalidInput, PermissionDenied
from hostpanel.domain.permissions import Access, Feature, Permissions, Scope, ScopeModule, check_access

READ = Scope(ScopeModule.TOKENS, Access.READ)
WRITE = Scope(ScopeModule.TOKENS, Access.WRITE)
LOG = Scope(ScopeModule.ACTIVITYLOG, Access.READ)


def test_parse_and_print() -> None:
    assert Scope.parse("tokens:write") == WRITE
    assert str(Scope.parse(" Tokens:Read ")) == "tokens:read"


@pytest.mark.parametrize("bad", ["tokens", "tokens:admin", "nosuch:read", ""])
def test_what_is_not_a_scope_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="is not a valid scope"):
        Scope.parse(bad)


def test_write_implies_read_and_modules_are_separate() -> None:
    permissions = Permissions.of([WRITE])
    assert permissions.allows(READ) and permissions.allows(WRITE)
    assert not permissions.allows(LOG)
    assert not Permissions.of([READ]).allows(WRITE)
    assert Permissions.of([READ, WRITE]).scope_names() == ["tokens:write"]


def test_full_access_allows_every_scope() -> None:
    assert all(Permissions.full().allows(Scope(module, Access.WRITE)) for module in ScopeModule)


def test_no_scopes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="Specify either a list of scopes or full access"):
        Permissions.of([])


def test_covers_is_the_subset_rule() -> None:
    full, write, read = Permissions.full(), Permissions.of([WRITE]), Permissions.of([READ])
    assert full.covers(full) and full.covers(read)
    assert write.covers(read) and write.covers(write)
    assert not read.covers(write)
    assert not write.covers(full)
    assert not write.covers(Permissions.of([WRITE, LOG]))


def test_feature_off_beats_full_access() -> None:
    with pytest.raises(PermissionDenied, match="You do not have the feature “apitokens”.") as denied:
        check_access(Permissions.full(), frozenset({"apitokens"}), READ, Feature.APITOKENS)
    assert denied.value.missing == "apitokens"


def test_missing_scope_names_it() -> None:
    with pytest.raises(PermissionDenied, match="tokens:write") as denied:
        check_access(Permissions.of([READ]), frozenset(), WRITE, Feature.APITOKENS)
    assert denied.value.missing == "tokens:write"
    check_access(None, frozenset(), WRITE, Feature.APITOKENS)  # the account itself holds every scope
