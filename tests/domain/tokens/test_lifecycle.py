"""Rotation with a grace period, use limits and imported cPanel tokens, against real SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.errors import AuthenticationFailed, InvalidInput, PermissionDenied
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.importer import StoreFile, TokenImport, store_service
from hostpanel.domain.tokens.model import IssuedToken, TokenQuery, parse_grace_period, parse_max_uses
from hostpanel.storage.tables import api_tokens
from tests.factories import (
    FakeClock,
    Inbox,
    authenticate,
    connection_of,
    cpanel_entry,
    cpanel_token,
    make_account,
    make_root,
    make_token,
    rotate_token,
)


def refused(container: Container, user: str, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as failed:
        authenticate(container, user, token)
    assert failed.value.message == "Access denied"
    return failed.value.reason


def test_rotation_keeps_the_token_and_both_secrets_work_in_the_grace_period(
    container: Container, alice: Account, clock: FakeClock
) -> None:
    old = make_token(container, alice, "deploy", Permissions.of([Scope.parse("tokens:read")]), max_uses=50)
    new = rotate_token(container, alice, "deploy", 3600)
    assert new.secret != old.secret
    assert secret.parse(new.secret) is not None
    assert new.token.id == old.token.id and new.token.key == old.token.key
    assert new.token.permissions == old.token.permissions and new.token.max_uses == 50
    assert authenticate(container, "alice", old.secret).old_secret
    assert not authenticate(container, "alice", new.secret).old_secret
    clock.advance(3600)
    assert refused(container, "alice", old.secret) == "a rotated-out secret of token “deploy” (grace period over)"
    authenticate(container, "alice", new.secret)


def test_rotating_again_ends_the_older_overlap_and_grace_zero_ends_it_at_once(
    container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    first = rotate_token(container, alice, "bar", 600)
    second = rotate_token(container, alice, "bar", 600)
    assert refused(container, "alice", alice_token.secret) == "wrong secret"
    authenticate(container, "alice", first.secret)  # the overlap is the latest one's
    third = rotate_token(container, alice, "bar", 0)
    for dead in (alice_token.secret, first.secret, second.secret):
        assert refused(container, "alice", dead) == "wrong secret"
    authenticate(container, "alice", third.secret)


def test_revoke_refuses_both_secrets_in_every_process(
    container: Container, other: Container, alice: Account, alice_token: IssuedToken
) -> None:
    new = rotate_token(container, alice, "bar", 600)
    for process in (container, other):
        authenticate(process, "alice", alice_token.secret)
        authenticate(process, "alice", new.secret)
    with container.uow() as uow:
        assert container.tokens(uow).revoke(Principal.admin(alice), "bar")
        uow.commit()
    for process in (container, other):
        for dead in (alice_token.secret, new.secret):
            assert refused(process, "alice", dead) == "unknown token"


def test_a_rotation_reaches_every_process_at_once(
    container: Container, other: Container, alice: Account, alice_token: IssuedToken
) -> None:
    authenticate(other, "alice", alice_token.secret)  # cached there
    rotate_token(container, alice, "bar", 0)
    assert refused(other, "alice", alice_token.secret) == "wrong secret"


@pytest.mark.parametrize("value", ["-1", "604801", "1e3", "１", "99999999999999999999", "24h"])
def test_a_grace_period_out_of_range_is_refused(value: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        parse_grace_period(value)
    assert bad.value.field == "grace_period"


def test_grace_period_bounds_and_default() -> None:
    assert parse_grace_period(None) == 86400
    assert parse_grace_period("0") == 0
    assert parse_grace_period("604800") == 604800


@pytest.mark.parametrize("value", ["0", "-3", "x", "10000000000"])
def test_a_use_limit_must_be_positive(value: str) -> None:
    with pytest.raises(InvalidInput):
        parse_max_uses(value)


def test_the_rotation_is_audited_without_either_secret(
    container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    new = rotate_token(container, alice, "bar", 60)
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(account_id=alice.id, actions=(AuditAction.ACCOUNT_TOKEN_ROTATE.value,)))
    assert len(events) == 1 and events[0].details["grace_period"] == 60
    text = json.dumps([event.details for event in events]) + repr(events)
    for secret_text in (alice_token.secret, new.secret):
        assert secret_text not in text


def test_an_old_secret_cannot_rotate_its_token(container: Container, alice: Account, alice_token: IssuedToken) -> None:
    """A leaked old secret must not mint itself a fresh one."""
    rotate_token(container, alice, "bar", 600)
    principal = authenticate(container, "alice", alice_token.secret)
    with container.uow() as uow, pytest.raises(PermissionDenied):
        container.tokens(uow).rotate(principal, "bar", 600)


def test_a_use_limited_token_cannot_create_more_uses_than_it_has_left(container: Container, alice: Account) -> None:
    limited = make_token(container, alice, "limited", max_uses=3)
    principal = Principal(alice, AuthMethod.TOKEN, limited.token)
    with container.uow() as uow:
        tokens = container.tokens(uow)
        for wanted in (None, 4):
            with pytest.raises(PermissionDenied):
                tokens.create(principal, "twin", None, Permissions.full(), max_uses=wanted)
        assert tokens.create(principal, "child", None, Permissions.full(), max_uses=3).token.max_uses == 3


def test_uses_are_counted_exactly_and_then_refused(container: Container, alice: Account) -> None:
    token = make_token(container, alice, "twice", max_uses=2).token
    with container.uow() as uow:
        counts = [uow.tokens.consume_use(token.id) for _ in range(4)]
        uow.commit()
    assert counts == [1, 2, None, None]


def test_a_leaked_old_secret_loses_its_grace_and_the_owner_is_told(mailing: Container, smtp_inbox: Inbox) -> None:
    alice = make_account(mailing, "alice", email="alice@alice.test")
    old = make_token(mailing, alice, "ci")
    new = rotate_token(mailing, alice, "ci", 3600)
    with mailing.uow() as uow:
        response = mailing.leaks(uow)
        sightings = response.scan(f"oops {old.secret}\n")
        assert [s.old_secret for s in sightings] == [True]
        assert response.revoke(sightings[0], "a public repository", "admin")
        uow.commit()
    assert refused(mailing, "alice", old.secret) == "wrong secret"
    authenticate(mailing, "alice", new.secret)  # the current secret keeps working
    assert any("old secret" in str(message["Subject"]) for message in smtp_inbox.wait_for(1))


# Imported cPanel tokens.


def _import(container: Container, stores: list[StoreFile], rename: dict[str, str] | None = None) -> list[str]:
    with container.uow() as uow:
        importer = TokenImport(uow, container.keys.keyring, container.clock, container.audit(uow))
        plan = importer.plan(stores, rename or {})
        importer.apply(plan, "admin:import")
        uow.commit()
    return [f"{s.name}: {s.reason}" for s in plan.skipped]


def _store(user: str, entries: dict[str, dict[str, object]], service: Service = Service.CPANEL) -> StoreFile:
    return StoreFile(f"{user}.json", user, service, json.dumps({"tokens": entries}))


def test_an_imported_cpanel_token_keeps_working_and_no_bare_digest_is_stored(
    container: Container, alice: Account, clock: FakeClock
) -> None:
    token = cpanel_token()
    digest = hashlib.sha512(token.encode()).hexdigest()
    created = int(clock.now()) - 86400
    restricted = cpanel_entry("dns", created, has_full_access=0, features=["zoneedit"], whitelist_ips=["192.0.2.0/24"])
    other = cpanel_token()
    assert _import(container, [_store("alice", {digest: cpanel_entry("migrated", created)})]) == []
    assert _import(container, [_store("alice", {hashlib.sha512(other.encode()).hexdigest(): restricted})]) == []
    principal = authenticate(container, "alice", token)
    assert principal.token is not None and principal.token.imported and principal.token.created_at == created
    scoped = authenticate(container, "alice", other)
    assert scoped.token is not None and scoped.token.permissions.scope_names() == ["dns:write"]
    with container.uow(write=False) as uow:
        rows = connection_of(uow).execute(select(api_tokens)).all()
    stored = repr(rows).encode() + b"".join(bytes(row.digest) for row in rows)
    assert digest.encode() not in stored and bytes.fromhex(digest) not in stored and token.encode() not in stored


def test_rotating_an_imported_token_gives_it_our_format_and_the_old_one_a_grace(
    container: Container, alice: Account
) -> None:
    token = cpanel_token()
    _import(container, [_store("alice", {secret.legacy_digest(token): cpanel_entry("legacy", 1_700_000_000)})])
    new = rotate_token(container, alice, "legacy", 600)
    assert secret.parse(new.secret) is not None
    assert authenticate(container, "alice", token).old_secret
    assert not authenticate(container, "alice", new.secret).old_secret
    rotate_token(container, alice, "legacy", 0)
    assert refused(container, "alice", token) == "wrong secret"


def test_every_bad_entry_is_skipped_with_its_reason_and_nothing_of_it_imported(
    container: Container, alice: Account
) -> None:
    good = secret.legacy_digest(cpanel_token())
    make_token(container, alice, "taken")
    skipped = _import(
        container,
        [
            _store(
                "alice",
                {
                    "ab" * 32: cpanel_entry("short", 1),
                    secret.legacy_digest(cpanel_token()): cpanel_entry("taken", 1),
                    secret.legacy_digest(cpanel_token()): cpanel_entry("bad name!", 1),
                    secret.legacy_digest(cpanel_token()): cpanel_entry("odd", 1, has_full_access=0, features=["x"]),
                    good: cpanel_entry("fine", 1),
                },
            ),
            _store("ghost", {secret.legacy_digest(cpanel_token()): cpanel_entry("g", 1)}),
            StoreFile("broken.json", "alice", Service.CPANEL, "{not json"),
        ],
    )
    assert any(line.startswith("short: the digest is not") for line in skipped)
    assert any(line.startswith("taken: duplicate name") for line in skipped)
    assert any(line.startswith("bad name!:") for line in skipped)
    assert any("features hostpanel does not have: x" in line for line in skipped)
    assert any("unknown account “ghost”" in line for line in skipped)
    assert any("bad JSON" in line for line in skipped)
    with container.uow(write=False) as uow:
        names = [token.name for token in container.tokens(uow).page(alice.id, TokenQuery())[0]]
    assert names == ["fine", "taken"]


def test_a_failed_import_changes_nothing(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        importer = TokenImport(uow, container.keys.keyring, container.clock, container.audit(uow))
        plan = importer.plan([_store("alice", {secret.legacy_digest(cpanel_token()): cpanel_entry("one", 1)})], {})
        importer.apply(plan, "admin:import")
        # The transaction ends without a commit, as when anything later in it fails.
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "one") is None


def test_whm_stores_become_whm_tokens_of_root_and_resellers_only(container: Container, alice: Account) -> None:
    root = make_root(container)
    token, other = cpanel_token(), cpanel_token()
    skipped = _import(
        container,
        [
            _store("root", {secret.legacy_digest(token): cpanel_entry("billing", 1, acls=["list-accts"])}, Service.WHM),
            _store("alice", {secret.legacy_digest(other): cpanel_entry("x", 1)}, Service.WHM),
        ],
    )
    assert len(skipped) == 1 and "not root or a reseller" in skipped[0]
    with container.uow(write=False) as uow:
        imported = uow.tokens.get_by_name(root.id, "billing", Service.WHM)
    assert imported is not None and imported.acls == frozenset({"list-accts"}) and imported.imported
    with pytest.raises(AuthenticationFailed):
        authenticate(container, "root", token)  # the account port's authenticator knows no WHM token


def test_the_store_service_comes_from_cpanels_directory(tmp_path: Path) -> None:
    assert store_service((tmp_path / "api_tokens_v2" / "whostmgr" / "root.json").parts) == Service.WHM
    assert store_service((tmp_path / "api_tokens_v2" / "cpanel" / "alice.json").parts) == Service.CPANEL
