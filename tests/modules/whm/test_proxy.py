"""WHM's `cpanel` proxy: an account's API 2 or UAPI function called as WHMCS, gufy and pycpanel call it, answered in
that API's shape (never WHM's envelope), acting as the account and recorded on its trail in the caller's name."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.factories import make_account
from tests.modules.whm.conftest import Whm


def proxy(client: TestClient, caller: Whm, method: str = "GET", **args: str) -> dict[str, Any]:
    response = client.request(method, "/json-api/cpanel", params=args, headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def bob(container: Container) -> Account:
    return make_account(container, "bob", domains=("bob.test",))


def test_api2_answers_in_api2s_shape(whm_client: TestClient, as_root: Whm, bob: Account) -> None:
    body = proxy(
        whm_client,
        as_root,
        **{"api.version": "1", "cpanel_jsonapi_user": "bob", "cpanel_jsonapi_apiversion": "2",
           "cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"},
    )  # fmt: skip
    result = body["cpanelresult"]
    assert set(body) == {"cpanelresult"} and result["apiversion"] == 2 and result["event"] == {"result": 1}
    assert (result["module"], result["func"]) == ("ZoneEdit", "fetchzones")
    assert list(result["data"][0]["zones"]) == ["bob.test"]


def test_uapi_answers_with_its_result_object(
    whm_client: TestClient, as_root: Whm, bob: Account, container: Container
) -> None:
    # gufy's misspelt cpanel_jsonapi_version, and `user` for the account.
    body = proxy(
        whm_client,
        as_root,
        "POST",
        **{"user": "bob", "cpanel_jsonapi_version": "3", "cpanel_jsonapi_module": "Tokens",
           "cpanel_jsonapi_func": "create_full_access", "name": "through-whm"},
    )  # fmt: skip
    assert (body["apiversion"], body["module"], body["func"]) == (3, "Tokens", "create_full_access")
    assert body["result"]["status"] == 1 and body["result"]["data"]["token"].startswith("hpat_")
    with container.uow(write=False) as uow:
        trail = uow.audit.query(AuditQuery(username="bob", actions=("account:token:create",)))
    assert trail and trail[0].actor == "whm:root"
    failed = proxy(
        whm_client,
        as_root,
        **{"cpanel_jsonapi_user": "bob", "cpanel_jsonapi_apiversion": "3", "cpanel_jsonapi_module": "Tokens",
           "cpanel_jsonapi_func": "no_such_function"},
    )  # fmt: skip
    assert failed["result"]["status"] == 0 and failed["result"]["errors"]


def test_api2_failures_as_api2_reports_them(whm_client: TestClient, as_root: Whm, bob: Account) -> None:
    call = {"cpanel_jsonapi_user": "bob", "cpanel_jsonapi_module": "ZoneEdit"}
    # ZoneEdit's own failure: in `data` with `newserial` null (what acme.sh reads), `event.result` still 1 (cPanel).
    body = proxy(whm_client, as_root, **call, cpanel_jsonapi_func="add_zone_record", domain="bob.test", type="TXT")
    result = body["cpanelresult"]
    assert result["data"][0]["result"]["status"] == 0 and result["data"][0]["result"]["newserial"] is None
    assert result["event"] == {"result": 1}
    # A function API 2 does not have: the framework's failure.
    unknown = proxy(whm_client, as_root, **call, cpanel_jsonapi_func="no_such_function")["cpanelresult"]
    assert unknown["event"]["result"] == 0 and "no_such_function" in unknown["error"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"}, "User parameter is invalid"),
        ({"cpanel_jsonapi_user": "nobody", "cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"},
         "You do not have a user named"),
        ({"cpanel_jsonapi_user": "bob", "cpanel_jsonapi_apiversion": "1", "cpanel_jsonapi_module": "Email",
          "cpanel_jsonapi_func": "listpops"}, "not API 1"),
        ({"cpanel_jsonapi_user": "root", "cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"},
         "Access Denied to root"),
    ],
)  # fmt: skip
def test_the_proxys_own_failures_take_its_shape(
    whm_client: TestClient, as_root: Whm, bob: Account, args: dict[str, str], expected: str
) -> None:
    result = proxy(whm_client, as_root, **args)["cpanelresult"]
    assert result["data"]["result"] == "0" and expected in result["error"] and result["type"] == "text"
    assert result["data"]["reason"] == result["error"] and result["event"]["result"] == 0
    if "cpanel_jsonapi_apiversion" not in args:  # the same failure, asked for UAPI: at the top, not in cpanelresult
        uapi = proxy(whm_client, as_root, **{**args, "cpanel_jsonapi_apiversion": "3"})
        assert uapi["apiversion"] == 3 and uapi["data"]["result"] == "0" and expected in uapi["error"]
