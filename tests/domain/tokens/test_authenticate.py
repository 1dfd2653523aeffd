"""Every authentication failure is the same to the caller, and costs the same work."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.errors import AuthenticationFailed
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import FakeClock, cpanel_token, make_account, make_token, rotate_token, statements


def authenticate(container: Container, username: str, token: str) -> Any:
    with container.uow(write=False) as uow:
        return container.authenticator.authenticate(uow.tokens, username, token, "192.0.2.1")


def reason(container: Container, username: str, token: str) -> str:
    with pytest.raises(AuthenticationFailed) as failed:
        authenticate(container, username, token)
    assert failed.value.message == "Access denied"
    return failed.value.reason


def test_the_right_pair_authenticates(container: Container, alice: Account, alice_token: IssuedToken) -> None:
    principal = authenticate(container, "alice", alice_token.secret)
    assert principal.account.username == "alice"
    assert principal.method == AuthMethod.TOKEN
    assert principal.token.name == "bar"
    assert principal.ip == "192.0.2.1"


def test_each_failure_has_its_own_reason_for_the_audit_only(
    container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    bob_token = make_token(container, make_account(container, "bob"), "b").secret
    wrong_secret = alice_token.secret[:-12] + secret.generate()[-12:]
    assert reason(container, "alice", "JPQNSRU0DH448UJLGXH7KVJECC5QN9N") == "malformed token"
    # cPanel's format (32 characters A-Z 0-9) is looked up like ours: never imported, so unknown.
    assert reason(container, "alice", "JPQNSRU0DH448UJLGXH7KVJECC5QN9N9") == "unknown token"
    assert reason(container, "alice", secret.generate()) == "unknown token"
    # Another account's token is unknown to the named user's trail (it must not learn that the token is real).
    assert reason(container, "nobody", alice_token.secret) == "unknown token"
    assert reason(container, "alice", bob_token) == "unknown token"
    assert reason(container, "alice", wrong_secret) in ("malformed token", "wrong secret")
    short = make_token(container, alice, "short", expires_at=int(clock.now()) + 5).secret
    clock.advance(5)
    assert reason(container, "alice", short) == "token “short” expired"
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert reason(container, "alice", alice_token.secret) == "account suspended"


def test_a_known_key_with_a_forged_secret_is_refused(container: Container, alice_token: IssuedToken) -> None:
    parsed = secret.parse(alice_token.secret)
    assert parsed is not None
    body = f"{secret.PREFIX}{parsed.key}_{'A' * secret.SECRET_LENGTH}"
    forged = body + secret.checksum(body)
    assert reason(container, "alice", forged) == "wrong secret"


def test_a_token_made_under_an_unknown_pepper_is_refused(container: Container, alice_token: IssuedToken) -> None:
    with container.uow() as uow:
        uow.connection.exec_driver_sql("UPDATE api_tokens SET pepper_id = 99")  # type: ignore[attr-defined]
        uow.commit()
    assert reason(container, "alice", alice_token.secret) == "wrong secret"


def test_unknown_user_and_wrong_token_do_the_same_database_work(
    container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    """The lookup goes by the token's key, never the username: the same statements run whoever is named."""
    cases = {
        "unknown user": ("nobody", secret.generate()),
        "wrong token": ("alice", secret.generate()),
        "known key, other user": ("nobody", alice_token.secret),
    }
    seen = {}
    for label, (user, token) in cases.items():
        with statements(container) as ran, pytest.raises(AuthenticationFailed):
            authenticate(container, user, token)
        seen[label] = [s for s in ran if "api_tokens" in s]
    assert len({tuple(v) for v in seen.values()}) == 1, seen
    assert len(seen["unknown user"]) == 1


def test_unknown_user_is_not_measurably_faster_than_wrong_token(container: Container, alice: Account) -> None:
    def once(user: str) -> float:
        token = secret.generate()
        started = time.perf_counter()
        with pytest.raises(AuthenticationFailed):
            authenticate(container, user, token)
        return time.perf_counter() - started

    for _ in range(50):  # warm the pool and caches
        once("alice")

    def median_ratio() -> float:
        # Each pair is measured back to back, in alternating order, so load from elsewhere on the machine (other
        # test workers, a busy shared database) hits both sides of a ratio alike.
        ratios = []
        for n in range(300):
            if n % 2:
                wrong, unknown = once("alice"), once("nobody")
            else:
                unknown, wrong = once("nobody"), once("alice")
            ratios.append(unknown / wrong)
        return statistics.median(ratios)

    # A real difference shows in every measurement; a noisy machine gets two more chances.
    measured: list[float] = []
    while len(measured) < 3 and not any(0.8 < ratio < 1.25 for ratio in measured):
        measured.append(median_ratio())
    assert 0.8 < measured[-1] < 1.25, measured


def test_every_kind_of_failure_does_one_lookup_and_one_keyed_digest(
    container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob_token = make_token(container, make_account(container, "bob"), "b").secret
    expired = make_token(container, alice, "short", expires_at=int(clock.now()) + 5).secret
    revoked = make_token(container, alice, "gone").secret
    with container.uow() as uow:
        container.tokens(uow).revoke(Principal.admin(alice), "gone")
        uow.commit()
    rotated_out = make_token(container, alice, "rotated").secret
    rotate_token(container, alice, "rotated", 5)
    clock.advance(5)
    parsed = secret.parse(alice_token.secret)
    assert parsed is not None
    forged = f"{secret.PREFIX}{parsed.key}_{'A' * secret.SECRET_LENGTH}"
    cases = {
        "unknown user": ("nobody", alice_token.secret),
        "unknown key": ("alice", secret.generate()),
        "wrong secret": ("alice", forged + secret.checksum(forged)),
        "another account's token": ("alice", bob_token),
        "expired": ("alice", expired),
        "revoked": ("alice", revoked),
        "rotated out (grace over)": ("alice", rotated_out),
        "cPanel format, never imported": ("alice", cpanel_token()),
        "suspended": ("alice", alice_token.secret),
    }
    _ = container.authenticator  # its dummy digest is made once, up front
    digests: list[str] = []
    real_digest = secret.digest

    def counted(pepper: bytes, token: str) -> bytes:
        digests.append(token)
        return real_digest(pepper, token)

    monkeypatch.setattr(secret, "digest", counted)
    work = {}
    for label, (user, token) in cases.items():
        if label == "suspended":
            with container.uow() as uow:
                container.accounts(uow).set_suspended("alice", True)
                uow.commit()
        digests.clear()
        with statements(container) as ran, pytest.raises(AuthenticationFailed):
            authenticate(container, user, token)
        work[label] = (len([s for s in ran if "api_tokens" in s]), len(digests))
    assert set(work.values()) == {(1, 1)}, work


def test_a_real_token_under_another_name_is_reported_to_its_owner_only(
    container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    with pytest.raises(AuthenticationFailed) as failed:
        authenticate(container, "nobody", alice_token.secret)
    assert failed.value.misused is not None
    assert (failed.value.misused.username, failed.value.misused.token_name) == ("alice", "bar")
    body = alice_token.secret[: -secret.CHECKSUM_LENGTH - 4] + "AAAA"  # alice's key, a wrong secret
    with pytest.raises(AuthenticationFailed) as guessed:
        authenticate(container, "nobody", body + secret.checksum(body))
    assert guessed.value.reason == "unknown token"
    assert guessed.value.misused is None  # a wrong secret under another name tells the owner nothing real
