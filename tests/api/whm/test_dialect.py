"""WHM API 1 on the wire, as clients send it: the path, the schemes, Basic, the /cpsess prefix, GET/POST/both, the
envelope with an integer result, the API 0 replies, meta-arguments, and the refusal of any bad authentication."""

from __future__ import annotations

import base64

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import PASSWORD, auth, make_account, make_whm_token, whm, whm_auth

DENIED = {"cpanelresult": {"apiversion": "2", "error": "Access denied",
                           "data": {"reason": "Access denied", "result": "0"}, "type": "text"}}  # fmt: skip


@pytest.fixture
def token(container: Container, root: Account) -> str:
    return make_whm_token(container, root).secret


def test_api_1_envelope_and_both_scheme_cases(whm_client: TestClient, token: str) -> None:
    for scheme in ("whm", "WHM", "Whm"):
        response = whm_client.get(
            "/json-api/version?api.version=1", headers={"Authorization": f"{scheme} root:{token}"}
        )
        body = whm(response)
        assert body["metadata"] == {"command": "version", "version": 1, "result": 1, "reason": "OK"}
        assert body["data"]["version"] == "11.120.0.16"


def test_get_query_post_form_and_post_with_query_all_work(whm_client: TestClient, token: str) -> None:
    headers = whm_auth("root", token)
    whm(whm_client.get("/json-api/addpkg", params={"api.version": "1", "name": "one"}, headers=headers))
    whm(whm_client.post("/json-api/addpkg", data={"api.version": "1", "name": "two"}, headers=headers))
    whm(whm_client.post("/json-api/addpkg?api.version=1&name=three", headers=headers))
    names = [p["name"] for p in whm(whm_client.get("/json-api/listpkgs?api.version=1", headers=headers))["data"]["pkg"]]
    assert {"one", "two", "three", "default"} <= set(names)


def test_a_cpsess_prefix_is_accepted(whm_client: TestClient, token: str) -> None:
    whm(whm_client.get("/cpsess0123456789/json-api/gethostname?api.version=1", headers=whm_auth("root", token)))


def test_basic_authentication_with_roots_password(whm_client: TestClient) -> None:
    basic = base64.b64encode(f"root:{PASSWORD}".encode()).decode()
    body = whm(whm_client.get("/json-api/myprivs?api.version=1", headers={"Authorization": f"Basic {basic}"}))
    assert body["data"]["privileges"][0]["all"] == 1


def test_every_failed_authentication_is_cpanels_403(
    whm_client: TestClient, token: str, alice_token: IssuedToken, container: Container
) -> None:
    wrong = base64.b64encode(b"root:wrong-password-here").decode()
    for headers in (
        whm_auth("root", token + "x"),
        whm_auth("alice", alice_token.secret),  # a cPanel token, in WHM's scheme
        auth("alice", alice_token.secret),  # and in its own
        whm_auth("alice", token),  # root's token under another name
        {"Authorization": f"Basic {wrong}"},
        {},
    ):
        response = whm_client.get("/json-api/listaccts?api.version=1", headers=headers)
        assert response.status_code == 403 and response.json() == DENIED, headers
    with container.uow(write=False) as uow:
        failures = uow.audit.query(AuditQuery(actions=("account:auth:failure", "account:login:failure"), limit=100))
    assert len(failures) >= 5  # every presented credential refused is on the trail (the bare request is not)


def test_a_whm_token_is_refused_on_the_account_port(client: TestClient, token: str) -> None:
    response = client.get("/execute/Tokens/list", headers=whm_auth("root", token))
    assert response.status_code == 401
    response = client.get("/execute/Tokens/list", headers=auth("root", token))
    assert response.status_code == 401


def test_api_0_replies_in_each_functions_shape(whm_client: TestClient, token: str, alice: Account) -> None:
    headers = whm_auth("root", token)
    assert whm_client.get("/json-api/version", headers=headers).json() == {"version": "11.120.0.16"}
    listed = whm_client.get("/json-api/listaccts", headers=headers).json()
    assert listed["status"] == 1 and listed["statusmsg"] == "Ok" and [a["user"] for a in listed["acct"]] == ["alice"]
    assert "package" in whm_client.get("/json-api/listpkgs", headers=headers).json()
    passwd = whm_client.post("/json-api/passwd", data={"user": "alice", "pass": "Lantern-Orchard-Quarry-58"},
                             headers=headers).json()  # fmt: skip
    assert passwd["passwd"][0]["status"] == 1
    suspended = whm_client.post("/json-api/suspendacct", data={"user": "alice"}, headers=headers).json()
    assert suspended == {"result": [{"status": 1, "statusmsg": "OK"}]}
    missing = whm_client.post("/json-api/removeacct", data={"user": "nobody1"}, headers=headers).json()
    assert missing["result"][0]["status"] == 0
    unknown = whm_client.get("/json-api/nosuchfunction", headers=headers).json()
    assert unknown["metadata"]["reason"] == "Unknown app (nosuchfunction) requested for this version (0) of the API."


def test_v0_privilege_refusal_says_permission_denied(
    container: Container, whm_client: TestClient, root: Account
) -> None:
    limited = make_whm_token(container, root, "lister", frozenset({"list-accts"})).secret
    body = whm_client.post("/json-api/removeacct", data={"user": "x"}, headers=whm_auth("root", limited)).json()
    assert body["statusmsg"] == "Permission Denied" and body["result"][0]["status"] == 0


def test_meta_arguments_filter_sort_chunk_and_columns(whm_client: TestClient, token: str, container: Container) -> None:
    for name in ("bravo", "alpha", "charlie"):
        make_account(container, name, domains=(f"{name}.test",))
    params = {
        "api.version": "1",
        "api.sort.enable": "1",
        "api.sort.a.field": "user",
        "api.sort.a.reverse": "1",
        "api.filter.enable": "1",
        "api.filter.a.field": "user",
        "api.filter.a.type": "contains",
        "api.filter.a.arg0": "a",
        "api.columns.enable": "1",
        "api.columns.a": "user",
        "api.chunk.enable": "1",
        "api.chunk.size": "2",
    }
    body = whm(whm_client.get("/json-api/listaccts", params=params, headers=whm_auth("root", token)))
    assert body["data"]["acct"] == [{"user": "charlie"}, {"user": "bravo"}]
    assert body["metadata"]["chunk"]["records"] == 3


def test_the_whm_openapi_document_names_every_function_and_its_acls(whm_client: TestClient) -> None:
    document = whm_client.get("/openapi.json").json()
    paths = document["paths"]
    assert "/json-api/createacct" in paths and "/json-api/hp_token_list" in paths
    assert "`create-acct`" in paths["/json-api/createacct"]["get"]["description"]
    assert "Beyond cPanel" in paths["/json-api/hp_token_revoke_all"]["post"]["description"]
    assert all(path.startswith("/json-api/") for path in paths)
