"""Attacks on the UAPI surface through the real ASGI app, as an outsider and as a hostile token holder."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken, TokenQuery
from tests.api.uapi.envelope_check import uapi
from tests.conftest import FakeClock, auth, make_token

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.timeout(30, method="thread")  # a hang must end the run, not wait for it
def test_a_body_of_one_key_repeated_is_parsed_in_linear_time(client: TestClient, alice_token: IssuedToken) -> None:
    # 100,000 repetitions fit well under the body limit; numbering each one by scanning from 0 took hours.
    body = "&".join(["a="] * 100_000)
    headers = {**auth("alice", alice_token.secret), **FORM}
    uapi(client.post("/execute/Features/list_features", content=body, headers=headers), status=1)


HUGE = "9" * 5000  # past Python's int() digit limit
LONG = "9" * 30  # past what SQLite and PostgreSQL integers hold


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("Tokens/list?api.paginate_size=%C2%B2", 1, None),  # "²" passes str.isdigit() but not int()
        ("Tokens/list?api.paginate_start=%D9%A3", 1, None),  # an Arabic-Indic digit
        (f"Tokens/list?api.paginate_start={HUGE}", 0, "is larger than the total number of results"),
        (f"Tokens/list?api.paginate_start={LONG}", 0, "is larger than the total number of results"),
        (f"Tokens/list?api.paginate_page={LONG}&api.paginate_size={LONG}", 0, "is larger than the total number"),
        (f"Tokens/list?api.paginate_size={LONG}", 1, None),
        (f"Tokens/list?api.filter_column=name&api.filter_term=zzz&api.paginate_start={LONG}", 1, None),
        (f"Tokens/list?api.filter_column_{HUGE}=name&api.sort_column_{HUGE}=name", 1, None),
        (f"Tokens/create?name=x&scope-{HUGE}=tokens:read", 0, "Specify either a list of scopes or full access."),
        (f"Tokens/create_full_access?name=x&expires_at={HUGE}", 0, "is not a valid UNIX epoch timestamp"),
        (f"ActivityLog/list?since={LONG}", 0, "must be a whole number"),
        (f"ActivityLog/list?until={HUGE}", 0, "must be a whole number"),
        (f"ActivityLog/list?before_id={LONG}", 0, "must be a whole number"),
        (f"ActivityLog/list?limit={HUGE}", 0, "must be a whole number"),
    ],
)
def test_numbers_out_of_any_range_get_a_uapi_answer(
    client: TestClient, alice_token: IssuedToken, query: str, status: int, error: str | None
) -> None:
    body = uapi(client.get(f"/execute/{query}", headers=auth("alice", alice_token.secret)), status=status)
    if error is not None:
        assert error in body["errors"][0]


@pytest.mark.parametrize(
    ("query", "argument"),
    [
        ("ActivityLog/list?ip=%00", "ip"),
        ("ActivityLog/list?token=bar%00", "token"),
        ("Tokens/revoke?name=bar%00", "name"),
        ("Tokens/rename?name=%00&new_name=b", "name"),
        ("Tokens/list?api.filter_column=name&api.filter_term=%00", "api.filter_term"),
        ("Tokens/list?na%00me=x", "na\\0me"),
    ],
)
def test_a_nul_character_in_any_argument_is_refused_clearly(
    client: TestClient, alice_token: IssuedToken, query: str, argument: str
) -> None:
    # PostgreSQL cannot hold NUL in text, and no name, address or path contains one.
    body = uapi(client.get(f"/execute/{query}", headers=auth("alice", alice_token.secret)), status=0)
    assert body["errors"] == [f"The “{argument}” argument cannot contain a NUL character."]


def test_failures_with_control_characters_in_the_path_are_still_recorded(
    client: TestClient, container: Container
) -> None:
    # NUL would make PostgreSQL refuse the audit row (so the failure went unrecorded); ESC would reach a terminal.
    for path in ("/execute/Tok%00ens/list", "/execute/%1B%5B2J/list"):
        assert client.get(path, headers=auth("alice", secret.generate())).status_code == 401
    with container.uow(write=False) as uow:
        targets = [event.target for event in uow.audit.query(AuditQuery(actions=("account:auth:failure",)))]
    assert targets == ["\\x1b[2J::list", "Tok\\x00ens::list"]


@pytest.mark.parametrize("address", ["z" * 100, "[/x]", "1.2.3.4, 5.6.7.8", "a b"])
def test_an_address_that_is_not_one_is_not_recorded(
    container: Container, alice_token: IssuedToken, address: str
) -> None:
    # Behind a proxy trusted with `*`, the client address is whatever X-Forwarded-For says. Too long for the
    # address columns, PostgreSQL refused the audit row (a 500 on create) and the whole batch of "last used".
    headers = auth("alice", alice_token.secret)
    with TestClient(create_app(container), base_url="https://testserver", client=(address, 1)) as client:
        created = uapi(client.post("/execute/Tokens/create_full_access", data={"name": "n"}, headers=headers), 1)
        assert client.get("/execute/Tokens/list", headers=auth("alice", secret.generate())).status_code == 401
        uapi(client.get("/execute/Tokens/list", headers=auth("alice", created["data"]["token"])), status=1)
    assert container.usage.pending == 0  # the app wrote the batch when it stopped
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery())
        tokens, _ = container.tokens(uow).page(alice_token.token.account_id, TokenQuery())
    assert [(event.action.value, event.target, event.ip) for event in events[:2]] == [
        ("account:auth:failure", "Tokens::list", None),
        ("account:token:create", "n", None),
    ]
    assert "account:token:new_ip" not in {event.action.value for event in events}
    assert [(token.name, token.last_used_ip) for token in tokens] == [("bar", None), ("n", None)]


def test_real_addresses_are_recorded(container: Container, alice_token: IssuedToken) -> None:
    for address in ("203.0.113.9", "2001:db8::1", "::ffff:192.0.2.128", "fe80::1%eth0"):
        with TestClient(create_app(container), base_url="https://testserver", client=(address, 1)) as client:
            uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
        container.flush_usage()
        with container.uow(write=False) as uow:
            assert container.tokens(uow).get(alice_token.token.account_id, "bar").last_used_ip == address


def test_the_access_log_keeps_one_line_per_request_and_no_token(
    client: TestClient, alice_token: IssuedToken, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hostpanel.access")
    forged = "/execute/Tokens/list%0A2030-01-01 00:00:00,000 INFO hostpanel.access: 10.0.0.1 GET /admin 200 1.0ms"
    client.get(forged, headers=auth("alice", alice_token.secret))
    client.get(f"/execute/Tokens/{alice_token.secret}", headers=auth("alice", alice_token.secret))
    lines = [record.getMessage() for record in caplog.records if record.name == "hostpanel.access"]
    assert len(lines) == 2
    assert all("\n" not in line and alice_token.secret not in line for line in lines)
    assert "/execute/Tokens/list\\n2030-01-01" in lines[0]
    assert "/execute/Tokens/[redacted token]" in lines[1]


@pytest.mark.timeout(20, method="thread")  # a hang must end the run, not wait for it
def test_a_pattern_filter_cannot_backtrack_for_ever(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    # Python's re takes about 2**n steps for this pattern on n a's, holding the GIL, which stalls every thread of
    # the worker; at the 50 characters a token name allows it would never finish. Here n=30 (about a minute).
    make_token(container, alice, "a" * 30)
    query = "api.filter_column=name&api.filter_type=matches&api.filter_term=(a%2B)%2Bb"
    body = uapi(client.get(f"/execute/Tokens/list?{query}", headers=auth("alice", alice_token.secret)), status=1)
    assert body["data"] == []
    found = "api.filter_column=*&api.filter_type=matches&api.filter_term=%5Ea%7B30%7D%24"  # ^a{30}$
    body = uapi(client.get(f"/execute/Tokens/list?{found}", headers=auth("alice", alice_token.secret)), status=1)
    assert [record["name"] for record in body["data"]] == ["a" * 30]


def test_an_expiring_token_cannot_mint_a_longer_lived_one(
    client: TestClient, container: Container, alice: Account, clock: FakeClock
) -> None:
    ends = int(clock.now()) + 3600
    brief = auth("alice", make_token(container, alice, "brief", expires_at=ends).secret)
    attempts = [
        ("create_full_access", {"name": "a"}),
        ("create_full_access", {"name": "b", "expires_at": "0"}),
        ("create_full_access", {"name": "c", "expires_at": str(ends + 1)}),
        ("create", {"name": "d", "scope": "tokens:read"}),
        ("create", {"name": "e", "full_access": "1", "expires_at": str(ends + 86400)}),
    ]
    for function, form in attempts:
        body = uapi(client.post(f"/execute/Tokens/{function}", data=form, headers=brief), status=0)
        assert "expire no later than itself" in body["errors"][0], form
    uapi(
        client.post("/execute/Tokens/create_full_access", data={"name": "f", "expires_at": str(ends)}, headers=brief), 1
    )
