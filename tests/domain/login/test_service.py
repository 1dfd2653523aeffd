"""Signing in, the second factor, sudo confirmation and password changes, with their audit records."""

from __future__ import annotations

import pyotp
import pytest

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.errors import AuthenticationFailed, InvalidInput
from hostpanel.domain.login.service import SignIn
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.model import TokenQuery
from tests.factories import PASSWORD, FakeClock, make_token


def sign_in(container: Container, username: str, password: str) -> SignIn:
    with container.uow() as uow:
        try:
            return container.login(uow).sign_in(username, password, "192.0.2.1", "browser")
        finally:
            uow.commit()  # as the web layer does: a refusal's audit record is kept


def events(container: Container, **filters: object) -> list[AuditEvent]:
    with container.uow(write=False) as uow:
        return uow.audit.query(AuditQuery(**filters))  # type: ignore[arg-type]


def test_every_refused_sign_in_looks_the_same_and_is_recorded(container: Container, alice: Account) -> None:
    refusals = []
    for username, password in (("alice", "wrong password"), ("nobody", PASSWORD), ("", PASSWORD)):
        with pytest.raises(AuthenticationFailed) as raised:
            sign_in(container, username, password)
        refusals.append(raised.value)
    assert {str(refusal) for refusal in refusals} == {"Access denied"}
    failures = events(container, actions=("account:login:failure",))
    assert [(e.username, e.account_id, e.details["reason"]) for e in failures] == [
        ("", None, "unknown user"),
        ("nobody", None, "unknown user"),
        ("alice", alice.id, "wrong password"),
    ]
    assert all(PASSWORD not in repr(e) and e.target != "wrong password" for e in failures)


def test_a_suspended_account_cannot_sign_in_even_with_the_right_password(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    with pytest.raises(AuthenticationFailed, match="Access denied"):
        sign_in(container, "alice", PASSWORD)


def test_without_two_factor_the_password_signs_in(container: Container, alice: Account) -> None:
    signed = sign_in(container, "alice", PASSWORD)
    assert not signed.needs_second_factor
    assert events(container, account_id=alice.id)[0].action == "account:login:success"


def test_with_two_factor_the_session_waits_for_a_code(container: Container, alice: Account, clock: FakeClock) -> None:
    with container.uow() as uow:
        enrolment = container.twofactor(uow).generate(alice)
        container.twofactor(uow).enable(
            Principal.admin(alice), enrolment.secret, pyotp.TOTP(enrolment.secret).at(clock.now())
        )
        uow.commit()
    signed = sign_in(container, "alice", PASSWORD)
    assert signed.needs_second_factor
    clock.advance(30)
    with container.uow() as uow:
        with pytest.raises(AuthenticationFailed):
            container.login(uow).second_factor(signed.issued.session, alice, "000000", None)
        issued = container.login(uow).second_factor(
            signed.issued.session, alice, pyotp.TOTP(enrolment.secret).at(clock.now()), None
        )
        uow.commit()
    assert issued.secret != signed.issued.secret
    actions = [e.action.value for e in events(container, account_id=alice.id)][:2]
    assert actions == ["account:login:success", "account:login:failure"]


def test_password_change_checks_the_current_one_and_explains_refusals(container: Container, alice: Account) -> None:
    signed = sign_in(container, "alice", PASSWORD)
    with container.uow() as uow:
        login = container.login(uow)
        session = signed.issued.session
        with pytest.raises(AuthenticationFailed):
            login.change_password(
                session, alice, current="nope", new="Fresh-Long-Passphrase-42", revoke_tokens=False, ip=None
            )
        with pytest.raises(InvalidInput, match="You cannot reuse the old password."):
            login.change_password(session, alice, current=PASSWORD, new=PASSWORD, revoke_tokens=False, ip=None)
        with pytest.raises(InvalidInput, match="too weak") as weak:
            login.change_password(session, alice, current=PASSWORD, new="password123", revoke_tokens=False, ip=None)
        assert weak.value.field == "new_password"


def test_password_change_ends_other_sessions_and_can_revoke_every_token(container: Container, alice: Account) -> None:
    make_token(container, alice, "one")
    make_token(container, alice, "two")
    mine, other = sign_in(container, "alice", PASSWORD), sign_in(container, "alice", PASSWORD)
    with container.uow() as uow:
        changed = container.login(uow).change_password(
            mine.issued.session, alice, current=PASSWORD, new="Fresh-Long-Passphrase-42", revoke_tokens=True, ip=None
        )
        uow.commit()
    assert (changed.sessions_ended, changed.tokens_revoked) == (1, 2)
    with container.uow() as uow:
        sessions = container.sessions(uow)
        assert sessions.resume(other.issued.secret) is None
        assert sessions.resume(mine.issued.secret) is None  # the current session got a new secret
        assert sessions.resume(changed.issued.secret) is not None
        assert container.tokens(uow).page(alice.id, TokenQuery())[1] == 0
    sign_in(container, "alice", "Fresh-Long-Passphrase-42")
    revoked = events(container, account_id=alice.id, actions=("account:token:revoke",))
    assert sorted(e.target or "" for e in revoked) == ["one", "two"]
