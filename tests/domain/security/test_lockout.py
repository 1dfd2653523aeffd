"""Brute-force protection attacked directly: thresholds, growth, isolation of token failures, trust, unblocking.

Every test runs against the database store and, when HOSTPANEL_TEST_REDIS_URL is set, the Redis store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.security.lockout import KeyKind, LoginGuard, LoginKind
from hostpanel.storage.tables import auth_failures
from tests.factories import FakeClock, make_account

TOKEN, PASSWORD = LoginKind.TOKEN, LoginKind.PASSWORD


@pytest.fixture(params=["database", "redis"])
def built(request: pytest.FixtureRequest, settings: Settings, clock: FakeClock) -> Iterator[Container]:
    chosen = settings if request.param == "database" else request.getfixturevalue("redis_settings")
    container = Container(chosen, clock=clock)
    container.check_ready()
    yield container
    container.close()


def fail_until_refused(guard: LoginGuard, ip: str, user: str, kind: LoginKind, limit: int = 100) -> int:
    """Failed attempts made before the guard refuses the next one."""
    for attempt in range(limit):
        if guard.check(ip, user, kind) is not None:
            return attempt
        guard.record_failure(ip, user, kind)
    raise AssertionError("never refused")


def test_token_failures_block_the_address_after_twenty_for_ten_minutes(built: Container, clock: FakeClock) -> None:
    guard = built.login_guard
    assert fail_until_refused(guard, "198.51.100.7", "alice", TOKEN) == 20
    refusal = guard.check("198.51.100.7", "someone-else", TOKEN)
    assert refusal is not None and refusal.retry_after == 600
    clock.advance(599)
    assert guard.check("198.51.100.7", "alice", TOKEN) is not None
    clock.advance(2)
    assert guard.check("198.51.100.7", "alice", TOKEN) is None


def test_bad_tokens_in_a_users_name_never_lock_that_user_elsewhere(built: Container) -> None:
    guard = built.login_guard
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        fail_until_refused(guard, ip, "alice", TOKEN)
    assert guard.check("203.0.113.9", "alice", TOKEN) is None  # her scripts elsewhere go on
    assert guard.check("203.0.113.9", "alice", PASSWORD) is None  # and so does her password login
    assert [block.kind for block in guard.blocks()] == [KeyKind.TOKEN_IP] * 3


def test_password_failures_follow_cphulks_defaults(built: Container, clock: FakeClock) -> None:
    guard = built.login_guard
    assert fail_until_refused(guard, "198.51.100.7", "alice", PASSWORD) == 5
    refusal = guard.check("198.51.100.7", "bob", PASSWORD)
    assert refusal is not None and refusal.retry_after == 900
    # Fifteen failures on one account from fifteen addresses lock the account for five minutes, from anywhere.
    for n in range(15):
        assert guard.check(f"203.0.113.{n}", "carol", PASSWORD) is None
        guard.record_failure(f"203.0.113.{n}", "carol", PASSWORD)
    locked = guard.check("192.0.2.1", "carol", PASSWORD)
    assert locked is not None and locked.retry_after == 300
    assert guard.check("192.0.2.1", "carol", TOKEN) is None  # an account lock never stops its tokens
    clock.advance(301)
    assert guard.check("192.0.2.1", "carol", PASSWORD) is None


def test_thirty_failures_in_a_day_block_an_address_for_a_day(built: Container, clock: FakeClock) -> None:
    guard = built.login_guard
    total = 0
    while guard.check("198.51.100.7", "alice", PASSWORD) is None or total < 30:
        refusal = guard.check("198.51.100.7", "alice", PASSWORD)
        if refusal is not None:
            clock.advance(refusal.retry_after)  # sit out each short block, then try again
            continue
        guard.record_failure("198.51.100.7", "alice", PASSWORD)
        total += 1
    refusal = guard.check("198.51.100.7", "alice", PASSWORD)
    assert total == 30 and refusal is not None and refusal.retry_after == 86400


def test_repeat_lockouts_grow(built: Container, clock: FakeClock) -> None:
    guard = built.login_guard
    lengths = []
    for _ in range(3):
        fail_until_refused(guard, "198.51.100.7", "x", TOKEN)
        refusal = guard.check("198.51.100.7", "x", TOKEN)
        assert refusal is not None
        lengths.append(refusal.retry_after)
        clock.advance(refusal.retry_after)
    assert lengths == [600, 1200, 2400]


def test_the_refusal_is_the_same_whether_the_account_exists(built: Container) -> None:
    make_account(built, "alice")
    guard = built.login_guard
    fail_until_refused(guard, "198.51.100.1", "alice", PASSWORD)
    fail_until_refused(guard, "198.51.100.2", "nosuchuser", PASSWORD)
    assert guard.check("198.51.100.1", "alice", PASSWORD) == guard.check("198.51.100.2", "nosuchuser", PASSWORD)


def test_trusted_networks_are_never_counted_or_refused(built: Container) -> None:
    guard = built.login_guard
    fail_until_refused(guard, "10.1.2.3", "alice", TOKEN)
    assert guard.trust("10.0.0.0/8", "office") == "10.0.0.0/8"
    assert guard.check("10.1.2.3", "alice", TOKEN) is None  # already blocked, but trusted now
    for _ in range(50):
        assert guard.record_failure("10.9.9.9", "alice", TOKEN) is None
    assert guard.check("10.9.9.9", "alice", TOKEN) is None
    for _ in range(50):  # the same client as a dual-stack socket reports it
        assert guard.record_failure("::ffff:10.9.9.9", "alice", TOKEN) is None
    assert guard.check("::ffff:10.9.9.9", "alice", TOKEN) is None
    assert guard.trusted() == [("10.0.0.0/8", "office")]
    assert guard.distrust("10.0.0.0/8") and guard.check("10.1.2.3", "alice", TOKEN) is not None
    with pytest.raises(InvalidInput):
        guard.trust("10.0.0.0/33")


def test_unblock_lifts_an_address_or_an_account_and_is_audited(built: Container) -> None:
    alice = make_account(built, "alice")
    guard = built.login_guard
    fail_until_refused(guard, "198.51.100.7", "alice", TOKEN)
    for n in range(15):
        guard.record_failure(f"203.0.113.{n}", "alice", PASSWORD)
    assert {block.subject for block in guard.blocks()} >= {"198.51.100.7", "alice"}
    assert guard.unblock("198.51.100.7") == ["token-ip:198.51.100.7"]
    assert guard.check("198.51.100.7", "alice", TOKEN) is None
    assert guard.unblock("alice") == ["account:alice"]
    assert guard.check("192.0.2.1", "alice", PASSWORD) is None
    assert guard.unblock("alice") == []
    with built.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(account_id=alice.id))
    actions = [event.action for event in events]
    assert AuditAction.ADMIN_SECURITY_UNBLOCK in actions and AuditAction.ACCOUNT_AUTH_LOCKOUT in actions


def test_an_ipv6_host_cannot_dodge_a_block_by_changing_its_address(built: Container) -> None:
    """An IPv6 host or site is given a whole /64: counted address by address, it never reached a threshold."""
    guard = built.login_guard
    for n in range(5):
        assert guard.check(f"2001:db8:1:2::{n + 1:x}", f"user{n}", PASSWORD) is None
        guard.record_failure(f"2001:db8:1:2::{n + 1:x}", f"user{n}", PASSWORD)
    assert guard.check("2001:db8:1:2:ffff:ffff:ffff:fffe", "someone", PASSWORD) is not None
    assert guard.check("2001:0db8:0001:0002:0000:0000:0000:0009", "someone", TOKEN) is not None  # any spelling
    assert guard.check("2001:db8:1:3::1", "someone", PASSWORD) is None  # the next /64 is someone else
    assert [block.subject for block in guard.blocks()] == ["2001:db8:1:2::/64"]
    # A dual-stack socket reports an IPv4 client as ::ffff:a.b.c.d: the same client either way.
    for _ in range(20):
        guard.record_failure("::ffff:198.51.100.7", "alice", TOKEN)
    assert guard.check("198.51.100.7", "alice", TOKEN) is not None
    assert guard.unblock("2001:db8:1:2::77") == ["ip:2001:db8:1:2::/64"]
    assert guard.check("2001:db8:1:2::1", "someone", PASSWORD) is None
    for n in range(5):
        guard.record_failure(f"2001:db8:1:2::{n + 1:x}", f"user{n}", PASSWORD)
    assert guard.unblock("2001:db8:1:2::/64") == ["ip:2001:db8:1:2::/64"]  # as `security blocked` shows it
    assert guard.unblock("::ffff:198.51.100.7") == ["token-ip:198.51.100.7"]


def test_failures_too_old_to_count_leave_the_database(settings: Settings, clock: FakeClock) -> None:
    """A scan from many addresses, each failing once, must not grow the table for good; a day's count stays whole."""
    container = Container(settings, clock=clock)
    container.check_ready()
    guard = container.login_guard

    def stored() -> dict[str, int]:
        query = select(auth_failures.c.key, func.count()).group_by(auth_failures.c.key)
        with container.engine.connect() as connection:
            return {key: int(count) for key, count in connection.execute(query)}

    try:
        for n in range(300):
            guard.record_failure(f"198.51.{n // 256}.{n % 256}", "alice", TOKEN)
        for _ in range(4):
            guard.record_failure("203.0.113.5", "bob", PASSWORD)  # counts towards the day's thirty
        clock.advance(20 * 3600)
        guard.record_failure("192.0.2.1", "carol", TOKEN)
        # The scan and the account's five-minute count are gone; the address's day count and the new one stay.
        assert stored() == {"ip:203.0.113.5": 4, "token-ip:192.0.2.1": 1}
        clock.advance(5 * 3600)
        guard.record_failure("192.0.2.2", "carol", TOKEN)
        assert stored() == {"token-ip:192.0.2.2": 1}
    finally:
        container.close()
