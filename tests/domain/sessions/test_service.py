"""Web sessions: found only by their secret, ending on idle and absolute timeouts, and on demand."""

from __future__ import annotations

from sqlalchemy import text

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.sessions.model import IssuedSession, SessionStage
from tests.factories import FakeClock, make_account


def start(container: Container, account: Account, stage: SessionStage = SessionStage.SIGNED_IN) -> IssuedSession:
    with container.uow() as uow:
        issued = container.sessions(uow).start(account, stage, "192.0.2.1", "test browser")
        uow.commit()
    return issued


def resume(container: Container, secret: str) -> Account | None:
    with container.uow() as uow:
        found = container.sessions(uow).resume(secret)
        uow.commit()
    return found[1] if found else None


def test_a_session_is_found_by_its_secret_which_is_never_stored(container: Container, alice: Account) -> None:
    issued = start(container, alice)
    assert resume(container, issued.secret) == alice
    assert resume(container, issued.secret + "x") is None
    with container.uow(write=False) as uow:
        rows = repr(uow.connection.execute(text("SELECT * FROM web_sessions")).fetchall())  # type: ignore[attr-defined]
    assert issued.secret not in rows


def test_idle_sessions_end(container: Container, alice: Account, clock: FakeClock) -> None:
    issued = start(container, alice)
    clock.advance(container.session_policy.idle_seconds - 1)
    assert resume(container, issued.secret) == alice  # activity moves the idle deadline
    clock.advance(container.session_policy.idle_seconds - 1)
    assert resume(container, issued.secret) == alice
    clock.advance(container.session_policy.idle_seconds + 1)
    assert resume(container, issued.secret) is None
    clock.advance(-container.session_policy.idle_seconds)
    assert resume(container, issued.secret) is None  # deleted, not just refused


def test_busy_sessions_still_end_at_their_lifetime(container: Container, alice: Account, clock: FakeClock) -> None:
    issued = start(container, alice)
    policy = container.session_policy
    while clock.now() - 1_800_000_000 < policy.lifetime_seconds - 600:
        clock.advance(600)
        assert resume(container, issued.secret) == alice
    clock.advance(700)
    assert resume(container, issued.secret) is None


def test_a_half_signed_in_session_waits_five_minutes_for_its_code(
    container: Container, alice: Account, clock: FakeClock
) -> None:
    issued = start(container, alice, SessionStage.SECOND_FACTOR)
    clock.advance(container.session_policy.second_factor_seconds + 1)
    assert resume(container, issued.secret) is None


def test_promotion_changes_the_secret(container: Container, alice: Account, clock: FakeClock) -> None:
    issued = start(container, alice, SessionStage.SECOND_FACTOR)
    assert not issued.session.in_sudo(container.session_policy, clock.now())
    with container.uow() as uow:
        promoted = container.sessions(uow).promote(issued.session)
        uow.commit()
    assert resume(container, issued.secret) is None
    assert resume(container, promoted.secret) == alice
    assert promoted.session.stage == SessionStage.SIGNED_IN
    assert promoted.session.in_sudo(container.session_policy, clock.now())
    clock.advance(container.session_policy.sudo_seconds + 1)
    assert not promoted.session.in_sudo(container.session_policy, clock.now())


def test_ending_other_sessions_keeps_this_one_and_spares_other_accounts(container: Container, alice: Account) -> None:
    bob = make_account(container, "bob")
    mine, other, bobs = start(container, alice), start(container, alice), start(container, bob)
    with container.uow() as uow:
        assert container.sessions(uow).count_live(alice.id) == 2
        assert container.sessions(uow).end_others(mine.session) == 1
        uow.commit()
    assert resume(container, mine.secret) == alice
    assert resume(container, other.secret) is None
    assert resume(container, bobs.secret) == bob


def test_suspension_and_an_admin_password_reset_end_web_sessions(container: Container, alice: Account) -> None:
    issued = start(container, alice)
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert resume(container, issued.secret) is None
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", False)
        uow.commit()
    assert resume(container, issued.secret) is None  # a suspension ended it for good, not for a while
    issued = start(container, alice)
    with container.uow() as uow:
        container.accounts(uow).set_password("alice", "Another-Long-Passphrase-7")
        uow.commit()
    assert resume(container, issued.secret) is None
