"""Failed sign-ins are answered ever more slowly, per address and per username."""

from __future__ import annotations

from hostpanel.domain.login.throttle import LoginThrottle
from tests.factories import FakeClock


def test_each_failure_doubles_the_wait_up_to_the_cap() -> None:
    throttle = LoginThrottle(FakeClock(), base_delay=1.0, max_delay=8.0)
    assert [throttle.failed("192.0.2.1", "alice") for _ in range(6)] == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_other_addresses_guessing_one_username_are_slowed_too() -> None:
    throttle = LoginThrottle(FakeClock(), base_delay=1.0)
    for n in range(3):
        throttle.failed(f"192.0.2.{n}", "alice")
    assert throttle.failed("192.0.2.99", "Alice") == 8.0


def test_a_success_clears_the_username_but_not_the_address() -> None:
    throttle = LoginThrottle(FakeClock(), base_delay=1.0)
    for _ in range(3):
        throttle.failed("192.0.2.1", "bob")
    throttle.succeeded("192.0.2.1", "mallory")
    assert throttle.failed("192.0.2.1", "carol") == 8.0
    throttle.succeeded("192.0.2.7", "carol")
    assert throttle.failed("192.0.2.7", "carol") == 1.0


def test_failures_are_forgotten_after_a_quiet_period() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock, base_delay=0.5, forget_after=900)
    for _ in range(4):
        throttle.failed("192.0.2.1", "alice")
    clock.advance(901)
    assert throttle.failed("192.0.2.1", "alice") == 0.5


def test_an_ipv6_host_is_slowed_down_whichever_address_of_its_64_it_uses() -> None:
    throttle = LoginThrottle(FakeClock(), base_delay=1.0)
    for n in range(3):
        throttle.failed(f"2001:db8:1:2::{n + 1:x}", f"user{n}")
    assert throttle.failed("2001:db8:1:2:ffff::1", "someone") == 8.0
    assert throttle.failed("2001:db8:1:3::1", "another") == 1.0
