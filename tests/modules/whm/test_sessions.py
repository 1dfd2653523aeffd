"""create_user_session and its link, and uapi_cpanel through the same gate."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.factories import FakeClock, make_account, make_token
from tests.modules.whm.conftest import Whm


def follow(client: TestClient, url: str) -> tuple[int, str]:
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}")
    return response.status_code, response.text


def test_a_session_link_signs_in_once(as_root: Whm, alice: Account, client: TestClient, container: Container) -> None:
    data = as_root("create_user_session", user="alice", service="cpaneld", app="Email_Accounts")["data"]
    assert urlsplit(data["url"]).port == 2083 and data["cp_security_token"].startswith("/cpsess")
    assert data["service"] == "cpaneld" and "goto_uri=%2Femail%2Faccounts" in data["url"]
    status, page = follow(client, data["url"])
    assert status == 200 and "Signed in as <strong>alice</strong>" in page
    assert client.get("/security/tokens").status_code == 200  # the session is there
    client.cookies.clear()
    status, page = follow(client, data["url"])
    assert status == 400 and "not valid" in page
    with container.uow(write=False) as uow:
        used = uow.audit.query(AuditQuery(account_id=alice.id, actions=("whm:session:create", "whm:session:use")))
    assert {e.action.value for e in used} == {"whm:session:create", "whm:session:use"}


def test_an_expired_link_and_a_suspended_account(
    as_root: Whm, alice: Account, client: TestClient, clock: FakeClock
) -> None:
    url = as_root("create_user_session", user="alice", service="cpaneld")["data"]["url"]
    clock.advance(301)
    assert follow(client, url)[0] == 400
    url = as_root("create_user_session", user="alice", service="cpaneld")["data"]["url"]
    as_root("suspendacct", user="alice")
    assert follow(client, url)[0] == 400  # suspension ends the links already made
    reason = as_root.reason("create_user_session", user="alice", service="cpaneld")
    assert reason == "You cannot create a session for the user “alice” because they are currently suspended."
    reason = as_root.reason("create_user_session", user="ghost", service="cpaneld")
    assert reason == "You cannot create a session for the user “ghost” because they do not exist."


def test_a_whm_session_needs_a_reseller(as_root: Whm, alice: Account) -> None:
    reason = as_root.reason("create_user_session", user="alice", service="whostmgrd")
    assert reason == "You cannot create a session for the user “alice” because they are not a reseller."
    assert as_root("create_user_session", user="root", service="whostmgrd")["data"]["service"] == "whostmgrd"
    assert "permission" in as_root.reason("create_user_session", user="root", service="cpaneld")


def test_uapi_cpanel_calls_as_the_account(as_root: Whm, container: Container, alice: Account) -> None:
    make_token(container, alice, "t1")
    body = as_root("uapi_cpanel", **{"cpanel.user": "alice", "cpanel.module": "Tokens", "cpanel.function": "list"})
    assert body["data"]["uapi"]["status"] == 1 and [t["name"] for t in body["data"]["uapi"]["data"]] == ["t1"]
    failed = as_root("uapi_cpanel", **{"cpanel.user": "alice", "cpanel.module": "Tokens", "cpanel.function": "revoke"})
    assert failed["metadata"]["result"] == 1 and failed["data"]["uapi"]["status"] == 0  # as cPanel: result stays 1
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["apitokens"], [])
        uow.commit()
    denied = as_root("uapi_cpanel", **{"cpanel.user": "alice", "cpanel.module": "Tokens", "cpanel.function": "list"})
    assert "apitokens" in denied["data"]["uapi"]["errors"][0]  # the account's features apply
    make_account(container, "bob")
    assert "root" in as_root.reason("uapi_cpanel", **{"cpanel.user": "root", "cpanel.module": "Tokens",
                                                      "cpanel.function": "list"})  # fmt: skip
