"""WHM's pages: who may sign in, cookies of their own, each page's ACL, and forms that answer beside the field."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_whm_app
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import PASSWORD, Browser, make_reseller


@pytest.fixture
def admin(whm_client: TestClient) -> Browser:
    return Browser(whm_client)


def test_root_signs_in_with_cookies_of_whms_own(admin: Browser, client: TestClient) -> None:
    page = admin.sign_in("root")
    assert page.status_code == 200 and page.url.path == "/accounts"
    assert "__Host-hostpanel-whm" in admin.client.cookies and "__Host-hostpanel" not in admin.client.cookies
    client.cookies.set("__Host-hostpanel", admin.client.cookies["__Host-hostpanel-whm"])
    assert client.get("/security/tokens").url.path == "/login"  # a WHM session is nothing on the account port


def test_only_root_and_resellers_sign_in(admin: Browser, alice: Account, second_browser: Browser) -> None:
    page = admin.sign_in("alice")
    assert page.status_code == 400 and "The username or password is incorrect." in page.text
    assert second_browser.sign_in("root").url.path == "/login"  # and root never signs in to an account's panel


def test_each_page_needs_its_acl(container: Container, root: Account) -> None:
    make_reseller(container, "resel", frozenset({"list-accts"}))
    with TestClient(create_whm_app(container), base_url="https://testserver") as client:
        browser = Browser(client)
        browser.sign_in("resel")
        accounts = browser.get("/accounts")
        assert accounts.status_code == 200 and 'href="/resellers"' not in accounts.text
        assert browser.get("/resellers").status_code == 403
        assert browser.get("/accounts/new").status_code == 403


def test_creating_an_account_answers_beside_the_field(admin: Browser, container: Container) -> None:
    admin.sign_in("root")
    admin.get("/accounts/new")
    page = admin.post(
        "/accounts/new", {"username": "9bad", "domain": "x.test", "password": PASSWORD, "plan": "default"}
    )
    assert page.status_code == 400 and 'id="username-error"' in page.text
    page = admin.post("/accounts/new", {"username": "carol", "domain": "carol.test", "password": PASSWORD,
                                        "plan": "default"})  # fmt: skip
    assert page.url.path == "/accounts" and "The account was created." in page.text
    with container.uow(write=False) as uow:
        assert container.accounts(uow).get("carol").owner == "root"
