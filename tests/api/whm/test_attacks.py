"""WHM under attack: resellers reaching past their accounts, limited tokens reaching past their ACLs (directly, by
minting a wider token, or through uapi_cpanel). Every attempt is refused in the envelope and recorded."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.factories import PASSWORD, make_account, make_reseller, make_token, make_whm_token, whm, whm_auth

CPANEL = {"cpanel.module": "Tokens", "cpanel.function": "list"}


def call(client: TestClient, caller: str, token: str, function: str, **args: str) -> dict[str, Any]:
    return whm(client.post(f"/json-api/{function}?api.version=1", data=args, headers=whm_auth(caller, token)), None)


def denials(container: Container, account: Account) -> int:
    with container.uow(write=False) as uow:
        return len(uow.audit.query(AuditQuery(account_id=account.id, actions=("account:permission:denied",))))


@pytest.fixture
def two_resellers(container: Container, root: Account) -> dict[str, Any]:
    every = frozenset({"list-accts", "suspend-acct", "kill-acct", "passwd", "create-user-session", "cpanel-api",
                       "acct-summary", "upgrade-account", "edit-account"})  # fmt: skip
    one, two = make_reseller(container, "resone", every), make_reseller(container, "restwo", every)
    for owner, customer in ((one, "custone"), (two, "custtwo")):
        make_account(container, customer)
        with container.uow() as uow:
            container.accounts(uow).modify(customer, owner=owner.username)
            uow.commit()
    make_account(container, "rootcust")
    return {"one": one, "token": make_whm_token(container, one, "mine").secret}


@pytest.mark.parametrize(
    ("function", "args"),
    [
        ("suspendacct", {"user": "{target}"}),
        ("unsuspendacct", {"user": "{target}"}),
        ("removeacct", {"user": "{target}"}),
        ("passwd", {"user": "{target}", "password": "Lantern-Orchard-Quarry-58"}),
        ("changepackage", {"user": "{target}", "pkg": "default"}),
        ("modifyacct", {"user": "{target}", "MAXPOP": "9"}),
        ("create_user_session", {"user": "{target}", "service": "cpaneld"}),
        ("uapi_cpanel", {"cpanel.user": "{target}", **CPANEL}),
        ("hp_token_revoke_all", {"user": "{target}"}),
    ],
)
@pytest.mark.parametrize("target", ["custtwo", "rootcust", "restwo", "root"])
def test_a_reseller_never_reaches_another_resellers_or_roots_accounts(
    whm_client: TestClient,
    container: Container,
    two_resellers: dict[str, Any],
    function: str,
    args: dict[str, str],
    target: str,
) -> None:
    before = denials(container, two_resellers["one"])
    wanted = {key: value.format(target=target) for key, value in args.items()}
    body = call(whm_client, "resone", two_resellers["token"], function, **wanted)
    assert body["metadata"]["result"] == 0 and not body.get("data"), body
    assert denials(container, two_resellers["one"]) > before or target == "root"
    with container.uow(write=False) as uow:
        account = uow.accounts.get_by_username(target)
    assert account is not None and account.is_active  # nothing happened to it


def test_a_reseller_sees_only_its_own(whm_client: TestClient, two_resellers: dict[str, Any]) -> None:
    listed = call(whm_client, "resone", two_resellers["token"], "listaccts")["data"]["acct"]
    assert [a["user"] for a in listed] == ["custone"]
    tokens = call(whm_client, "resone", two_resellers["token"], "hp_token_list")
    assert all(t["user"] == "custone" for t in tokens["data"]["tokens"])
    assert call(whm_client, "resone", two_resellers["token"], "accountsummary", user="custtwo")["metadata"][
        "reason"
    ] == ("Account does not exist.")


def test_a_limited_token_stays_within_its_acls(whm_client: TestClient, container: Container, root: Account) -> None:
    lister = make_whm_token(container, root, "lister", frozenset({"list-accts"})).secret
    make_account(container, "alice")
    before = denials(container, root)
    body = call(whm_client, "root", lister, "createacct", username="sneaky", domain="s.test", password=PASSWORD)
    assert body["metadata"]["result"] == 0 and "create-acct" in body["metadata"]["reason"]
    for acl in ("all", "create-acct"):
        minted = call(whm_client, "root", lister, "api_token_create", token_name="wider", acl=acl)
        assert minted["metadata"]["result"] == 0 and "Invalid or unauthorized ACL" in minted["metadata"]["reason"]
    unlisted = call(whm_client, "root", lister, "api_token_create", token_name="wider")
    assert unlisted["metadata"]["result"] == 0  # no list means all of root's: more than it holds
    narrower = call(whm_client, "root", lister, "api_token_create", token_name="same", acl="list-accts")
    assert narrower["metadata"]["result"] == 1
    assert denials(container, root) >= before + 4
    with container.uow(write=False) as uow:
        assert uow.accounts.get_by_username("sneaky") is None


def test_a_limited_root_token_reaches_only_roots_own_accounts(
    whm_client: TestClient, container: Container, two_resellers: dict[str, Any], root: Account
) -> None:
    limited = make_whm_token(container, root, "suspender", frozenset({"suspend-acct"})).secret
    assert call(whm_client, "root", limited, "suspendacct", user="custone")["metadata"]["result"] == 0
    assert call(whm_client, "root", limited, "suspendacct", user="rootcust")["metadata"]["result"] == 1


def test_uapi_cpanel_is_no_way_around_the_acls(
    whm_client: TestClient, container: Container, two_resellers: dict[str, Any], root: Account
) -> None:
    lister = make_whm_token(container, root, "lister", frozenset({"list-accts"})).secret
    body = call(whm_client, "root", lister, "uapi_cpanel", **{"cpanel.user": "rootcust", **CPANEL})
    assert body["metadata"]["result"] == 0 and "cpanel-api" in body["metadata"]["reason"]
    token = two_resellers["token"]
    body = call(whm_client, "resone", token, "uapi_cpanel", **{"cpanel.user": "custtwo", **CPANEL})
    assert body["metadata"]["result"] == 0
    make_token(container, two_resellers["one"], "own-cpanel")
    body = call(whm_client, "resone", token, "uapi_cpanel", **{"cpanel.user": "custone", "cpanel.module": "WHM",
                                                                "cpanel.function": "createacct"})  # fmt: skip
    assert body["data"]["uapi"]["status"] == 0  # WHM's functions are not UAPI's: another namespace
    own = {"cpanel.user": "custone", "cpanel.module": "Tokens", "cpanel.function": "create_full_access", "name": "x"}
    made = call(whm_client, "resone", token, "uapi_cpanel", **own)
    assert made["data"]["uapi"]["status"] == 1  # its own customer: allowed, as in cPanel
    with container.uow(write=False) as uow:
        trail = uow.audit.query(AuditQuery(username="custone", actions=("account:token:create",)))
    assert trail and trail[0].actor == "whm:resone"


def test_a_suspended_resellers_tokens_and_password_stop(
    whm_client: TestClient, container: Container, two_resellers: dict[str, Any], root: Account
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_suspended("resone", True)
        uow.commit()
    response = whm_client.get("/json-api/listaccts?api.version=1", headers=whm_auth("resone", two_resellers["token"]))
    assert response.status_code == 403
