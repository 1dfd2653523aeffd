"""Two-factor set-up, checks and removal through the real service and storage."""

from __future__ import annotations

import threading

import pyotp
import pytest
from sqlalchemy import text

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.errors import Conflict, InvalidInput
from hostpanel.domain.principal import Principal
from hostpanel.domain.sealing import SealError
from hostpanel.domain.twofactor.model import SecondFactor
from tests.factories import FakeClock, make_account


def enable(container: Container, account: Account) -> tuple[str, list[str]]:
    with container.uow() as uow:
        service = container.twofactor(uow)
        enrolment = service.generate(account)
        codes = service.enable(
            Principal.admin(account), enrolment.secret, pyotp.TOTP(enrolment.secret).at(container.clock.now())
        )
        uow.commit()
    return enrolment.secret, codes


def check(container: Container, account: Account, code: str) -> str | None:
    with container.uow() as uow:
        kind = container.twofactor(uow).check_code(Principal.admin(account), code)
        uow.commit()
    return kind


def test_nothing_is_saved_until_a_code_confirms_the_secret(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        service = container.twofactor(uow)
        enrolment = service.generate(alice)
        assert not service.is_enabled(alice)
        with pytest.raises(InvalidInput, match="The security code is invalid."):
            service.enable(Principal.admin(alice), enrolment.secret, "000000")
        with pytest.raises(InvalidInput, match="base32"):
            service.enable(Principal.admin(alice), "nonsense", "000000")
        assert not service.is_enabled(alice)


def test_the_secret_and_recovery_codes_are_not_in_the_database_in_clear(container: Container, alice: Account) -> None:
    secret, codes = enable(container, alice)
    with container.uow(write=False) as uow:
        rows = repr(uow.connection.execute(text("SELECT * FROM two_factor")).fetchall())  # type: ignore[attr-defined]
        rows += repr(uow.connection.execute(text("SELECT * FROM recovery_codes")).fetchall())  # type: ignore[attr-defined]
    assert secret not in rows and secret.encode() not in rows.encode()
    for code in codes:
        assert code not in rows and code.replace("-", "") not in rows
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(account_id=alice.id))
    assert events[0].action == "account:twofactor:enable" and secret not in repr(events)


def test_a_totp_code_works_once(container: Container, alice: Account, clock: FakeClock) -> None:
    secret, _ = enable(container, alice)
    clock.advance(30)
    code = pyotp.TOTP(secret).at(clock.now())
    assert check(container, alice, code) == SecondFactor.TOTP
    assert check(container, alice, code) is None  # replayed
    clock.advance(30)
    assert check(container, alice, pyotp.TOTP(secret).at(clock.now())) == SecondFactor.TOTP


def test_the_code_that_confirmed_the_setup_cannot_sign_in(container: Container, alice: Account) -> None:
    secret, _ = enable(container, alice)
    assert check(container, alice, pyotp.TOTP(secret).at(container.clock.now())) is None


def test_recovery_codes_work_once_each_and_renewal_replaces_them(container: Container, alice: Account) -> None:
    _, codes = enable(container, alice)
    assert check(container, alice, codes[0].upper()) == SecondFactor.RECOVERY_CODE
    assert check(container, alice, codes[0]) is None
    with container.uow() as uow:
        assert container.twofactor(uow).status(alice).recovery_codes_left == 9
        fresh = container.twofactor(uow).renew_recovery_codes(Principal.admin(alice))
        uow.commit()
    assert check(container, alice, codes[1]) is None
    assert check(container, alice, fresh[1]) == SecondFactor.RECOVERY_CODE


def test_another_accounts_code_or_secret_row_does_not_work(container: Container, alice: Account) -> None:
    bob = make_account(container, "bob")
    _, alice_codes = enable(container, alice)
    enable(container, bob)
    assert check(container, bob, alice_codes[0]) is None
    with container.uow() as uow:  # someone with database access copies alice's sealed secret onto bob
        uow.connection.execute(  # type: ignore[attr-defined]
            text(
                "UPDATE two_factor SET sealed_secret = (SELECT sealed_secret FROM two_factor WHERE account_id = :a) "
                "WHERE account_id = :b"
            ),
            {"a": alice.id, "b": bob.id},
        )
        uow.commit()
    with pytest.raises(SealError):
        check(container, bob, "123456")


def test_disable_removes_secret_and_codes(container: Container, alice: Account) -> None:
    _, codes = enable(container, alice)
    with container.uow() as uow:
        assert container.twofactor(uow).disable(Principal.admin(alice))
        assert not container.twofactor(uow).disable(Principal.admin(alice))
        uow.commit()
    assert check(container, alice, codes[2]) is None
    with container.uow(write=False) as uow:
        assert container.twofactor(uow).status(alice).enabled is False


def test_concurrent_setups_leave_one_and_refuse_the_others_cleanly(
    container: Container, alice: Account, clock: FakeClock
) -> None:
    attempts = 6
    barrier = threading.Barrier(attempts)
    outcomes: dict[str, list[str] | str] = {}
    lock = threading.Lock()

    def run() -> None:
        with container.uow(write=False) as uow:
            enrolment = container.twofactor(uow).generate(alice)
        code = pyotp.TOTP(enrolment.secret).at(clock.now())
        barrier.wait()
        try:
            with container.uow() as uow:
                result: list[str] | str = container.twofactor(uow).enable(
                    Principal.admin(alice), enrolment.secret, code
                )
                uow.commit()
        except Conflict as conflict:
            result = conflict.message
        with lock:
            outcomes[enrolment.secret] = result

    threads = [threading.Thread(target=run) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == attempts  # every attempt answered: a setup or a clean refusal, never a crash
    answered = {secret: codes for secret, codes in outcomes.items() if isinstance(codes, list)}
    refusals = [message for message in outcomes.values() if isinstance(message, str)]
    assert refusals == ["Two-factor authentication was changed at the same time. Try again."] * len(refusals)
    with container.uow(write=False) as uow:
        rows = uow.connection.execute(text("SELECT count(*) FROM two_factor")).scalar()  # type: ignore[attr-defined]
    assert rows == 1
    # The setup that holds was answered with its codes, and only its codes work.
    clock.advance(30)
    held = [secret for secret in answered if check(container, alice, pyotp.TOTP(secret).at(clock.now()))]
    assert len(held) == 1
    for secret, codes in answered.items():
        assert (check(container, alice, codes[0]) is not None) == (secret == held[0])
