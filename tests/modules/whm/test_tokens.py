"""WHM's API token functions: the caller's own WHM tokens, with ACLs, allowlists and expiry, never beyond it."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import START, auth, make_reseller, make_token, make_whm_token, whm, whm_auth
from tests.modules.whm.conftest import Whm


def test_create_list_update_revoke(as_root: Whm, whm_client: TestClient) -> None:
    made = as_root("api_token_create", token_name="billing", acl=["list-accts", "create-acct"],
                   whitelist_ip="192.0.2.0/24", expires_at=str(int(START) + 86400))["data"]  # fmt: skip
    assert made["token"].startswith("hpat_") and made["acls"] == ["create-acct", "list-accts"]
    assert made["whitelist_ips"] == ["192.0.2.0/24"] and made["expires_at"] == int(START) + 86400
    tokens = as_root("api_token_list")["data"]["tokens"]
    assert tokens["billing"]["acls"]["list-accts"] == 1 and tokens["billing"]["acls"]["kill-acct"] == 0
    updated = as_root("api_token_update", token_name="billing", new_name="whmcs", acl="list-accts",
                      whitelist_ip="any")["data"]  # fmt: skip
    assert updated["name"] == "whmcs" and updated["acls"] == ["list-accts"] and "whitelist_ips" not in updated
    assert as_root.reason("api_token_update", token_name="whmcs") == (
        "The system failed to update the API token: Specify a new name, updated ACLs, or IPs."
    )
    details = as_root("api_token_get_details", token=made["token"])["data"]
    assert details["name"] == "whmcs"
    assert "data" not in as_root("api_token_get_details", token="hpat_nothing")
    as_root("api_token_revoke", token_name=["whmcs", "never-was"])
    assert "whmcs" not in as_root("api_token_list")["data"]["tokens"]
    assert as_root.reason("api_token_revoke") == (
        "The system failed to revoke the API token: Provide at least one “token_name” argument."
    )
    assert as_root.reason("api_token_create") == (
        "The system failed to create the API token: The parameter “token_name” is required."
    )


def test_a_whm_token_and_a_cpanel_token_of_one_user_live_apart(
    container: Container, whm_client: TestClient, client: TestClient
) -> None:
    reseller = make_reseller(container, "resel", frozenset({"list-accts", "manage-api-tokens"}))
    cpanel = make_token(container, reseller, "same")
    whm_token = make_whm_token(container, reseller, "same")
    assert client.get("/execute/Tokens/list", headers=auth("resel", cpanel.secret)).status_code == 200
    listed = client.get("/execute/Tokens/list", headers=auth("resel", cpanel.secret)).json()["data"]
    assert [t["name"] for t in listed] == ["same"]
    body = whm(whm_client.get("/json-api/api_token_list?api.version=1", headers=whm_auth("resel", whm_token.secret)))
    assert list(body["data"]["tokens"]) == ["same"]
    assert set(body["data"]["tokens"]["same"]["acls"]) == {"list-accts", "manage-api-tokens"}


def test_no_acl_means_all_of_the_owners_which_follow_the_owner(
    container: Container, whm_client: TestClient, root: Account
) -> None:
    make_reseller(container, "resel", frozenset({"list-accts"}))
    with container.uow(write=False) as uow:
        reseller = container.accounts(uow).get("resel")
    token = make_whm_token(container, reseller).secret
    headers = whm_auth("resel", token)
    whm(whm_client.get("/json-api/listaccts?api.version=1", headers=headers))
    with container.uow() as uow:
        container.accounts(uow).set_acls("resel", frozenset({"acct-summary"}))
        uow.commit()
    whm(whm_client.get("/json-api/listaccts?api.version=1", headers=headers), result=0)


def test_rotate_a_whm_token_with_a_grace_period(as_root: Whm, whm_client: TestClient, container: Container) -> None:
    old = as_root("api_token_create", token_name="billing", acl="list-accts")["data"]["token"]
    rotated = as_root("api_token_rotate", token_name="billing", grace_period="600")["data"]
    assert rotated["token"] != old and rotated["acls"] == ["list-accts"] and rotated["hp_rotating"] == 1
    for secret_text in (old, rotated["token"]):
        whm(whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("root", secret_text)))
    listed = as_root("api_token_list")["data"]["tokens"]["billing"]
    assert listed["hp_old_secret_valid_until"] == rotated["hp_old_secret_valid_until"]
    newest = as_root("api_token_rotate", token_name="billing", grace_period="0")["data"]["token"]
    unknown = whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("root", "hpat_nothing"))
    for dead in (old, rotated["token"]):
        refused = whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("root", dead))
        assert (refused.status_code, refused.content) == (unknown.status_code, unknown.content)
    whm(whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("root", newest)))
    assert as_root.reason("api_token_rotate", token_name="billing", grace_period="604801").startswith(
        "The system failed to rotate the API token: "
    )
    assert "does not exist" in as_root.reason("api_token_rotate", token_name="nothing")


def test_a_use_limited_whm_token(as_root: Whm, whm_client: TestClient) -> None:
    made = as_root("api_token_create", token_name="once", max_uses="1")["data"]
    headers = whm_auth("root", made["token"])
    whm(whm_client.get("/json-api/listaccts?api.version=1", headers=headers))
    refused = whm_client.get("/json-api/listaccts?api.version=1", headers=headers)
    unknown = whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("root", "hpat_nothing"))
    assert refused.status_code in (401, 403) and (refused.status_code, refused.content) == (
        unknown.status_code,
        unknown.content,
    )
    assert as_root("api_token_list")["data"]["tokens"]["once"]["hp_state"] == ["used 1 of 1"]
    assert as_root.reason("api_token_create", token_name="never", max_uses="0").startswith(
        "The system failed to create the API token: "
    )
