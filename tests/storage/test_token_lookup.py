"""The token cache's prepared lookup (`KeyLookup`) answers exactly what the repository's `find_by_key` answers, field
by field, for tokens in every state of their lifecycle, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import ApiToken
from tests.factories import FakeClock, cpanel_token, import_cpanel_tokens, make_token, rotate_token


def _key_of(container: Container, account: Account, name: str) -> str:
    with container.uow(write=False) as uow:
        token = uow.tokens.get_by_name(account.id, name)
    assert token is not None
    return token.key


def _repository(container: Container, key: str) -> tuple[ApiToken, Account]:
    with container.uow(write=False) as uow:
        found = uow.tokens.find_by_key(key)
    assert found is not None
    return found


def test_the_prepared_lookup_reads_what_the_repository_reads(
    container: Container, alice: Account, clock: FakeClock
) -> None:
    make_token(container, alice, "limited", expires_at=int(clock.now()) + 86400, rate_limit=7, max_uses=5)
    with container.uow() as uow:
        limited = uow.tokens.get_by_name(alice.id, "limited")
        assert limited is not None
        assert uow.tokens.consume_use(limited.id) == 1
        assert uow.tokens.consume_use(limited.id) == 2
        uow.commit()
    rotate_token(container, alice, "limited", 3600)
    with container.uow() as uow:
        uow.tokens.record_old_secret_use(limited.id, int(clock.now()))
        uow.commit()
    imported = cpanel_token()
    import_cpanel_tokens(container, "alice", {"imported": imported, "migrated": cpanel_token()})
    rotate_token(container, alice, "migrated", 0)
    make_token(container, alice, "plain")

    names = ["limited", "imported", "migrated", "plain"]
    seen = {}
    for name in names:
        key = _key_of(container, alice, name)
        expected_token, expected_account = _repository(container, key)
        found = container.key_lookup(key)
        assert found is not None, name
        token, account = found
        for field in dataclasses.fields(ApiToken):
            assert getattr(token, field.name) == getattr(expected_token, field.name), (name, field.name)
        assert token == expected_token and account == expected_account
        seen[name] = token

    # The states compared above are the ones meant: not defaults that would agree by chance.
    limited_token = seen["limited"]
    assert limited_token.max_uses == 5 and limited_token.uses == 2 and limited_token.rotated_at is not None
    assert limited_token.previous is not None and limited_token.previous.last_used_at is not None
    assert seen["imported"].imported and seen["imported"].rotated_at is None
    assert seen["migrated"].imported and seen["migrated"].rotated_at is not None
    assert not seen["plain"].imported and seen["plain"].previous is None and seen["plain"].max_uses is None
    legacy = secret.legacy_key(container.keys.keyring.current, hashlib.sha512(imported.encode()).hexdigest())
    assert seen["imported"].key == legacy  # an imported token is found by its keyed SHA-512 value
    assert container.key_lookup("000000000000") is None
