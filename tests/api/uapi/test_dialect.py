"""The UAPI surface through the real ASGI app: authentication, envelope, arguments, framework errors."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import (
    TOKEN_RECORD_FIELDS,
    TOKEN_USAGE_FIELDS,
    FakeClock,
    auth,
    flush_usage,
    make_account,
    make_token,
    uapi,
)


def test_list_answers_with_the_bare_result_object(client: TestClient, alice_token: IssuedToken) -> None:
    body = uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
    assert body["metadata"] == {"transformed": 1}
    assert [record["name"] for record in body["data"]] == ["bar"]


def test_every_authentication_failure_is_the_same_401(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    bob_token = make_token(container, make_account(container, "bob"), "b").secret
    expiring = make_token(container, alice, "soon", expires_at=int(clock.now()) + 5).secret
    revoked = make_token(container, alice, "gone").secret
    client.post("/execute/Tokens/revoke", data={"name": "gone"}, headers=auth("alice", alice_token.secret))
    clock.advance(5)
    attempts = {
        "no header": {},
        "basic": {"Authorization": "Basic YWxpY2U6cGFzcw=="},
        "no colon": {"Authorization": f"cpanel alice{alice_token.secret}"},
        "empty token": {"Authorization": "cpanel alice:"},
        "unknown user": auth("nobody", alice_token.secret),
        "wrong token": auth("alice", secret.generate()),
        "cpanel-shaped token": auth("alice", "JPQNSRU0DH448UJLGXH7KVJECC5QN9N9"),
        "another account's token": auth("alice", bob_token),
        "expired": auth("alice", expiring),
        "revoked": auth("alice", revoked),
    }
    answers = set()
    for label, headers in attempts.items():
        response = client.get("/execute/Tokens/list", headers=headers)
        assert response.status_code == 401, label
        assert response.headers["www-authenticate"].startswith("cpanel")
        answers.add((response.content, response.headers["content-type"]))
    assert len(answers) == 1
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)).content == answers.pop()[0]


def test_failures_are_recorded_with_the_source_ip_and_never_the_secret(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    wrong = secret.generate()
    client.get("/execute/Tokens/list", headers=auth("alice", wrong))
    client.get("/execute/Tokens/list", headers=auth("nobody", alice_token.secret))
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(actions=("account:auth:failure",)))
        dump = uow.connection.exec_driver_sql("SELECT * FROM audit_events").fetchall()  # type: ignore[attr-defined]
    assert [(e.username, e.account_id, e.ip, e.details["reason"]) for e in reversed(events)] == [
        ("alice", alice.id, "testclient", "unknown token"),
        ("nobody", None, "testclient", "unknown token"),
        ("alice", alice.id, "testclient", "the token was presented under another username"),
    ]
    assert wrong not in repr(dump) and alice_token.secret not in repr(dump)


@pytest.mark.parametrize("scheme", ["CPANEL", "Cpanel", "whm", "WHM"])
def test_scheme_is_case_insensitive_and_whm_is_accepted(
    client: TestClient, alice_token: IssuedToken, scheme: str
) -> None:
    headers = {"Authorization": f"{scheme} alice:{alice_token.secret}"}
    uapi(client.get("/execute/Tokens/list", headers=headers), status=1)


@pytest.mark.parametrize("path", ["/", "/openapi.json", "/healthz"])
def test_token_authentication_reaches_only_the_api(client: TestClient, alice_token: IssuedToken, path: str) -> None:
    response = client.get(path, headers=auth("alice", alice_token.secret))
    assert response.status_code == 403
    assert response.text == "Token authentication allows access to UAPI or API 2 calls only."
    assert client.get(path).status_code == 200


def test_cpsess_prefix_is_tolerated(client: TestClient, alice_token: IssuedToken) -> None:
    response = client.get("/cpsess0123456789/execute/Tokens/list", headers=auth("alice", alice_token.secret))
    uapi(response, status=1)


def test_query_and_form_arguments_are_merged(client: TestClient, alice_token: IssuedToken) -> None:
    headers = auth("alice", alice_token.secret)
    uapi(client.post("/execute/Tokens/create_full_access?name=merged", data={"expires_at": "0"}, headers=headers), 1)
    uapi(client.post("/execute/Tokens/rename?name=merged", data={"new_name": "moved"}, headers=headers), 1)
    names = [r["name"] for r in uapi(client.get("/execute/Tokens/list", headers=headers))["data"]]
    assert names == ["bar", "moved"]


FRAMEWORK_ERRORS = {
    "/execute/Tokens/no_such": "The system could not find the function “no_such” in the module “Tokens”.",
    "/execute/Nope/list": "Failed to load module “Nope”: no such module.",
    "/execute/Tokens/bad-name": "Illegal function name: bad-name",
    "/execute/Tokens/create_full_access": "Provide the “name” argument.",
    "/execute/Tokens/create_full_access?name=": "The “name” argument cannot be empty.",
    "/execute/Tokens/create_full_access?name=a%20b": "“a b” is not a valid API token name. An API token name "
    "must not be longer than 50 characters and may only contain the following characters: a-z A-Z 0-9 _ -",
    "/execute/Tokens/create_full_access?name=x&expires_at=soon": "“soon” is not a valid UNIX epoch timestamp.",
    "/execute/Tokens/create_full_access?name=x&expires_at=1000": "The “1000” value must be a future date.",
}


@pytest.mark.parametrize(("path", "message"), FRAMEWORK_ERRORS.items(), ids=list(FRAMEWORK_ERRORS))
def test_framework_errors_use_cpanels_texts(
    client: TestClient, alice_token: IssuedToken, path: str, message: str
) -> None:
    body = uapi(client.get(path, headers=auth("alice", alice_token.secret)), status=0)
    assert body["errors"] == [message], path
    assert body["data"] is None


def test_unauthenticated_unknown_module_is_still_401(client: TestClient) -> None:
    assert client.get("/execute/Nope/list").status_code == 401


def test_create_full_access_returns_only_cpanels_fields(
    client: TestClient, alice_token: IssuedToken, clock: FakeClock
) -> None:
    body = uapi(
        client.post(
            "/execute/Tokens/create_full_access", data={"name": "ci"}, headers=auth("alice", alice_token.secret)
        ),
        status=1,
    )
    assert set(body["data"]) == {"create_time", "token"}
    assert body["data"]["create_time"] == int(clock.now())
    new = body["data"]["token"]
    assert secret.parse(new) is not None
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", new)), status=1)


def test_revoke_answers_1_then_0_and_the_token_dies_at_once(client: TestClient, alice_token: IssuedToken) -> None:
    headers = auth("alice", alice_token.secret)
    other = uapi(client.post("/execute/Tokens/create_full_access", data={"name": "two"}, headers=headers))
    token = other["data"]["token"]
    assert uapi(client.post("/execute/Tokens/revoke", data={"name": "two"}, headers=headers), 1)["data"] == 1
    assert uapi(client.post("/execute/Tokens/revoke", data={"name": "two"}, headers=headers), 1)["data"] == 0
    assert client.get("/execute/Tokens/list", headers=auth("alice", token)).status_code == 401


def test_list_shows_review_fields_and_never_secrets(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken, clock: FakeClock
) -> None:
    make_token(container, alice, "later", expires_at=int(clock.now()) + 10)
    client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret))
    flush_usage(container)
    clock.advance(11)
    response = client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret))
    records = {r["name"]: r for r in uapi(response, status=1)["data"]}
    assert records["later"]["expired"] == 1 and records["bar"]["expired"] == 0
    assert records["bar"]["last_used"] == int(clock.now()) - 11
    assert records["bar"]["last_used_ip"] == "testclient"
    assert records["bar"]["has_full_access"] == 1 and records["bar"]["features"] == []
    assert set(records["bar"]) == TOKEN_RECORD_FIELDS | TOKEN_USAGE_FIELDS
    assert records["bar"]["hp_calls_by_module"] == {"Tokens": 1}
    assert [a["ip"] for a in records["bar"]["hp_recent_addresses"]] == ["testclient"]
    assert alice_token.secret not in response.text
    assert alice_token.secret.split("_")[1] not in response.text  # not even the lookup key


def test_scoped_token_is_held_to_its_scopes_and_denials_are_audited(
    client: TestClient, container: Container, alice_token: IssuedToken
) -> None:
    admin = auth("alice", alice_token.secret)
    body = uapi(client.post("/execute/Tokens/create", data={"name": "ro", "scope": "tokens:read"}, headers=admin), 1)
    assert body["data"]["scopes"] == ["tokens:read"] and body["data"]["has_full_access"] == 0
    assert body["data"]["features"] == ["apitokens"]
    reader = auth("alice", body["data"]["token"])
    uapi(client.get("/execute/Tokens/list", headers=reader), status=1)
    denied = uapi(client.post("/execute/Tokens/revoke", data={"name": "bar"}, headers=reader), status=0)
    assert denied["errors"] == ["This API token does not have the “tokens:write” scope."]
    denied = uapi(client.get("/execute/ActivityLog/list", headers=reader), status=0)
    assert "activitylog:read" in denied["errors"][0]
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(actions=("account:permission:denied",)))
    assert [(e.actor, e.target, e.details["missing"]) for e in reversed(events)] == [
        ("token:ro", "Tokens::revoke", "tokens:write"),
        ("token:ro", "ActivityLog::list", "activitylog:read"),
    ]


def test_repeated_scope_parameters_follow_cpanels_numbering(client: TestClient, alice_token: IssuedToken) -> None:
    admin = auth("alice", alice_token.secret)
    query = "name=multi&scope=tokens:read&scope=activitylog:read&scope-5=features:read"
    body = uapi(client.get(f"/execute/Tokens/create?{query}", headers=admin), 1)
    assert body["data"]["scopes"] == ["activitylog:read", "features:read", "tokens:read"]


def test_no_privilege_escalation_through_the_api(client: TestClient, alice_token: IssuedToken) -> None:
    admin = auth("alice", alice_token.secret)
    writer = uapi(client.post("/execute/Tokens/create", data={"name": "w", "scope": "tokens:write"}, headers=admin))
    headers = auth("alice", writer["data"]["token"])
    body = uapi(client.post("/execute/Tokens/create_full_access", data={"name": "x"}, headers=headers), status=0)
    assert "full access" in body["errors"][0]
    body = uapi(
        client.post("/execute/Tokens/create", data={"name": "x", "scope": "activitylog:read"}, headers=headers),
        status=0,
    )
    assert "activitylog:read" in body["errors"][0]
    uapi(client.post("/execute/Tokens/create", data={"name": "x", "scope": "tokens:read"}, headers=headers), 1)


def test_a_feature_switched_off_stops_even_full_access_tokens(
    client: TestClient, container: Container, alice_token: IssuedToken
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["apitokens"], [])
        uow.commit()
    headers = auth("alice", alice_token.secret)
    body = uapi(client.get("/execute/Tokens/list", headers=headers), status=0)
    assert body["errors"] == ["You do not have the feature “apitokens”."]
    features = uapi(client.get("/execute/Features/list_features", headers=headers), status=1)
    assert features["data"]["apitokens"] == 0 and set(features["data"].values()) - {0} == {1}
    has = uapi(client.get("/execute/Features/has_feature?name=apitokens", headers=headers), status=1)
    assert has["data"] == 0 and has["messages"] == ["The feature “apitokens” exists but is not enabled."]


def test_list_pagination_metadata_and_errors(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    for n in range(5):
        make_token(container, alice, f"t{n}")
    headers = auth("alice", alice_token.secret)
    body = uapi(client.get("/execute/Tokens/list?api.paginate_start=3&api.paginate_size=2", headers=headers), 1)
    assert [r["name"] for r in body["data"]] == ["t1", "t2"]
    assert body["metadata"]["paginate"] == {
        "total_results": 6,
        "total_pages": 3,
        "start_result": 3,
        "results_per_page": 2,
        "current_page": 2,
    }
    body = uapi(client.get("/execute/Tokens/list?api.paginate_start=9&api.paginate_size=2", headers=headers), 0)
    assert body["errors"] == ["The start index (9) is larger than the total number of results (6)."]
    body = uapi(
        client.get(
            "/execute/Tokens/list?api.filter_column=name&api.filter_type=begins&api.filter_term=T"
            "&api.sort_column=name&api.sort_reverse=1&api.columns_0=name",
            headers=headers,
        ),
        1,
    )
    assert body["data"] == [{"name": f"t{n}"} for n in (4, 3, 2, 1, 0)]
    assert body["metadata"]["records_before_filter"] == 6


def test_oversized_body_is_refused_cleanly(client: TestClient, container: Container, alice_token: IssuedToken) -> None:
    too_big = "x" * (container.settings.max_request_bytes + 1)
    response = client.post(
        "/execute/Tokens/create_full_access", data={"name": too_big}, headers=auth("alice", alice_token.secret)
    )
    body = uapi(response, status=0, http=413)
    assert "larger than the limit" in body["errors"][0]


@pytest.mark.parametrize("path", ["/execute/Tokens/list", "/"])
def test_hardening_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"


def test_head_never_runs_a_function(
    client: TestClient, container: Container, alice: Account, alice_token: IssuedToken
) -> None:
    response = client.head("/execute/Tokens/create_full_access?name=ghost", headers=auth("alice", alice_token.secret))
    assert response.status_code == 405
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "ghost") is None
