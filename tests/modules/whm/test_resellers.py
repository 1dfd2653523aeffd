"""Resellers: root makes them, sets their privileges and limits; a reseller creates and reaches its own accounts."""

from __future__ import annotations

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import PASSWORD, make_account, make_whm_token
from tests.modules.whm.conftest import Whm


def reseller_caller(container: Container, whm_client: TestClient) -> Whm:
    with container.uow(write=False) as uow:
        reseller = container.accounts(uow).get("resel")
    return Whm(whm_client, "resel", make_whm_token(container, reseller, "own").secret)


def test_a_resellers_life(as_root: Whm, container: Container, whm_client: TestClient, alice: Account) -> None:
    make_account(container, "resel", domains=("resel.test",))
    as_root("setupreseller", user="resel")
    assert as_root("listresellers")["data"]["reseller"] == ["resel"]
    acls = as_root("setacls", reseller="resel", **{"acl-create-acct": "1", "acl-list-accts": "1",
                                                    "acl-suspend-acct": "1", "acl-add-pkg": "1",
                                                    "acl-list-pkgs": "1"})["data"]["acl"]  # fmt: skip
    assert acls == ["add-pkg", "create-acct", "list-accts", "list-pkgs", "suspend-acct"]
    as_root("setresellerlimits", user="resel", enable_account_limit="1", account_limit="1")
    resel = reseller_caller(container, whm_client)
    assert resel("addpkg", name="small")["data"]["pkg"] == "resel_small"
    resel("createacct", username="cust", domain="cust.test", password=PASSWORD, plan="small")
    assert "at most 1" in resel.reason("createacct", username="cust2", domain="cust2.test", password=PASSWORD)
    assert [a["user"] for a in resel("listaccts")["data"]["acct"]] == ["cust"]
    assert resel("listaccts")["data"]["acct"][0]["owner"] == "resel"
    stats = as_root("resellerstats", user="resel")["data"]["reseller"]
    assert [a["user"] for a in stats["acct"]] == ["cust"]
    privileges = resel("myprivs")["data"]["privileges"][0]
    assert privileges["all"] == 0 and privileges["create-acct"] == 1 and privileges["kill-acct"] == 0
    as_root("suspendreseller", user="resel", reason="audit")
    with container.uow(write=False) as uow:
        assert not container.accounts(uow).get("cust").is_active
    as_root("unsuspendreseller", user="resel")
    as_root("terminatereseller", user="resel")
    with container.uow(write=False) as uow:
        assert [a.username for a in container.accounts(uow).all()] == ["alice"]


def test_resellers_functions_are_roots_only(as_root: Whm, container: Container, whm_client: TestClient) -> None:
    make_account(container, "resel")
    as_root("setupreseller", user="resel")
    as_root("setacls", reseller="resel", **{"acl-list-accts": "1"})
    resel = reseller_caller(container, whm_client)
    for function in ("setupreseller", "setacls", "listresellers", "terminatereseller"):
        assert "“all”" in resel.reason(function, user="resel", reseller="resel"), function
    assert as_root.reason("setacls") == "No reseller specified."
    as_root("unsetupreseller", user="resel")
    assert whm_client.get("/json-api/listaccts?api.version=1", headers=resel.headers).status_code == 403
