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
                       "acct-summary", "upgrade-account", "edit-account", "edit-dns"})  # fmt: skip
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


# The zones of accounts, through parse_dns_zone and mass_edit_dns_zone.

ACME = '{"dname":"_acme-challenge","ttl":300,"record_type":"TXT","data":["stolen"]}'


@pytest.fixture
def zones(container: Container, two_resellers: dict[str, Any]) -> dict[str, Any]:
    """Each customer of the two resellers, and root's, with a zone of its own."""
    with container.uow() as uow:
        accounts = container.accounts(uow)
        for customer in ("custone", "custtwo", "rootcust"):
            accounts.add_domain(customer, f"{customer}.test")
        uow.commit()
    return two_resellers


def zone_rows(container: Container, zone: str) -> list[str]:
    with container.uow(write=False) as uow:
        found = uow.zones.get(zone)
    assert found is not None
    return [f"{line.index} {line.text}" for line in found.lines()]


@pytest.mark.parametrize("zone", ["custtwo.test", "rootcust.test", "nothere.test"])
def test_a_reseller_never_reads_or_edits_a_zone_not_of_its_accounts(
    whm_client: TestClient, container: Container, zones: dict[str, Any], zone: str
) -> None:
    token, before = zones["token"], denials(container, zones["one"])
    rows = zone_rows(container, zone) if zone != "nothere.test" else []
    read = call(whm_client, "resone", token, "parse_dns_zone", zone=zone)
    edit = call(whm_client, "resone", token, "mass_edit_dns_zone", zone=zone, serial="1", add=ACME)
    for body in (read, edit):
        assert body["metadata"]["result"] == 0 and "data" not in body
        # Another's zone and a zone that does not exist are refused alike: nothing tells them apart.
        assert body["metadata"]["reason"].endswith(f"You do not control a DNS zone named “{zone}”.")
    assert denials(container, zones["one"]) == before + 2
    if rows:
        assert zone_rows(container, zone) == rows


def test_dns_functions_need_their_acl_and_a_limited_root_token_keeps_to_roots_accounts(
    whm_client: TestClient, container: Container, zones: dict[str, Any], root: Account
) -> None:
    lister = make_whm_token(container, root, "lister", frozenset({"list-accts"})).secret
    body = call(whm_client, "root", lister, "parse_dns_zone", zone="rootcust.test")
    assert body["metadata"]["result"] == 0 and "edit-dns" in body["metadata"]["reason"]
    editor = make_whm_token(container, root, "dns", frozenset({"edit-dns"})).secret
    assert call(whm_client, "root", editor, "parse_dns_zone", zone="rootcust.test")["metadata"]["result"] == 1
    rows = zone_rows(container, "custone.test")
    body = call(whm_client, "root", editor, "mass_edit_dns_zone", zone="custone.test", serial="1", add=ACME)
    assert body["metadata"]["result"] == 0 and zone_rows(container, "custone.test") == rows
    # A reseller's token narrowed to other ACLs keeps none of its DNS rights.
    narrowed = make_whm_token(container, zones["one"], "narrow", frozenset({"list-accts"})).secret
    body = call(whm_client, "resone", narrowed, "parse_dns_zone", zone="custone.test")
    assert body["metadata"]["result"] == 0 and "manage-dns-records" in body["metadata"]["reason"]


# The cpanel proxy: API 2 and UAPI as an account, never beyond the caller's reach or its ACLs.


def proxied(client: TestClient, caller: str, token: str, user: str, version: str = "3", **args: str) -> dict[str, Any]:
    form = {"cpanel_jsonapi_user": user, "cpanel_jsonapi_apiversion": version, **args}
    response = client.post("/json-api/cpanel?api.version=1", data=form, headers=whm_auth(caller, token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def refused(body: dict[str, Any]) -> bool:
    """The proxy's own failure, in the proxied API's shape: nothing was called."""
    found = body.get("cpanelresult", body)
    return found.get("data") == {"reason": found.get("error"), "result": "0"} and bool(found.get("error"))


MINT = {"cpanel_jsonapi_module": "Tokens", "cpanel_jsonapi_func": "create_full_access", "name": "backdoor"}


@pytest.mark.parametrize("target", ["custtwo", "rootcust", "restwo", "root", "nobody"])
@pytest.mark.parametrize("version", ["2", "3"])
def test_a_reseller_never_reaches_another_account_through_the_cpanel_proxy(
    whm_client: TestClient, container: Container, zones: dict[str, Any], target: str, version: str
) -> None:
    before = denials(container, zones["one"])
    body = proxied(whm_client, "resone", zones["token"], target, version, **MINT)
    assert refused(body), body
    assert ("cpanelresult" in body) == (version == "2")
    assert denials(container, zones["one"]) > before
    with container.uow(write=False) as uow:
        account = uow.accounts.get_by_username(target)
        assert account is None or uow.tokens.get_by_name(account.id, "backdoor") is None


def test_the_cpanel_proxy_is_no_way_around_the_acls(
    whm_client: TestClient, container: Container, zones: dict[str, Any], root: Account
) -> None:
    lister = make_whm_token(container, root, "lister", frozenset({"list-accts"})).secret
    assert refused(proxied(whm_client, "root", lister, "rootcust", **MINT))  # no cpanel-api
    editor = make_whm_token(container, root, "dns", frozenset({"edit-dns"})).secret
    fetch = {"cpanel_jsonapi_module": "ZoneEdit", "cpanel_jsonapi_func": "fetchzones"}
    assert refused(proxied(whm_client, "root", editor, "rootcust", "2", **fetch))  # edit-dns is not cpanel-api
    token = zones["token"]  # resone's: cpanel-api, but not create-acct
    for version in ("3", "2", "whm1", "1"):  # WHM's own functions are in no namespace the proxy reaches
        whm_function = {"cpanel_jsonapi_module": "WHM", "cpanel_jsonapi_func": "createacct"}
        body = proxied(whm_client, "resone", token, "custone", version, **whm_function, username="sneaky")
        found = body.get("cpanelresult", body.get("result", body))
        assert found.get("status", found.get("event", {}).get("result", 0)) in (0, "0") or refused(body), body
    with container.uow(write=False) as uow:
        assert uow.accounts.get_by_username("sneaky") is None
    made = proxied(whm_client, "resone", token, "custone", **MINT)
    assert made["result"]["status"] == 1  # its own customer: allowed, as in cPanel
