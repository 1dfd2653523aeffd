"""Brute force, rate limits, leak reports and bad input, attacked through the real ASGI app."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import FakeClock, auth, make_account, make_token, uapi
from tests.processes import free_port


@pytest.fixture
def from_address(container: Container) -> Iterator[object]:
    """A client per source address, as the app sees it."""
    opened: list[TestClient] = []

    def client_at(ip: str) -> TestClient:
        test_client = TestClient(create_app(container), base_url="https://testserver", client=(ip, 50000))
        opened.append(test_client.__enter__())
        return test_client

    yield client_at
    for test_client in opened:
        test_client.__exit__(None, None, None)


def test_twenty_bad_tokens_then_429_for_every_user_and_token_from_that_address(
    from_address: object, alice_token: IssuedToken, container: Container
) -> None:
    scanner = from_address("198.51.100.7")  # type: ignore[operator]
    codes = [
        scanner.get("/execute/Tokens/list", headers=auth("alice", secret.generate())).status_code for _ in range(25)
    ]
    assert codes == [401] * 20 + [429] * 5
    refused = [
        scanner.get("/execute/Tokens/list", headers=auth(user, token))
        for user, token in (("alice", alice_token.secret), ("alice", secret.generate()), ("nosuchuser", "x"))
    ]
    assert {(r.status_code, r.content) for r in refused} == {(429, refused[0].content)}  # one answer for all
    body = uapi(refused[0], status=0, http=429)
    assert "Too many failed login attempts" in body["errors"][0]
    assert 590 <= int(refused[0].headers["retry-after"]) <= 600
    # The token's owner, from her own address, is not affected.
    elsewhere = from_address("203.0.113.5")  # type: ignore[operator]
    uapi(elsewhere.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
    with container.uow(write=False) as uow:
        lockouts = uow.audit.query(AuditQuery(actions=(AuditAction.ACCOUNT_AUTH_LOCKOUT.value,)))
    assert [event.target for event in lockouts] == ["token-ip:198.51.100.7"]


def test_requests_without_credentials_do_not_count(from_address: object) -> None:
    anonymous = from_address("198.51.100.8")  # type: ignore[operator]
    codes = {anonymous.get("/execute/Tokens/list").status_code for _ in range(30)}
    assert codes == {401}


def test_per_token_rate_limit_with_standard_headers(client: TestClient, container: Container, alice: Account) -> None:
    limited = make_token_with_limit(container, alice, "limited", 3)
    answers = [client.get("/execute/Tokens/list", headers=auth("alice", limited)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [a.headers["ratelimit-remaining"] for a in answers] == ["2", "1", "0", "0"]
    assert answers[0].headers["ratelimit-limit"] == "3"
    assert answers[0].headers["ratelimit-policy"] == "3;w=60"
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert "rate limit" in uapi(answers[3], status=0, http=429)["errors"][0]


@pytest.mark.settings(token_rate_limit=2)
def test_the_server_default_rate_limit_applies_and_zero_means_unlimited(
    client: TestClient, container: Container, alice: Account, clock: FakeClock
) -> None:
    default = make_token(container, alice, "default").secret
    unlimited = make_token_with_limit(container, alice, "free", 0)
    assert [client.get("/execute/Tokens/list", headers=auth("alice", default)).status_code for _ in range(3)] == [
        200,
        200,
        429,
    ]
    clock.advance(60)  # a new window
    assert client.get("/execute/Tokens/list", headers=auth("alice", default)).status_code == 200
    free = [client.get("/execute/Tokens/list", headers=auth("alice", unlimited)) for _ in range(5)]
    assert {a.status_code for a in free} == {200} and "ratelimit-limit" not in free[0].headers


def test_rate_limit_is_set_at_creation_and_listed(client: TestClient, alice_token: IssuedToken) -> None:
    headers = auth("alice", alice_token.secret)
    created = uapi(
        client.post(
            "/execute/Tokens/create", data={"name": "slow", "full_access": "1", "rate_limit": "30"}, headers=headers
        ),
        status=1,
    )
    assert created["data"]["rate_limit"] == 30
    bad = uapi(
        client.post(
            "/execute/Tokens/create", data={"name": "x", "full_access": "1", "rate_limit": "-1"}, headers=headers
        ),
        status=0,
    )
    assert "rate_limit" in bad["errors"][0]


def mint(client: TestClient, parent: str, name: str, **extra: str) -> dict[str, Any]:
    """The answer to a full-access token `name` made with the token `parent`."""
    body = {"name": name, "full_access": "1", **extra}
    return uapi(client.post("/execute/Tokens/create", data=body, headers=auth("alice", parent)), status=None)


@pytest.mark.parametrize(
    ("limit", "extra"),
    [
        (30, {"rate_limit": "0"}),
        (30, {"rate_limit": "31"}),
        (30, {}),
        (None, {"rate_limit": "0"}),
        (None, {"rate_limit": "601"}),
    ],
)
def test_a_rate_limited_token_cannot_mint_a_faster_one(
    client: TestClient, container: Container, alice: Account, limit: int | None, extra: dict[str, str]
) -> None:
    """Like an expiry, a rate limit narrows a token: a leaked limited token with tokens:write must not make itself an
    unlimited (or faster, or server-default) twin. `limit` None: the server's default of 600."""
    if limit is None:
        parent = make_token(container, alice, "default").secret
    else:
        parent = make_token_with_limit(container, alice, "limited", limit)
    refused = mint(client, parent, "faster", **extra)
    assert refused["status"] == 0 and f"{limit or 600} requests" in refused["errors"][0], (extra, refused)


def test_a_rate_limited_token_mints_tokens_as_slow_or_slower(
    client: TestClient, container: Container, alice: Account
) -> None:
    limited = make_token_with_limit(container, alice, "limited", 30)
    default = make_token(container, alice, "default").secret  # the server's 600
    assert mint(client, limited, "same", rate_limit="30")["data"]["rate_limit"] == 30
    assert mint(client, limited, "slower", rate_limit="5")["data"]["rate_limit"] == 5
    assert mint(client, default, "as-default")["data"]["rate_limit"] is None


def make_token_with_limit(container: Container, account: Account, name: str, limit: int) -> str:
    with container.uow() as uow:
        issued = container.tokens(uow).create(
            Principal.admin(account), name, None, Permissions.full(), rate_limit=limit
        )
        uow.commit()
    return issued.secret


def test_a_leak_report_revokes_the_token_and_says_nothing(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    bob_token = make_token(container, make_account(container, "bob"), "b").secret
    answers = [
        client.post("/leaked-tokens", content=f"found this in a gist: {alice_token.secret}"),
        client.post("/leaked-tokens", data={"token": secret.generate()}),  # well-formed, never issued
        client.post("/leaked-tokens", content="nothing at all"),
    ]
    assert {(a.status_code, a.content) for a in answers} == {(202, answers[0].content)}
    uapi(answers[0], status=1, http=202)
    assert client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)).status_code == 401
    assert client.get("/execute/Tokens/list", headers=auth("bob", bob_token)).status_code == 200
    with container.uow(write=False) as uow:
        events = uow.audit.query(
            AuditQuery(account_id=alice.id, actions=(AuditAction.ACCOUNT_TOKEN_REVOKE_LEAK.value,))
        )
    assert [(e.target, e.actor, e.details) for e in events] == [("bar", "public", {"source": "a public leak report"})]
    assert alice_token.secret not in str(events)


def test_a_leak_report_from_a_forwarded_address_that_is_not_one_still_revokes(
    from_address: object, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    """Behind a proxy trusted with `*`, the client "address" is whatever the caller forwarded: too long for the
    address column, it made PostgreSQL refuse the audit row and the revocation with it."""
    reporter = from_address("<b>" + "f" * 90)  # type: ignore[operator]
    assert reporter.post("/leaked-tokens", content=alice_token.secret).status_code == 202
    assert reporter.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)).status_code == 401
    with container.uow(write=False) as uow:
        [event] = uow.audit.query(AuditQuery(actions=(AuditAction.ACCOUNT_TOKEN_REVOKE_LEAK.value,)))
    assert event.ip is None


def test_leak_reports_are_rate_limited_per_address(client: TestClient, container: Container) -> None:
    limit = container.settings.leak_report_rate_limit
    codes = [client.post("/leaked-tokens", content="x").status_code for _ in range(limit + 1)]
    assert codes == [202] * limit + [429]


def test_leak_reports_are_limited_per_ipv6_64_not_per_address(from_address: object, container: Container) -> None:
    limit = container.settings.leak_report_rate_limit
    codes = [
        from_address(f"2001:db8:7:7::{n + 1:x}").post("/leaked-tokens", content="x").status_code  # type: ignore[operator]
        for n in range(limit + 1)
    ]
    assert codes == [202] * limit + [429]
    assert from_address("2001:db8:7:8::1").post("/leaked-tokens", content="x").status_code == 202  # type: ignore[operator]


def test_a_token_header_on_the_report_endpoint_is_refused(client: TestClient, alice_token: IssuedToken) -> None:
    response = client.post("/leaked-tokens", content="x", headers=auth("alice", alice_token.secret))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("query", "body", "message"),
    [
        (b"name=%FF%FE", None, "not valid UTF-8"),
        (b"", b"name=%C3%28", "not valid UTF-8"),
        (b"&".join(b"a%d=1" % n for n in range(1001)), None, "more than 1000 arguments"),
    ],
)
def test_undecodable_or_flooded_arguments_get_a_clear_400(
    client: TestClient, alice_token: IssuedToken, query: bytes, body: bytes | None, message: str
) -> None:
    headers = {**auth("alice", alice_token.secret), "Content-Type": "application/x-www-form-urlencoded"}
    url = "/execute/Tokens/list?" + query.decode()
    response = client.post(url, content=body, headers=headers) if body else client.get(url, headers=headers)
    assert message in uapi(response, status=0, http=400)["errors"][0]


def test_huge_numbers_and_duplicate_arguments_get_clear_errors(client: TestClient, alice_token: IssuedToken) -> None:
    headers = auth("alice", alice_token.secret)
    huge = uapi(
        client.post(
            "/execute/Tokens/create_full_access", data={"name": "n", "expires_at": "9" * 5000}, headers=headers
        ),
        status=0,
    )
    assert "not a valid UNIX epoch" in huge["errors"][0]
    limit = uapi(client.get("/execute/ActivityLog/list", params={"limit": "9" * 5000}, headers=headers), status=0)
    assert "whole number" in limit["errors"][0]
    twice = client.post(
        "/execute/Tokens/revoke",
        content="name=bar&name=bar",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert uapi(twice, status=1)["data"] == 1  # the first `name` counts; the second becomes `name-0`


def test_unreachable_redis_means_503_not_an_internal_error(settings: Settings, clock: FakeClock) -> None:
    down = Container(settings.model_copy(update={"redis_url": f"redis://127.0.0.1:{free_port()}/0"}), clock)
    try:
        alice = make_account(down, "alice")
        token = make_token(down, alice, "t").secret
        with TestClient(create_app(down), base_url="https://testserver") as client:
            answer = client.get("/execute/Tokens/list", headers=auth("alice", token))
            assert "Try again shortly" in uapi(answer, status=0, http=503)["errors"][0]
            assert answer.headers["retry-after"] == "5"
            assert client.post("/leaked-tokens", content=token).status_code == 503
    finally:
        down.close()
