"""WHM's account functions against a real database and homes: cPanel's parameters, fields and messages."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import PASSWORD, auth, make_account, make_token, uapi
from tests.modules.whm.conftest import Whm

NEW_PASSWORD = "Lantern-Orchard-Quarry-58"


def create(as_root: Whm, user: str, **extra: str) -> dict[str, Any]:
    return as_root("createacct", username=user, domain=f"{user}.test", password=PASSWORD, **extra)


def test_createacct_makes_the_account_on_its_package(as_root: Whm, container: Container) -> None:
    as_root("addpkg", name="bronze", quota="500", maxpop="2")
    body = create(as_root, "bob", plan="bronze", contactemail="bob@bob.test")
    assert body["metadata"]["reason"] == "Account Creation Ok" and "Creation Ok" in body["metadata"]["output"]["raw"]
    assert body["data"]["package"] == "bronze" and body["data"]["ip"]
    with container.uow(write=False) as uow:
        bob = container.accounts(uow).get("bob")
    assert bob.plan == "bronze" and bob.limits["MAXPOP"] == "2" and bob.owner == "root"
    assert container.homes.path_for("bob").is_dir()
    record = as_root("accountsummary", user="bob")["data"]["acct"][0]
    assert record["plan"] == "bronze" and record["disklimit"] == "500M" and record["email"] == "bob@bob.test"


def test_createacct_refuses_bad_input_and_changes_nothing(as_root: Whm, container: Container) -> None:
    assert "valid username" in as_root.reason("createacct", username="9bad", domain="x.test", password=PASSWORD)
    assert "package" in as_root.reason("createacct", username="carol", domain="c.test", password=PASSWORD, plan="nope")
    assert "at least 10" in as_root.reason("createacct", username="carol", domain="c.test", password="password1")
    with container.uow(write=False) as uow:
        assert container.accounts(uow).all() == []
    assert not container.homes.path_for("carol").exists()


def test_listaccts_search_is_an_unanchored_caseless_regex_exact_match_first(as_root: Whm) -> None:
    for user in ("bobby", "bob", "abob"):
        create(as_root, user)
    users = [a["user"] for a in as_root("listaccts", search="BOB", searchtype="user")["data"]["acct"]]
    assert users[0] == "bob" and set(users) == {"bob", "bobby", "abob"}
    assert [a["user"] for a in as_root("listaccts", search="^bob", searchtype="user")["data"]["acct"]] == [
        "bob",
        "bobby",
    ]
    assert len(as_root("listaccts", search="(", searchtype="user")["data"]["acct"]) == 3  # invalid: all
    none = as_root("listaccts", search="zzz")
    assert "data" not in none  # cPanel: zero matches are a success without data
    assert as_root.reason("listaccts", search="zzz", searchtype="user", searchmethod="exact") == "No accounts found."
    assert as_root.reason("listaccts", searchtype="colour") == "Unknown search type."
    wanted = as_root("listaccts", search="bob", want="plan")["data"]["acct"][0]
    assert set(wanted) == {"user", "domain", "plan"}


def test_suspension_stops_the_tokens_and_sign_in_at_once(
    as_root: Whm, client: TestClient, alice_token: IssuedToken
) -> None:
    as_root("suspendacct", user="alice", reason="unpaid")
    assert client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)).status_code == 401
    suspended = as_root("listsuspended")["data"]["account"]
    assert [(s["user"], s["reason"]) for s in suspended] == [("alice", "unpaid")]
    assert "currently suspended" in as_root.reason("passwd", user="alice", password=NEW_PASSWORD)
    as_root("unsuspendacct", user="alice")
    uapi(client.get("/execute/Tokens/list", headers=auth("alice", alice_token.secret)), status=1)
    assert as_root.reason("suspendacct", user="root") == "Root user may not be suspended."


def test_passwd_changepackage_modifyacct_removeacct(
    as_root: Whm, container: Container, alice_token: IssuedToken
) -> None:
    body = as_root("passwd", user="alice", password=NEW_PASSWORD)
    assert body["metadata"]["reason"] == "Password changed for user “alice”."
    assert as_root.reason("passwd", user="alice") == "No password supplied: “password” is a required argument."
    as_root("addpkg", name="silver", maxpop="9", featurelist="disabled")
    as_root("changepackage", user="alice", pkg="silver")
    assert as_root.reason("changepackage", user="alice", pkg="") == "The value of “pkg” may not be empty."
    with container.uow(write=False) as uow:
        alice = container.accounts(uow).get("alice")
    assert alice.plan == "silver" and alice.limits["MAXPOP"] == "9" and "popaccts" in alice.disabled_features
    as_root("modifyacct", user="alice", MAXPOP="3", contactemail="new@alice.test")
    with container.uow(write=False) as uow:
        alice = container.accounts(uow).get("alice")
    assert alice.limits["MAXPOP"] == "3" and alice.email == "new@alice.test"
    assert as_root("removeacct", user="alice")["metadata"]["reason"] == "alice account removed"
    assert not container.homes.path_for("alice").exists()
    assert "You do not have a user named" in as_root.reason("removeacct", username="alice")


def test_the_package_mailbox_limit_is_enforced_by_email_add_pop(
    as_root: Whm, client: TestClient, container: Container
) -> None:
    as_root("addpkg", name="tiny", maxpop="1")
    create(as_root, "dave", plan="tiny")
    with container.uow(write=False) as uow:
        account = container.accounts(uow).get("dave")
    headers = auth("dave", make_token(container, account, "mail").secret)
    added = client.post("/execute/Email/add_pop", data={"email": "one", "password": NEW_PASSWORD}, headers=headers)
    uapi(added, status=1)
    refused = uapi(
        client.post("/execute/Email/add_pop", data={"email": "two", "password": NEW_PASSWORD}, headers=headers),
        status=0,
    )
    assert "at most 1" in refused["errors"][0]


def test_packages_add_edit_get_kill(as_root: Whm) -> None:
    as_root("addpkg", name="gold", quota="1000", hasshell="1")
    assert "already exists" in as_root.reason("addpkg", name="gold")
    as_root("editpkg", name="gold", quota="unlimited")
    info = as_root("getpkginfo", pkg="gold")["data"]["pkg"]
    assert info["QUOTA"] is None and info["HASSHELL"] == 1
    create(as_root, "erin", plan="gold")
    assert "in use" in as_root.reason("killpkg", pkgname="gold")
    as_root("removeacct", user="erin")
    as_root("killpkg", pkgname="gold")
    assert as_root.reason("getpkginfo", pkg="gold") == "The package “gold” does not exist."
    assert as_root.reason("addpkg") == "No package supplied: “pkgname” or “name” is a required argument."


def test_domainuserdata_and_showbw(as_root: Whm, container: Container) -> None:
    make_account(container, "frank", domains=("frank.test",))
    data = as_root("domainuserdata", domain="frank.test")["data"]["userdata"]
    assert data["user"] == "frank" and data["documentroot"] == "/home/frank/public_html"
    rows = as_root("showbw")["data"]["acct"]
    assert [(r["user"], r["maindomain"]) for r in rows] == [("frank", "frank.test")]


def test_quota_bandwidth_and_domain_owner(as_root: Whm, container: Container, alice: Account) -> None:
    as_root("editquota", user="alice", quota="750")
    limits = as_root("limitbw", user="alice", bwlimit="2048")["data"]["bwlimits"][0]
    assert limits["bwlimit"] == 2048 * 1024 * 1024 and limits["unlimited"] == 0
    with container.uow(write=False) as uow:
        limits_now = container.accounts(uow).get("alice").limits
    assert (limits_now["QUOTA"], limits_now["BWLIMIT"]) == ("750", "2048")
    assert as_root("getdomainowner", domain="alice.test")["data"]["user"] == "alice"
    assert as_root("getdomainowner", domain="nobody.test")["data"]["user"] is None


def test_a_resellers_nameservers_are_its_new_accounts(as_root: Whm, container: Container) -> None:
    make_account(container, "resel")
    as_root("setupreseller", user="resel")
    as_root("setresellernameservers", user="resel", nameservers="ns1.resel.test,ns2.resel.test")
    made = as_root("createacct", username="cust", domain="cust.test", password=PASSWORD, owner="resel")["data"]
    assert (made["nameserver"], made["nameserver2"], made["nameserver3"]) == ("ns1.resel.test", "ns2.resel.test", None)
    with container.uow(write=False) as uow:
        zone = uow.zones.get("cust.test")
    assert zone is not None
    assert sorted(
        line.record.fields[0] for line in zone.lines() if line.kind == "record" and line.record.type == "NS"
    ) == [
        "ns1.resel.test.",
        "ns2.resel.test.",
    ]
    assert zone.soa.record.fields[0] == "ns1.resel.test."  # the SOA's primary nameserver too
