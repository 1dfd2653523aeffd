"""Attacks on the UAPI surface through the real ASGI app, as an outsider and as a hostile token holder."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable, Iterator

import httpx2
import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.accounts.service import AccountService
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken, TokenQuery
from hostpanel.modules import default_registry
from hostpanel.storage.tables import metadata
from tests.factories import PASSWORD, FakeClock, auth, flush_usage, make_account, make_token, uapi

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.mark.timeout(30, method="thread")  # a hang must end the run, not wait for it
def test_a_body_of_one_key_repeated_is_answered_at_once(client: TestClient, alice_token: IssuedToken) -> None:
    # 100,000 repetitions fit well under the body limit; numbering each one by scanning from 0 took hours. The
    # number of arguments is now bounded too, and repeated keys are numbered in linear time below the bound.
    headers = {**auth("alice", alice_token.secret), **FORM}
    body = uapi(
        client.post("/execute/Features/list_features", content="&".join(["a="] * 100_000), headers=headers),
        status=0,
        http=400,
    )
    assert body["errors"] == ["The request has more than 1000 arguments."]
    uapi(client.post("/execute/Features/list_features", content="&".join(["a="] * 999), headers=headers), status=1)


HUGE = "9" * 5000  # past Python's int() digit limit
LONG = "9" * 30  # past what SQLite and PostgreSQL integers hold


OUT_OF_RANGE = [
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
]


@pytest.mark.parametrize(("query", "status", "error"), OUT_OF_RANGE, ids=range(len(OUT_OF_RANGE)))
def test_numbers_out_of_any_range_get_a_uapi_answer(
    client: TestClient, alice_token: IssuedToken, query: str, status: int, error: str | None
) -> None:
    body = uapi(client.get(f"/execute/{query}", headers=auth("alice", alice_token.secret)), status=status)
    assert error is None or error in body["errors"][0], query


WITH_NUL = [
    ("ActivityLog/list?ip=%00", "ip"),
    ("ActivityLog/list?token=bar%00", "token"),
    ("Tokens/revoke?name=bar%00", "name"),
    ("Tokens/rename?name=%00&new_name=b", "name"),
    ("Tokens/list?api.filter_column=name&api.filter_term=%00", "api.filter_term"),
    ("Tokens/list?na%00me=x", "na\\0me"),
]


@pytest.mark.parametrize(("query", "argument"), WITH_NUL)
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


@pytest.mark.parametrize("address", ["z" * 100, "[/x]"])
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


@pytest.mark.parametrize("address", ["203.0.113.9", "2001:db8::1", "::ffff:192.0.2.128", "fe80::1%eth0"])
def test_real_addresses_are_recorded(container: Container, alice_token: IssuedToken, address: str) -> None:
    with TestClient(create_app(container), base_url="https://testserver", client=(address, 1)) as client:
        uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
    flush_usage(container)
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


BRIEF = 3600  # seconds the token that mints lives


@pytest.mark.parametrize(
    ("function", "form", "after"),
    [
        ("create_full_access", {"name": "a"}, None),
        ("create_full_access", {"name": "b", "expires_at": "0"}, None),
        ("create_full_access", {"name": "c"}, 1),
        ("create", {"name": "d", "scope": "tokens:read"}, None),
        ("create", {"name": "e", "full_access": "1"}, 86400),
    ],
)
def test_an_expiring_token_cannot_mint_a_longer_lived_one(
    client: TestClient,
    container: Container,
    alice: Account,
    clock: FakeClock,
    function: str,
    form: dict[str, str],
    after: int | None,
) -> None:
    """`after`: the new token's expiry, in seconds after the minting token's."""
    ends = int(clock.now()) + BRIEF
    brief = auth("alice", make_token(container, alice, "brief", expires_at=ends).secret)
    if after is not None:
        form = {**form, "expires_at": str(ends + after)}
    body = uapi(client.post(f"/execute/Tokens/{function}", data=form, headers=brief), status=0)
    assert "expire no later than itself" in body["errors"][0], form


def test_an_expiring_token_can_mint_one_that_ends_with_it(
    client: TestClient, container: Container, alice: Account, clock: FakeClock
) -> None:
    ends = int(clock.now()) + BRIEF
    brief = auth("alice", make_token(container, alice, "brief", expires_at=ends).secret)
    uapi(
        client.post("/execute/Tokens/create_full_access", data={"name": "f", "expires_at": str(ends)}, headers=brief), 1
    )


def _answer(response: httpx2.Response) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
    """Everything a caller can compare between two answers, but the date."""
    headers = tuple(sorted((name, value) for name, value in response.headers.multi_items() if name != "date"))
    return response.status_code, headers, response.content


def _bytes(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


@pytest.mark.settings(lockout_token_failures=10_000)  # this test is about the 401, not the block that follows
def test_every_malformed_or_wrong_authorization_gets_the_one_401(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    token = alice_token.secret
    bob = make_token(container, make_account(container, "bob"), "b").secret
    variants: list[list[tuple[str, str | bytes]]] = [
        [],
        [("Authorization", "")],
        [("Authorization", "cpanel")],
        [("Authorization", "cpanel ")],
        [("Authorization", f"cpanel :{token}")],
        [("Authorization", "cpanel alice:")],
        [("Authorization", f"cpanel alice:{token}:extra")],
        [("Authorization", f"cpanel alice :{token}")],
        [("Authorization", f"cpanel alice: {token}")],
        [("Authorization", f"cpanel\talice:{token}")],
        [("Authorization", f"cpanelx alice:{token}")],
        [("Authorization", f"Bearer {token}")],
        [("Authorization", f"Basic {base64.b64encode(f'alice:{token}'.encode()).decode()}")],
        [("Authorization", f"cpanel ALICE:{token}")],
        [("Authorization", f"cpanel alice:{token.upper()}")],
        [("Authorization", f"cpanel alice:{token}x")],
        [("Authorization", f"cpanel alice:{token[:-1]}")],
        [("Authorization", f"cpanel {token}:{token}")],
        [("Authorization", f"cpanel alice:{bob}")],
        [("Authorization", f"cpanel bob:{token}")],
        [("Authorization", f"cpanel nobody:{token}")],
        [("Authorization", b"cpanel \xe4lice:" + token.encode())],
        [("Authorization", b"cpanel alice:" + token.encode() + b"\xff")],
        [("Authorization", "cpanel " + "a" * 100_000 + ":" + token)],
        [("Authorization", f"cpanel alice:{'x' * 100_000}")],
        [("Authorization", f"cpanel bob:{bob[:-1]}x"), ("Authorization", f"cpanel alice:{token}")],
    ]
    answers = {
        _answer(client.get("/execute/Tokens/list", headers=[(n.encode(), _bytes(v)) for n, v in headers]))
        for headers in variants
    }
    assert len(answers) == 1
    status, headers, body = answers.pop()
    assert status == 401 and ("cache-control", "no-store") in headers
    assert ("www-authenticate", 'cpanel realm="hostpanel"') in headers
    assert json.loads(body) == {
        "status": 0,
        "data": None,
        "errors": ["Access denied"],
        "messages": None,
        "warnings": None,
        "metadata": {},
    }
    for accepted in (f"cpanel alice:{token}", f"CPANEL  alice:{token}", f"whm alice:{token}"):
        uapi(client.get("/execute/Tokens/list", headers={"Authorization": accepted}), status=1)
    with container.uow(write=False) as uow:
        stored = repr(uow.connection.exec_driver_sql("SELECT * FROM audit_events").fetchall())  # type: ignore[attr-defined]
    assert token not in stored and bob not in stored and "[redacted token]" in stored


def test_a_token_never_acts_on_another_account(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    bob = make_account(container, "bob")
    bobs = make_token(container, bob, "bobs")
    mine = auth("alice", alice_token.secret)
    assert client.get("/execute/Tokens/list", headers=auth("bob", alice_token.secret)).status_code == 401
    assert [r["name"] for r in uapi(client.get("/execute/Tokens/list", headers=mine), 1)["data"]] == ["bar"]
    assert uapi(client.post("/execute/Tokens/revoke", data={"name": "bobs"}, headers=mine), 1)["data"] == 0
    body = uapi(client.post("/execute/Tokens/rename", data={"name": "bobs", "new_name": "x"}, headers=mine), 0)
    assert body["errors"] == ["The API token “bobs” does not exist."]
    uapi(client.post("/execute/Tokens/create_full_access", data={"name": "bobs"}, headers=mine), status=1)
    events = uapi(client.get("/execute/ActivityLog/list?limit=1000", headers=mine), 1)["data"]
    assert events and all(event["target"] != "bob" for event in events)
    with container.uow(write=False) as uow:
        assert {event.account_id for event in uow.audit.query(AuditQuery(actor="token:bar"))} == {alice.id}
    listed = uapi(client.get("/execute/Tokens/list", headers=auth("bob", bobs.secret)), 1)["data"]
    assert [record["name"] for record in listed] == ["bobs"]


SCOPES = [Scope(module, access) for module in ScopeModule for access in Access]


@pytest.mark.parametrize("held", SCOPES, ids=str)
def test_a_limited_token_reaches_exactly_what_its_scope_grants(
    client: TestClient, container: Container, alice: Account, held: Scope
) -> None:
    headers = auth(
        "alice", make_token(container, alice, f"only-{held.module}-{held.access}", Permissions.of([held])).secret
    )
    for function in default_registry().functions():
        body = uapi(client.post(f"/execute/{function.module}/{function.name}", headers=headers))
        assert function.scope is not None  # every UAPI function declares one
        denied = body["errors"] == [f"This API token does not have the “{function.scope}” scope."]
        assert denied != held.grants(function.scope), (held, function.module, function.name, body)


@pytest.mark.parametrize("function", ["list", "create", "create_full_access", "rename", "revoke"])
def test_a_feature_switched_off_limits_even_a_token_holding_the_scope(
    client: TestClient, container: Container, alice: Account, function: str
) -> None:
    writer = Permissions.of([Scope(ScopeModule.TOKENS, Access.WRITE)])
    headers = auth("alice", make_token(container, alice, "writer", writer).secret)
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["apitokens"], [])
        uow.commit()
    body = uapi(client.post(f"/execute/Tokens/{function}", data={"name": "x"}, headers=headers), 0)
    assert body["errors"] == ["You do not have the feature “apitokens”."]


STRONGER = [
    "name=x&full_access=1",
    "name=x&full_access=1&full_access=0",
    "name=x&full_access=0&full_access=1",
    "name=x&full_access-0=1",
    "name=x&full_access=%201",
    "name=x&full_access=01",
    "name=x&full_access=true",
    "name=x&full_access=%EF%BC%91",  # fullwidth 1
    "name=x&scope=activitylog:read",
    "name=x&scope=tokens:read&scope=activitylog:read",
    "name=x&scope=tokens:read&scope-7=features:read",
    "name=x&scope-0=activitylog:write",
    "name=x&scope=ACTIVITYLOG:READ",
    "name=x&scope=tokens:write%20activitylog:read",
    "name=x&scope=tokens:write,activitylog:read",
    "name=x&scope=tokens:*",
    "name=x&scope=*",
    "name=x&scope=",
    "name=x",
]


@pytest.mark.parametrize("form", STRONGER)
def test_a_limited_token_cannot_mint_a_stronger_one(
    client: TestClient, container: Container, alice: Account, form: str
) -> None:
    writer = Permissions.of([Scope(ScopeModule.TOKENS, Access.WRITE)])
    headers = {**auth("alice", make_token(container, alice, "writer", writer).secret), **FORM}
    for function in ("create", "create_full_access"):
        uapi(client.post(f"/execute/Tokens/{function}", content=form, headers=headers), status=0)
    with container.uow(write=False) as uow:
        assert [token.name for token in container.tokens(uow).page(alice.id, TokenQuery())[0]] == ["writer"]


def test_revocation_suspension_deletion_and_expiry_hold_from_the_next_request(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    headers = auth("alice", alice_token.secret)

    def admin(change: Callable[[AccountService], object]) -> None:
        with container.uow() as uow:
            change(container.accounts(uow))
            uow.commit()

    admin(lambda accounts: accounts.set_suspended("alice", True))
    assert client.get("/execute/Features/list_features", headers=headers).status_code == 401
    admin(lambda accounts: accounts.set_suspended("alice", False))
    uapi(client.get("/execute/Features/list_features", headers=headers), status=1)

    ends = int(clock.now()) + 10
    brief = auth("alice", make_token(container, alice, "brief", expires_at=ends).secret)
    clock.advance(9.999)
    uapi(client.get("/execute/Features/list_features", headers=brief), status=1)
    clock.advance(0.001)  # now == expires_at: expired
    assert client.get("/execute/Features/list_features", headers=brief).status_code == 401
    assert uapi(client.get("/execute/Tokens/list", headers=headers), 1)["data"][1]["expired"] == 1

    admin(lambda accounts: accounts.delete("alice"))
    assert client.get("/execute/Features/list_features", headers=headers).status_code == 401
    admin(lambda accounts: accounts.create("alice", PASSWORD))  # a new account of the same name
    assert client.get("/execute/Features/list_features", headers=headers).status_code == 401


OUTSIDE_THE_API = [
    "/",
    "/openapi.json",
    "/healthz",
    "/healthz/db",
    "/execute",
    "/EXECUTE/Tokens/list",
    "//execute/Tokens/list",
    "/cpsess/execute/Tokens/list",
    "/cpsess12a/execute/Tokens/list",
    "/cpsess%D9%A3/execute/Tokens/list",  # an Arabic-Indic digit is not a session number
    "/x/execute/Tokens/list",
    "/json-api/cpanel/x",
    "/json-api/listaccts",  # WHM API 1 is not served for cPanel tokens
    "/JSON-API/cpanel",
    "/nope",
]


@pytest.mark.parametrize("path", OUTSIDE_THE_API)
def test_token_credentials_anywhere_but_the_api_get_cpanels_403(
    client: TestClient, alice_token: IssuedToken, path: str
) -> None:
    for scheme in ("cpanel", "WHM", "Cpanel"):
        response = client.get(path, headers={"Authorization": f"{scheme} alice:{alice_token.secret}"})
        assert response.status_code == 403, (path, scheme)
        assert response.text == "Token authentication allows access to UAPI or API 2 calls only."
        assert response.headers["x-frame-options"] == "DENY"


def test_a_chunked_body_over_the_limit_is_refused(client: TestClient, alice_token: IssuedToken) -> None:
    def body() -> Iterator[bytes]:
        yield b"a="
        for _ in range(40):  # 2.5 MiB, with no Content-Length to check up front
            yield b"x" * 65_536

    headers = {**auth("alice", alice_token.secret), **FORM}
    response = client.post("/execute/Features/list_features", content=body(), headers=headers)
    assert "larger than the limit" in uapi(response, status=0, http=413)["errors"][0]


NOT_UTF_8_OR_NOT_A_FORM = [
    b"name=\xff\xfe&new_name=b",
    b"name=%ff%fe",
    b"name=%&&==&=x&%zz=1",
    b"\x00\x01\x02",
    b"name=" + b"%" * 10_000,
]


@pytest.mark.parametrize("body", NOT_UTF_8_OR_NOT_A_FORM, ids=range(len(NOT_UTF_8_OR_NOT_A_FORM)))
def test_bytes_that_are_not_utf_8_or_not_a_form_get_a_uapi_answer(
    client: TestClient, alice_token: IssuedToken, body: bytes
) -> None:
    headers = {**auth("alice", alice_token.secret), **FORM}
    response = client.post("/execute/Tokens/rename", content=body, headers=headers)
    assert response.status_code in (200, 400), body  # 400: the bytes are not a form at all
    uapi(response, status=0, http=response.status_code)


ODD_NAMES = [
    "/execute/Tokens/list%00",
    "/execute/Tok%2Fens/list",
    "/execute/Tokens/li st",
    "/execute/%E2%80%AE/list",
    "/execute/Tokens/" + "x" * 10_000,
    "/cpsess0/execute/Tokens/list..",
    "/execute/__class__/__init__",
    "/execute/Tokens/__init__",
]


@pytest.mark.parametrize("path", ODD_NAMES, ids=range(len(ODD_NAMES)))
def test_odd_module_and_function_names_get_a_uapi_error_or_not_found(
    client: TestClient, alice_token: IssuedToken, path: str
) -> None:
    response = client.get(path, headers=auth("alice", alice_token.secret))
    if response.status_code != 404:  # 404: not an /execute/Module/function path at all
        uapi(response, status=0)


def test_a_new_secret_appears_in_its_create_answer_and_nowhere_else(
    client: TestClient, container: Container, alice_token: IssuedToken, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    headers = auth("alice", alice_token.secret)
    created = client.post("/execute/Tokens/create", data={"name": "new", "scope": "tokens:read"}, headers=headers)
    assert created.headers["cache-control"] == "no-store"
    new = uapi(created, status=1)["data"]["token"]
    mine = auth("alice", new)
    answers = [
        client.get("/execute/Tokens/list", headers=mine),
        client.get("/execute/Tokens/list?api.columns_0=token&api.filter_column=*&api.filter_term=hpat", headers=mine),
        client.get("/execute/ActivityLog/list", headers=headers),
        client.get(f"/execute/Tokens/{new}", headers=mine),
        client.get("/execute/Tokens/list", headers=auth(new, new)),
        client.get("/execute/Tokens/list", headers=auth("alice", new + "x")),
        client.post("/execute/Tokens/create", data={"name": "again", "scope": new}, headers=mine),
        client.post("/execute/Tokens/rename", data={"name": new, "new_name": new}, headers=headers),
        client.post("/execute/Tokens/create_full_access", data={"name": new}, headers=headers),
        client.get(f"/openapi.json?{new}", headers={"Authorization": f"cpanel alice:{new}"}),
    ]
    flush_usage(container)
    with container.uow(write=False) as uow:
        tables = [
            repr(uow.connection.exec_driver_sql(f"SELECT * FROM {table.name}").fetchall())  # type: ignore[attr-defined]
            for table in metadata.sorted_tables
        ]
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith("httpx")  # the test's own client
    )
    for place in [*(answer.text for answer in answers), logged, *tables]:
        assert new not in place and new[len(secret.PREFIX) + secret.KEY_LENGTH + 1 :] not in place, place[:300]
    assert all(answer.headers.get("cache-control") == "no-store" for answer in answers[:-1])


@pytest.mark.parametrize("digits", ["0", "9" * 30, "9" * 5000], ids=["one", "thirty", "five-thousand"])
def test_a_cpsess_prefix_of_any_length_is_ignored(client: TestClient, alice_token: IssuedToken, digits: str) -> None:
    # The prefix went through int(), which refuses thousands of digits: a 500 and a traceback for anyone.
    path = f"/cpsess{digits}/execute/Tokens/list"
    assert client.get(path).status_code == 401
    uapi(client.get(path, headers=auth("alice", alice_token.secret)), status=1)


def test_requests_without_credentials_cannot_grow_the_audit_trail(client: TestClient, container: Container) -> None:
    """The trail is append-only (nothing can trim it): a record for every anonymous request would let anyone grow it
    without bound, since such requests never count towards a block. Presented credentials still are recorded."""
    with container.uow(write=False) as uow:
        before = len(uow.audit.query(AuditQuery(limit=1000)))
    for _ in range(50):
        assert client.get("/execute/Tokens/list").status_code == 401
        assert client.post("/execute/Fileman/list_files", data={"dir": "x"}).status_code == 401
    assert client.get("/execute/Tokens/list", headers=auth("alice", secret.generate())).status_code == 401
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(limit=1000))
    assert len(events) == before + 1 and events[0].username == "alice"
