"""cPanel API 2 on the shared endpoint and gate: `/json-api/cpanel` (also under `/cpsessNNN`), GET or POST, the
`cpanelresult` envelope, and the same authentication, authorisation, rate limits and audit as UAPI."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Api2, auth, make_token

PROBE = {
    "cpanel_jsonapi_apiversion": "2",
    "cpanel_jsonapi_module": "CustInfo",
    "cpanel_jsonapi_func": "displaycontactinfo",
}


def test_a_call_by_get_post_or_under_a_session_prefix(client: TestClient, alice_token: IssuedToken) -> None:
    headers = auth("alice", alice_token.secret)
    for response in (
        client.get("/json-api/cpanel", params=PROBE, headers=headers),
        client.post("/json-api/cpanel", data=PROBE, headers=headers),
        client.get("/cpsess0123456789/json-api/cpanel", params=PROBE, headers=headers),
    ):
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        assert response.text.startswith(
            '{"cpanelresult":{"apiversion":2,"func":"displaycontactinfo","module":"CustInfo"'
        )
        assert response.json()["cpanelresult"]["event"] == {"result": 1}


@pytest.mark.parametrize("header", ["cpanel alice:hpat_nope", "cpanel bob:x", "Basic YWxpY2U6eA==", None])
def test_authentication_failures_get_one_answer(client: TestClient, alice: Account, header: str | None) -> None:
    response = client.get("/json-api/cpanel", params=PROBE, headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.json() == {
        "cpanelresult": {"apiversion": 2, "error": "Access denied", "data": {"reason": "Access denied", "result": "0"}}
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "nope"}, "could not find the function “nope”"),
        ({"cpanel_jsonapi_module": "Nope", "cpanel_jsonapi_func": "x"}, "Failed to load module “Nope”"),
        ({"cpanel_jsonapi_module": "DNS", "cpanel_jsonapi_func": "parse_zone"}, "Failed to load module “DNS”"),
        ({"cpanel_jsonapi_func": "fetch zones", "cpanel_jsonapi_module": "ZoneEdit"}, "Illegal function name"),
        ({**PROBE, "cpanel_jsonapi_apiversion": "1"}, "offers no functions in the “api1” API"),
        ({**PROBE, "cpanel_jsonapi_user": "bob"}, "belongs to “alice”, not “bob”"),
    ],
)
def test_framework_failures_carry_the_message_where_clients_look(
    client: TestClient, alice_token: IssuedToken, args: dict[str, str], message: str
) -> None:
    response = client.get("/json-api/cpanel", params={**PROBE, **args}, headers=auth("alice", alice_token.secret))
    body = response.json()["cpanelresult"]
    assert response.status_code == 200
    assert message in body["error"] and body["event"]["result"] == 0 and message in body["event"]["reason"]
    assert body["data"] == [{"result": {"status": 0, "statusmsg": body["error"], "newserial": None}}]


def test_uapi_functions_are_not_api2_functions_and_back(client: TestClient, alice_token: IssuedToken) -> None:
    answer = client.get("/execute/ZoneEdit/fetchzones", headers=auth("alice", alice_token.secret)).json()
    assert answer["status"] == 0 and "no such module" in answer["errors"][0]


def test_scopes_are_checked_and_denials_recorded(client: TestClient, container: Container, alice: Account) -> None:
    mail_only = make_token(container, alice, "mail", Permissions.of([Scope(ScopeModule.EMAIL, Access.READ)]))
    body = Api2(client, "alice", mail_only.secret).call("ZoneEdit", "fetchzones")
    assert body["error"] == "This API token does not have the “dns:read” scope."
    with container.uow(write=False) as uow:
        (event,) = uow.audit.query(AuditQuery(actions=("account:permission:denied",)))
    assert (event.target, event.actor, event.details["missing"]) == ("ZoneEdit::fetchzones", "token:mail", "dns:read")
    reader = make_token(container, alice, "reader", Permissions.of([Scope(ScopeModule.DNS, Access.READ)]))
    body = Api2(client, "alice", reader.secret).call("ZoneEdit", "add_zone_record", domain="alice.test")
    assert body["error"] == "This API token does not have the “dns:write” scope."


def test_the_token_rate_limit_counts_api2_calls_too(client: TestClient, container: Container, alice: Account) -> None:
    limited = make_token(container, alice, "slow", rate_limit=2)
    api2 = Api2(client, "alice", limited.secret)
    assert [api2.raw("CustInfo", "displaycontactinfo").status_code for _ in range(3)] == [200, 200, 429]


def test_a_token_secret_echoed_in_a_message_is_redacted(client: TestClient, alice_token: IssuedToken) -> None:
    params = {**PROBE, "cpanel_jsonapi_func": alice_token.secret}
    response = client.get("/json-api/cpanel", params=params, headers=auth("alice", alice_token.secret))
    assert alice_token.secret not in response.text
