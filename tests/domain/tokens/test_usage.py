"""'Last used' is batched in memory and written by a flush; first use from an address is audited once."""

from __future__ import annotations

import pytest

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.principal import AuthMethod, Principal
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.usage import UsageRecorder
from tests.factories import FakeClock, flush_usage, make_token


def use(container: Container, account: Account, issued: IssuedToken, ip: str) -> None:
    container.usage.note(Principal(account, AuthMethod.TOKEN, issued.token, ip))


def new_ip_events(container: Container, account: Account) -> list[tuple[str | None, str | None]]:
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(account_id=account.id, actions=("account:token:new_ip",)))
    return [(event.ip, event.target) for event in reversed(events)]


def last_used(container: Container, account: Account, name: str) -> tuple[int | None, str | None]:
    with container.uow(write=False) as uow:
        token = uow.tokens.get_by_name(account.id, name)
    assert token is not None
    return token.last_used_at, token.last_used_ip


def test_nothing_is_written_until_the_flush(
    container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    use(container, alice, alice_token, "192.0.2.1")
    assert last_used(container, alice, "bar") == (None, None)
    assert flush_usage(container) == 1
    assert last_used(container, alice, "bar") == (int(clock.now()), "192.0.2.1")
    assert flush_usage(container) == 0


def test_latest_use_wins_and_new_addresses_are_audited_once(
    container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    use(container, alice, alice_token, "192.0.2.1")
    clock.advance(1)
    use(container, alice, alice_token, "198.51.100.7")
    clock.advance(1)
    use(container, alice, alice_token, "192.0.2.1")
    flush_usage(container)
    assert last_used(container, alice, "bar") == (int(clock.now()), "192.0.2.1")
    use(container, alice, alice_token, "198.51.100.7")
    flush_usage(container)
    assert new_ip_events(container, alice) == [("192.0.2.1", "bar"), ("198.51.100.7", "bar")]


def test_another_process_learns_the_address_from_the_database(
    container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    use(container, alice, alice_token, "192.0.2.1")
    flush_usage(container)
    container.usage = UsageRecorder(container.clock)  # a fresh process: knows nothing in memory
    use(container, alice, alice_token, "192.0.2.1")
    flush_usage(container)
    assert new_ip_events(container, alice) == [("192.0.2.1", "bar")]


def test_a_revoked_token_is_skipped(container: Container, alice: Account) -> None:
    issued = make_token(container, alice, "temp")
    use(container, alice, issued, "192.0.2.1")
    with container.uow() as uow:
        container.tokens(uow).revoke(Principal.admin(alice), "temp")
        uow.commit()
    flush_usage(container)
    assert new_ip_events(container, alice) == []


def test_a_failed_flush_keeps_the_batch(
    container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    use(container, alice, alice_token, "192.0.2.1")

    def broken() -> object:
        raise ConnectionError("database down")

    with pytest.raises(ConnectionError):
        container.usage.flush(broken)  # type: ignore[arg-type]
    assert container.usage.pending == 1
    flush_usage(container)
    assert last_used(container, alice, "bar") == (int(clock.now()), "192.0.2.1")
