"""The verified-token cache never outlives a change: every way a token or its account changes, made by another
process (another container on the same database, or a CLI process), is in force here when the change returns.

`server` plays a serving process with a warm cache; `other` (or a real `hostpanel` process) makes the change."""

from __future__ import annotations

import ast
import os
import threading
import time
from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import AuthenticationFailed, WouldBlock
from hostpanel.domain.principal import Principal
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.authenticate import TokenAuthenticator
from hostpanel.domain.tokens.cache import TokenCache, all_keys
from hostpanel.domain.tokens.keyring import Keyring
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.storage.changes import Topic, changes_for, token_key
from tests.factories import (
    IP,
    FakeClock,
    authenticate,
    cpanel_token,
    import_cpanel_tokens,
    make_token,
    rotate_token,
    statements,
    warm,
)
from tests.processes import environment, hostpanel


@pytest.fixture
def server(container: Container) -> Container:
    return container


@pytest.fixture
def warmed(server: Container, alice: Account, alice_token: IssuedToken) -> IssuedToken:
    warm(server, "alice", alice_token.secret)
    return alice_token


def refused(container: Container, user: str, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as failed:
        authenticate(container, user, token)
    return failed.value.reason


def test_a_warm_token_is_verified_without_reading_the_database(server: Container, warmed: IssuedToken) -> None:
    with statements(server) as seen:
        for _ in range(20):
            assert authenticate(server, "alice", warmed.secret).token is not None
    assert seen == []


def test_a_revocation_by_another_process_is_in_force_when_it_returns(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    with other.uow() as uow:
        assert other.tokens(uow).revoke(Principal.admin(alice), "bar")
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "unknown token"


def test_a_rename_is_seen_at_once(server: Container, other: Container, alice: Account, warmed: IssuedToken) -> None:
    with other.uow() as uow:
        other.tokens(uow).rename(Principal.admin(alice), "bar", "renamed")
        uow.commit()
    principal = authenticate(server, "alice", warmed.secret)
    assert principal.token is not None and principal.token.name == "renamed"


def test_suspension_and_features_are_seen_at_once(server: Container, other: Container, warmed: IssuedToken) -> None:
    with other.uow() as uow:
        other.accounts(uow).set_features("alice", disable=["filemanager"], enable=[])
        uow.commit()
    assert "filemanager" in authenticate(server, "alice", warmed.secret).account.disabled_features
    with other.uow() as uow:
        other.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "account suspended"


def test_revoking_every_token_and_deleting_the_account_are_seen_at_once(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    second = make_token(server, alice, "second").secret
    warm(server, "alice", second)
    with other.uow() as uow:  # what a password change with "revoke every token" does
        assert other.tokens(uow).revoke_all(Principal.admin(alice)) == 2
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "unknown token"
    assert refused(server, "alice", second) == "unknown token"
    third = make_token(server, alice, "third").secret
    warm(server, "alice", third)
    with other.uow() as uow:
        other.accounts(uow).delete("alice")
        uow.commit()
    assert refused(server, "alice", third) == "unknown token"


def test_the_leak_scanner_revocation_is_seen_at_once(server: Container, other: Container, warmed: IssuedToken) -> None:
    with other.uow() as uow:
        assert other.leaks(uow).revoke_all_in(f"found: {warmed.secret}", "test", "admin") == 1
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "unknown token"


def test_expiry_is_checked_on_every_request(server: Container, alice: Account, clock: FakeClock) -> None:
    short = make_token(server, alice, "short", expires_at=int(clock.now()) + 60).secret
    warm(server, "alice", short)
    clock.advance(60)
    assert refused(server, "alice", short) == "token “short” expired"


@pytest.mark.parametrize("command", [("token", "revoke", "alice", "bar"), ("token", "scan", "--revoke", "-")])
def test_a_revocation_by_a_cli_process_is_in_force_when_it_exits(
    server: Container, settings: Settings, warmed: IssuedToken, command: tuple[str, ...]
) -> None:
    env = environment(settings.home_dir, HOSTPANEL_DATABASE_URL=settings.database_url_or_default)
    stdin = warmed.secret if "scan" in command else None
    hostpanel(env, *command, stdin=stdin)
    assert refused(server, "alice", warmed.secret) == "unknown token"


def test_a_writer_killed_after_announcing_leaves_what_it_named_unkept_until_repaired(
    server: Container, alice: Account, warmed: IssuedToken
) -> None:
    changes = changes_for(server.engine)
    if server.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL announces through NOTIFY at commit: nothing is left open by a killed writer")
    bystander = make_token(server, alice, "bystander").secret
    warm(server, "alice", bystander)
    with server.engine.connect() as connection:  # a ticket taken, then the process "dies" before settling
        changes.begin(connection, Topic.TOKENS, [token_key(warmed.token.key)])
    assert changes.generation(Topic.TOKENS) is None
    cache = server.token_cache
    loads = cache.loads
    for _ in range(3):
        authenticate(server, "alice", warmed.secret)
        authenticate(server, "alice", bystander)
    assert cache.loads == loads + 3, "only the token the open change names is read, every time"
    changes.tidy()
    changes.tidy()  # seen stuck twice in a row: repaired under the write lock
    assert changes.generation(Topic.TOKENS) is not None
    warm(server, "alice", warmed.secret)


def test_a_request_from_an_unblocked_address_reads_nothing(server: Container, other: Container) -> None:
    guard = server.login_guard
    guard.check(IP, "alice", LoginKind.TOKEN)
    deadline = time.monotonic() + 10
    while True:  # on PostgreSQL the view is trusted once the listener runs
        with statements(server) as seen:
            assert guard.check(IP, "alice", LoginKind.TOKEN) is None
        if not seen:
            break
        assert time.monotonic() < deadline
        time.sleep(0.02)
    for _ in range(20):  # another process blocks the address: this one refuses it (PostgreSQL: once notified)
        other.login_guard.record_failure(IP, "alice", LoginKind.TOKEN)
    deadline = time.monotonic() + 5
    while guard.check(IP, "alice", LoginKind.TOKEN) is None:
        assert time.monotonic() < deadline, "the block never reached this process"
        time.sleep(0.01)
    if server.engine.dialect.name == "sqlite":
        assert other.login_guard.unblock(IP)
        assert guard.check(IP, "alice", LoginKind.TOKEN) is None  # one machine: in force at once


# Bookkeeping no check reads from a cache: a use-limited token's count is read and spent by one UPDATE on every
# request (never from the cache), and "last used" times are only shown.
ALLOWED_UNANNOUNCED = {
    "record_use",
    "record_old_secret_use",
    "consume_use",
    "mark_expiry_noticed",
    "set_password_hash",
    "set_notify_new_ip",
}


def test_every_repository_change_to_tokens_or_accounts_is_announced() -> None:
    """A future UPDATE or DELETE of tokens or accounts that forgot `mark_changed` would let caches go stale."""
    root = Path(__file__).resolve().parents[3] / "src" / "hostpanel" / "storage" / "repositories"
    offenders = []
    for path in root.glob("*.py"):
        for function in ast.walk(ast.parse(path.read_text())):
            if not isinstance(function, ast.FunctionDef) or function.name in ALLOWED_UNANNOUNCED:
                continue
            calls = [node for node in ast.walk(function) if isinstance(node, ast.Call)]
            changes = any(
                isinstance(call.func, ast.Name)
                and call.func.id in ("update", "delete")
                and any(isinstance(arg, ast.Name) and arg.id in ("api_tokens", "accounts") for arg in call.args)
                for call in calls
            )
            announced = any(isinstance(call.func, ast.Name) and call.func.id == "mark_changed" for call in calls)
            if changes and not announced:
                offenders.append(f"{path.name}:{function.name}")
    assert offenders == []


def test_an_unknown_key_is_refused_from_memory(server: Container, warmed: IssuedToken) -> None:
    loads = server.token_cache.loads
    with statements(server) as seen:
        for _ in range(20):
            assert refused(server, "alice", secret.generate()) == "unknown token"
    assert seen == [] and server.token_cache.loads == loads


def test_a_token_made_by_another_process_is_known_here_when_the_call_returns(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    made = make_token(other, alice, "made-elsewhere").secret
    principal = authenticate(server, "alice", made)
    assert principal.token is not None and principal.token.name == "made-elsewhere"


def test_a_dead_token_costs_what_an_unknown_one_costs(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    """Once this process has seen a token go, presenting it does the work an unknown key does: no database read,
    one HMAC, the same refusal."""
    with other.uow() as uow:
        assert other.tokens(uow).revoke(Principal.admin(alice), "bar")
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "unknown token"  # learns it is gone (one lookup at most)
    cache = server.token_cache
    loads = cache.loads
    with statements(server) as seen:
        dead = [refused(server, "alice", warmed.secret) for _ in range(10)]
        unknown = [refused(server, "alice", secret.generate()) for _ in range(10)]
    assert seen == [] and cache.loads == loads
    assert set(dead) == set(unknown) == {"unknown token"}
    assert server.token_cache.find_in_memory(warmed.token.key) is None  # answered from memory, like unknown keys


def test_an_unrelated_token_stays_in_memory_while_others_are_revoked_every_second(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    doomed = [make_token(server, alice, f"doomed{n}").secret for n in range(3)]
    for text in doomed:
        warm(server, "alice", text)
    cache = server.token_cache
    loads, hits = cache.loads, 0
    for n, text in enumerate(doomed):
        started = time.monotonic()
        with other.uow() as uow:
            assert other.tokens(uow).revoke(Principal.admin(alice), f"doomed{n}")
            uow.commit()
        assert refused(server, "alice", text) == "unknown token"
        while time.monotonic() - started < 1.0:
            assert authenticate(server, "alice", warmed.secret).token is not None
            hits += 1
            time.sleep(0.01)
    assert hits > 100
    assert cache.loads == loads + len(doomed), "only the revoked tokens were read again (to learn they are gone)"


def test_every_token_change_names_the_tokens_it_changed() -> None:
    """Per-token invalidation rests on each token write naming what it changed (its keys, or its account): one that
    named nothing would make every process drop every entry it holds."""
    path = Path(__file__).resolve().parents[3] / "src" / "hostpanel" / "storage" / "repositories" / "tokens.py"
    bare = [
        node.lineno
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "mark_changed"
        and len(node.args) < 3  # the connection, the topic, then what changed
    ]
    assert bare == []


def test_a_rotation_elsewhere_is_in_force_here_and_leaves_other_tokens_in_memory(
    server: Container, other: Container, alice: Account, warmed: IssuedToken
) -> None:
    bystander = make_token(server, alice, "bystander").secret
    warm(server, "alice", bystander)
    cache = server.token_cache
    loads = cache.loads
    rotated = rotate_token(other, alice, "bar", 3600)
    assert authenticate(server, "alice", warmed.secret).old_secret  # the old secret, now in its grace period
    assert authenticate(server, "alice", rotated.secret).token is not None
    with other.uow() as uow:  # a leaked old secret ends its grace (the leak response does this)
        assert uow.tokens.end_grace(warmed.token.id)
        uow.commit()
    assert refused(server, "alice", warmed.secret) == "wrong secret"
    assert authenticate(server, "alice", rotated.secret).token is not None
    with statements(server) as seen:
        assert authenticate(server, "alice", bystander).token is not None
    assert seen == []
    assert cache.loads == loads + 2, "the rotated token was read again once per change, nothing else"


def test_an_imported_cpanel_token_is_known_everywhere_and_unknown_ones_read_nothing(
    server: Container, other: Container, alice: Account, warmed: IssuedToken, clock: FakeClock
) -> None:
    """cPanel-format tokens are looked up under every pepper held, newest first: the keys no token has are refused
    from memory, so an imported token made under an older pepper costs no extra read, and a guessed one none."""
    imported = cpanel_token()
    import_cpanel_tokens(other, "alice", {"migrated": imported})  # under pepper 1, announced by the import
    peppers = {**server.keys.keyring.peppers, 2: os.urandom(32)}  # a newer pepper: tried first
    authenticator = TokenAuthenticator(Keyring(peppers), clock)
    cache = server.token_cache
    assert authenticator.authenticate(cache, "alice", imported, IP).token is not None  # read once, then kept
    loads = cache.loads
    with statements(server) as seen:
        for _ in range(10):
            assert authenticator.authenticate(cache, "alice", imported, IP).token is not None
            with pytest.raises(AuthenticationFailed) as failed:
                authenticator.authenticate(cache, "alice", cpanel_token(), IP)
            assert failed.value.reason == "unknown token"
    assert seen == [] and cache.loads == loads


def test_no_call_waits_for_a_thread_loading_every_key(server: Container, alice: Account) -> None:
    """Loading the known keys holds the cache for seconds at a million tokens: meanwhile a call on the event loop is
    sent to the full path at once, and the full path asks the database; once loaded, memory answers."""
    known = make_token(server, alice, "known")
    reading, release = threading.Event(), threading.Event()

    def slow_keys() -> list[str]:
        keys = list(all_keys(server.read)())
        reading.set()
        release.wait(10)
        return keys

    feed = changes_for(server.engine)
    deadline = time.monotonic() + 10
    while feed.token_position() is None:  # PostgreSQL: the listener holds its lease first
        assert time.monotonic() < deadline
        time.sleep(0.02)
    cache = TokenCache(server.key_lookup, feed, 100, 3600, keys=slow_keys)
    parsed = secret.parse(known.secret)
    assert parsed is not None
    key = parsed.key
    loader = threading.Thread(target=cache.load)
    loader.start()
    try:
        assert reading.wait(10)
        started = time.monotonic()
        with pytest.raises(WouldBlock):
            cache.find_in_memory(key)
        found = cache.find_by_key(key)
        assert found is not None and found[0].name == "known"
        assert cache.find_by_key(secret.generate()[5:17]) is None
        assert time.monotonic() - started < 0.5
    finally:
        release.set()
        loader.join(10)
    assert cache.find_by_key(key) is not None  # read once more, now kept
    assert cache.find_in_memory(key) is not None
