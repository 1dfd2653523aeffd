"""Subdomains, addon and parked domains through UAPI and cPanel API 2, against a real nginx and PowerDNS: served
(and in the zone) when the call returns, gone when removed, bad input refused with nothing changed, and the
`domains` scope and the account's features enforced by the gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dns.rcode
import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Calls, ask, auth, fetch, make_account, make_token, served

pytestmark = pytest.mark.usefixtures("nameserver", "webserver")


@pytest.fixture
def sub(client: TestClient, alice_token: IssuedToken) -> Calls:
    return Calls(client, alice_token.secret, "SubDomain")


@pytest.fixture
def info(client: TestClient, alice_token: IssuedToken) -> Calls:
    return Calls(client, alice_token.secret, "DomainInfo")


def api2(client: TestClient, token: IssuedToken, module: str, function: str, **args: str) -> dict[str, Any]:
    params = {"cpanel_jsonapi_module": module, "cpanel_jsonapi_func": function, "cpanel_jsonapi_apiversion": "2"}
    response = client.get("/json-api/cpanel", params={**params, **args}, headers=auth("alice", token.secret))
    assert response.status_code == 200
    result: dict[str, Any] = response.json()["cpanelresult"]
    return result


def page(home: Path, folder: str, text: str) -> None:
    (home / folder).mkdir(parents=True, exist_ok=True)
    (home / folder / "index.html").write_text(text)


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


def test_main_domain_is_served_from_public_html(settings: Settings, home: Path, container: Container) -> None:
    page(home, "public_html", "alice's page")
    container.nginx_sites.publish()
    assert fetch(settings, "alice.test") == (200, "alice's page")
    assert fetch(settings, "www.alice.test") == (200, "alice's page")


def test_a_new_subdomain_is_served_and_in_the_zone_when_the_call_returns(
    settings: Settings, home: Path, sub: Calls, info: Calls
) -> None:
    page(home, "public_html/blog", "the blog")
    assert sub.post("addsubdomain", domain="blog", rootdomain="alice.test", dir="public_html/blog")["data"] is None
    assert fetch(settings, "blog.alice.test") == (200, "the blog")  # no wait: the call returned after nginx took it
    assert served(settings, "blog.alice.test", "A") == ["127.0.0.1"]
    listed = info.get("list_domains")["data"]
    assert listed == {
        "main_domain": "alice.test",
        "addon_domains": [],
        "parked_domains": [],
        "sub_domains": ["blog.alice.test"],
    }
    data = info.get("single_domain_data", domain="blog.alice.test")["data"]
    assert data["documentroot"] == f"{home}/public_html/blog" and data["type"] == "sub_domain"
    assert data["serveralias"] == "www.blog.alice.test" and data["homedir"] == str(home)


def test_the_default_document_root_is_made(settings: Settings, home: Path, sub: Calls) -> None:
    sub.post("addsubdomain", domain="shop", rootdomain="alice.test")
    assert (home / "public_html" / "shop").is_dir()
    (home / "public_html" / "shop" / "index.html").write_text("shop")
    assert fetch(settings, "shop.alice.test") == (200, "shop")


def test_api2_adds_and_removes_a_subdomain(
    settings: Settings, client: TestClient, alice_token: IssuedToken, home: Path
) -> None:
    page(home, "public_html/docs", "docs")
    added = api2(client, alice_token, "SubDomain", "addsubdomain", domain="docs", rootdomain="alice.test")
    assert added["data"] == [{"result": 1, "reason": "The subdomain “docs.alice.test” has been added."}]
    assert fetch(settings, "docs.alice.test") == (200, "docs")
    removed = api2(client, alice_token, "SubDomain", "delsubdomain", domain="docs_alice.test")
    assert removed["data"][0]["result"] == 1
    assert fetch(settings, "docs.alice.test")[0] == 404  # the default server: the site is gone at once
    assert served(settings, "docs.alice.test", "A") == []
    assert (home / "public_html/docs/index.html").exists()  # the files stay, as in cPanel


def test_addon_and_parked_domains_get_their_zones_and_are_served(
    settings: Settings, client: TestClient, alice_token: IssuedToken, home: Path, info: Calls
) -> None:
    page(home, "public_html", "main")
    page(home, "shop-files", "shop")
    added = api2(client, alice_token, "AddonDomain", "addaddondomain", newdomain="shop.test", dir="shop-files")
    assert added["data"][0]["result"] == 1, added
    parked = api2(client, alice_token, "Park", "park", domain="alias.test")
    assert parked["data"][0]["result"] == 1, parked
    assert fetch(settings, "shop.test") == (200, "shop")
    assert fetch(settings, "alias.test") == (200, "main")
    assert served(settings, "shop.test", "A") == ["127.0.0.1"] and served(settings, "alias.test", "A") == ["127.0.0.1"]
    listed = info.get("list_domains")["data"]
    assert listed["addon_domains"] == ["shop.test"] and listed["parked_domains"] == ["alias.test"]
    api2(client, alice_token, "AddonDomain", "deladdondomain", domain="shop.test")
    api2(client, alice_token, "Park", "unpark", domain="alias.test")
    assert fetch(settings, "shop.test")[0] == 404 and fetch(settings, "alias.test")[0] == 404
    assert ask(settings, "shop.test", "SOA").rcode() == dns.rcode.REFUSED  # the zone is gone
    assert info.get("list_domains")["data"]["addon_domains"] == []


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"domain": "blog", "rootdomain": "bob.test"}, "is not a main domain or addon domain or parked domain"),
        ({"domain": "bad_name!", "rootdomain": "alice.test"}, "is not a valid subdomain name"),
        ({"domain": "www", "rootdomain": "alice.test"}, "may not be named “www”"),
        ({"domain": "blog", "rootdomain": "alice.test", "dir": "../bob/public_html"}, "outside your home"),
        ({"domain": "blog", "rootdomain": "alice.test", "dir": "/../../etc"}, "outside your home"),
        ({"domain": "blog", "rootdomain": "alice.test", "dir": "~"}, "cannot be the home directory"),
        ({"domain": "blog", "rootdomain": "alice.test", "dir": "public_html/a b"}, "only letters, digits"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    settings: Settings, container: Container, sub: Calls, info: Calls, args: dict[str, str], error: str
) -> None:
    make_account(container, "bob", domains=("bob.test",))
    before = info.get("domains_data")["data"]
    assert error in sub.error("addsubdomain", **args)
    assert info.get("domains_data")["data"] == before
    assert fetch(settings, "blog.alice.test")[0] == 404 and served(settings, "blog.alice.test", "A") == []
    assert fetch(settings, "blog.bob.test")[0] == 404


def test_a_name_served_already_is_refused(sub: Calls, info: Calls) -> None:
    sub.post("addsubdomain", domain="blog", rootdomain="alice.test")
    before = info.get("domains_data")["data"]
    assert "already exists" in sub.error("addsubdomain", domain="blog", rootdomain="alice.test")
    assert "already exists" in sub.error("addsubdomain", domain="blog.alice.test", rootdomain="alice.test")
    assert info.get("domains_data")["data"] == before


def test_the_scope_and_the_feature_are_enforced(
    settings: Settings, container: Container, client: TestClient, alice: Account
) -> None:
    reader = make_token(container, alice, "reader", Permissions.of([Scope.parse("dns:read")]))
    writer = make_token(container, alice, "writer", Permissions.of([Scope.parse("domains:write")]))
    assert Calls(client, reader.secret, "DomainInfo").get("list_domains")["data"]["main_domain"] == "alice.test"
    assert "domains:write" in Calls(client, reader.secret, "SubDomain").error(
        "addsubdomain", domain="blog", rootdomain="alice.test"
    )
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", disable=["subdomains"], enable=[])
        uow.commit()
    assert "subdomains" in Calls(client, writer.secret, "SubDomain").error(
        "addsubdomain", domain="blog", rootdomain="alice.test"
    )
    assert fetch(settings, "blog.alice.test")[0] == 404
