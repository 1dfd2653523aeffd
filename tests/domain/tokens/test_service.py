"""Issuing, reviewing, renaming and revoking tokens through the real services and storage."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.errors import AccountSuspended, Conflict, InvalidInput, NotFound, PermissionDenied
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import TokenOrder, TokenQuery
from tests.factories import FakeClock, make_account, make_token

READ = Permissions.of([Scope(ScopeModule.TOKENS, Access.READ)])


def actions(container: Container, account: Account) -> list[str]:
    with container.uow(write=False) as uow:
        return [event.action.value for event in uow.audit.query(AuditQuery(account_id=account.id))]


def test_create_returns_the_secret_once_and_stores_only_a_keyed_digest(container: Container, alice: Account) -> None:
    issued = make_token(container, alice, "deploy", expires_at=int(container.clock.now()) + 60)
    assert secret.parse(issued.secret) is not None
    with container.uow(write=False) as uow:
        stored = uow.tokens.get_by_name(alice.id, "deploy")
        raw = uow.connection.exec_driver_sql("SELECT * FROM api_tokens").fetchall()  # type: ignore[attr-defined]
    assert stored is not None and stored.digest == secret.digest(container.keys.keyring.current, issued.secret)
    flat = repr(raw)
    assert issued.secret not in flat
    assert issued.secret[len(secret.PREFIX) + secret.KEY_LENGTH + 1 :] not in flat
    assert actions(container, alice) == ["account:token:create", "admin:account:create"]


def test_duplicate_name_is_a_conflict_with_cpanels_message(container: Container, alice: Account) -> None:
    make_token(container, alice, "dup")
    with pytest.raises(Conflict, match="A conflicting API token with the name “dup” already exists."):
        make_token(container, alice, "dup")
    bob = make_account(container, "bob")
    make_token(container, bob, "dup")  # names are unique per account only


def test_names_are_case_sensitive(container: Container, alice: Account) -> None:
    make_token(container, alice, "Deploy")
    make_token(container, alice, "deploy")


def test_past_expiry_refused(container: Container, alice: Account) -> None:
    with pytest.raises(InvalidInput, match="must be a future date"):
        make_token(container, alice, "old", expires_at=int(container.clock.now()))


def test_suspended_account_cannot_create(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    with container.uow() as uow:
        suspended = container.accounts(uow).get("alice")
    with pytest.raises(AccountSuspended):
        make_token(container, suspended, "x")


def test_a_token_cannot_mint_more_than_it_holds(container: Container, alice: Account) -> None:
    reader = make_token(container, alice, "reader", READ).token
    principal = Principal(alice, AuthMethod.TOKEN, reader)
    with container.uow() as uow, pytest.raises(PermissionDenied, match="full access"):
        container.tokens(uow).create(principal, "escalated", None, Permissions.full())
    writer = Permissions.of([Scope(ScopeModule.TOKENS, Access.WRITE)])
    with container.uow() as uow, pytest.raises(PermissionDenied, match="tokens:write"):
        container.tokens(uow).create(principal, "escalated", None, writer)
    with container.uow() as uow:
        container.tokens(uow).create(principal, "same", None, READ)


@pytest.mark.parametrize("longer", [None, 1], ids=["never", "a second later"])
def test_a_token_cannot_mint_one_that_outlives_it(container: Container, alice: Account, longer: int | None) -> None:
    """`longer`: how much later than its parent the new token would expire (None: never)."""
    # A leaked short-lived token must not be able to make itself permanent.
    ends = int(container.clock.now()) + 3600
    parent = make_token(container, alice, "brief", expires_at=ends).token
    principal = Principal(alice, AuthMethod.TOKEN, parent)
    expires_at = None if longer is None else ends + longer
    with container.uow() as uow, pytest.raises(PermissionDenied, match="expire no later than itself"):
        container.tokens(uow).create(principal, "longer", expires_at, Permissions.full())


def test_a_token_can_mint_one_that_ends_with_it_or_sooner(container: Container, alice: Account) -> None:
    ends = int(container.clock.now()) + 3600
    parent = make_token(container, alice, "brief", expires_at=ends).token
    principal = Principal(alice, AuthMethod.TOKEN, parent)
    with container.uow() as uow:
        container.tokens(uow).create(principal, "as-long", ends, Permissions.full())
        container.tokens(uow).create(principal, "shorter", ends - 1, READ)
        uow.commit()
    forever = Principal(alice, AuthMethod.TOKEN, make_token(container, alice, "forever").token)
    with container.uow() as uow:
        container.tokens(uow).create(forever, "unbounded", None, READ)


def test_rename_follows_cpanels_order_of_checks(container: Container, alice: Account) -> None:
    make_token(container, alice, "one")
    make_token(container, alice, "two")
    admin = Principal.admin(alice)
    with container.uow() as uow:
        tokens = container.tokens(uow)
        with pytest.raises(InvalidInput, match="must be a different value"):
            tokens.rename(admin, "one", "one")
        with pytest.raises(NotFound, match="The API token “nope” does not exist."):
            tokens.rename(admin, "nope", "three")
        with pytest.raises(InvalidInput, match="not a valid API token name"):
            tokens.rename(admin, "one", "bad name")
        with pytest.raises(Conflict, match="An API token with the name “two” already exists."):
            tokens.rename(admin, "one", "two")
        tokens.rename(admin, "one", "three")
        uow.commit()
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "three") is not None
        assert uow.tokens.get_by_name(alice.id, "one") is None


def test_revoke_reports_whether_it_existed(container: Container, alice: Account) -> None:
    make_token(container, alice, "gone")
    with container.uow() as uow:
        assert container.tokens(uow).revoke(Principal.admin(alice), "gone") is True
        assert container.tokens(uow).revoke(Principal.admin(alice), "gone") is False
        uow.commit()
    assert actions(container, alice).count("account:token:revoke") == 1


def test_expired_tokens_stay_listed(container: Container, alice: Account, clock: FakeClock) -> None:
    make_token(container, alice, "short", expires_at=int(clock.now()) + 10)
    clock.advance(11)
    with container.uow(write=False) as uow:
        tokens, total = container.tokens(uow).page(alice.id, TokenQuery())
    assert total == 1 and tokens[0].is_expired(clock.now())


def test_pages_in_name_and_creation_order(container: Container, alice: Account, clock: FakeClock) -> None:
    for name in ["c", "a", "b"]:
        make_token(container, alice, name)
        clock.advance(1)
    with container.uow(write=False) as uow:
        page = container.tokens(uow).page
        assert [t.name for t in page(alice.id, TokenQuery(limit=2))[0]] == ["a", "b"]
        assert [t.name for t in page(alice.id, TokenQuery(offset=2))[0]] == ["c"]
        created = page(alice.id, TokenQuery(order=TokenOrder.CREATED, descending=True))[0]
        assert [t.name for t in created] == ["b", "a", "c"]
        assert page(alice.id, TokenQuery(limit=1))[1] == 3


def test_failed_create_leaves_nothing_behind(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.tokens(uow).create(Principal.admin(alice), "halfway", None, Permissions.full())
        # no commit: the transaction is abandoned, as after any error
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "halfway") is None
    assert "account:token:create" not in actions(container, alice)


def race(count: int, action: Callable[[int], object]) -> list[object]:
    """Run `action(i)` on `count` threads released together; each result or the exception it raised."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = action(index)
        except Exception as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def outcomes(results: list[object]) -> list[str]:
    return sorted(type(result).__name__ for result in results)


def test_racing_renames_to_one_name_rename_one_token(container: Container, alice: Account) -> None:
    for index in range(8):
        make_token(container, alice, f"t{index}")

    def rename(index: int) -> None:
        with container.uow() as uow:
            container.tokens(uow).rename(Principal.admin(alice), f"t{index}", "target")
            uow.commit()

    assert outcomes(race(8, rename)) == ["Conflict"] * 7 + ["NoneType"]
    with container.uow(write=False) as uow:
        names = [token.name for token in container.tokens(uow).page(alice.id, TokenQuery())[0]]
    assert len(names) == 8 and "target" in names
    assert actions(container, alice).count("account:token:rename") == 1


def test_racing_revokes_revoke_once(container: Container, alice: Account) -> None:
    make_token(container, alice, "victim")

    def revoke(_: int) -> bool:
        with container.uow() as uow:
            revoked = container.tokens(uow).revoke(Principal.admin(alice), "victim")
            uow.commit()
        return revoked

    assert sorted(race(8, revoke), key=str) == [False] * 7 + [True]
    assert actions(container, alice).count("account:token:revoke") == 1
