"""Security → API Tokens: create (secret once), review in pages, rename, revoke, delete expired."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import insert

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.permissions import Access, Permissions, Scope, ScopeModule
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.importer import StoreFile, TokenImport
from hostpanel.storage.tables import api_tokens
from tests.factories import (
    Browser,
    FakeClock,
    auth,
    cpanel_entry,
    cpanel_token,
    flush_usage,
    make_account,
    make_token,
)

NAMES = re.compile(r'<th scope="row" class="name"><a href="[^"]*">([^<]+)</a></th>')


def test_create_a_scoped_expiring_token_and_see_its_secret_once(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    browser.sign_in()
    form = browser.get("/security/tokens/new")
    assert 'name="scope-tokens"' in form.text and 'value="7"' in form.text
    page = browser.post(
        "/security/tokens/new", {"name": "ci-deploy", "expiry": "7", "access": "scopes", "scope-tokens": "read"}
    )
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    shown = secret.PATTERN.search(page.text)
    assert shown and "You will not see it again" in page.text
    headers = auth("alice", shown.group(0))
    assert browser.client.get("/execute/Tokens/list", headers=headers).json()["status"] == 1
    assert browser.client.get("/security/tokens", headers=headers).status_code == 403  # tokens open no web page
    with container.uow(write=False) as uow:
        token = uow.tokens.get_by_name(alice.id, "ci-deploy")
    assert token is not None and token.expires_at == int(clock.now()) + 7 * 86400
    assert token.permissions == Permissions.of([Scope(ScopeModule.TOKENS, Access.READ)])
    table = browser.get("/security/tokens")
    assert "ci-deploy" in table.text and shown.group(0) not in table.text and "Expires soon" in table.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"name": "bad name!", "expiry": "never", "access": "full"}, "is not a valid API token name"),
        ({"name": "taken", "expiry": "never", "access": "full"}, "already exists"),
        ({"name": "ok", "expiry": "date", "expiry_date": "2001-01-01", "access": "full"}, "must be in the future"),
        ({"name": "ok", "expiry": "date", "expiry_date": "tomorrow", "access": "full"}, "Choose the day"),
        ({"name": "ok", "expiry": "30", "access": "scopes"}, "at least one permission"),
    ],
)
def test_form_errors_are_shown_beside_their_fields(
    browser: Browser, container: Container, alice: Account, form: dict[str, str], message: str
) -> None:
    make_token(container, alice, "taken")
    browser.sign_in()
    page = browser.post("/security/tokens/new", form)
    assert page.status_code == 400 and message in page.text, message
    assert 'aria-invalid="true"' in page.text
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "ok") is None


def test_a_date_expiry_lasts_to_the_end_of_that_day_utc(browser: Browser, container: Container, alice: Account) -> None:
    browser.sign_in()
    browser.post(
        "/security/tokens/new", {"name": "dated", "expiry": "date", "expiry_date": "2027-03-04", "access": "full"}
    )
    with container.uow(write=False) as uow:
        token = uow.tokens.get_by_name(alice.id, "dated")
    assert token is not None and token.expires_at == 1804204799  # 2027-03-04T23:59:59Z


def test_thousands_of_tokens_are_paged_and_sorted_by_the_database(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    now = int(clock.now())
    rows = [
        {
            "account_id": alice.id,
            "name": f"t{n:04d}",
            "key": f"{n:012d}",
            "digest": bytes(32),
            "pepper_id": 1,
            "full_access": True,
            "scopes": "",
            "created_at": now - n,
            "expires_at": None if n % 3 else now + n,
            "last_used_at": None,
            "last_used_ip": None,
        }
        for n in range(2500)
    ]
    with container.uow() as uow:
        uow.connection.execute(insert(api_tokens), rows)  # type: ignore[attr-defined]
        uow.commit()
    browser.sign_in()
    first = browser.get("/security/tokens")
    assert NAMES.findall(first.text) == [f"t{n:04d}" for n in range(25)]
    assert "Tokens 1–25 of 2500" in first.text and "Page 1 of 100" in first.text
    last = browser.get("/security/tokens?size=100&page=25&sort=created&dir=desc")
    assert NAMES.findall(last.text)[-1] == "t2499" and "Page 25 of 25" in last.text
    past_the_end = browser.get("/security/tokens?page=9999")
    assert "Page 100 of 100" in past_the_end.text
    expiring = browser.get("/security/tokens?sort=expires&size=50")
    assert NAMES.findall(expiring.text)[:3] == ["t0000", "t0003", "t0006"]
    found = browser.get("/security/tokens?q=T249")
    assert NAMES.findall(found.text) == [f"t249{n}" for n in range(10)]
    assert browser.get("/security/tokens?q=%25").text.count('class="name"') == 0  # LIKE wildcards are literal


def test_rename_in_place_keeps_the_view_and_explains_refusals(
    browser: Browser, container: Container, alice: Account
) -> None:
    make_token(container, alice, "old")
    make_token(container, alice, "other")
    browser.sign_in()
    browser.get("/security/tokens")
    page = browser.post("/security/tokens/rename", {"name": "old", "new_name": "new", "sort": "created", "dir": "desc"})
    assert page.url.query == b"sort=created&dir=desc&notice=token-renamed" and "The token was renamed." in page.text
    refused = browser.post("/security/tokens/rename", {"name": "new", "new_name": "other"})
    assert refused.status_code == 400 and "An API token with the name “other” already exists." in refused.text
    assert '<details class="rename" open>' in refused.text
    assert set(NAMES.findall(browser.get("/security/tokens").text)) == {"new", "other"}


def test_revoke_asks_first_then_the_api_refuses_the_token(
    browser: Browser, container: Container, alice: Account
) -> None:
    issued = make_token(container, alice, "doomed")
    browser.sign_in()
    confirm = browser.get("/security/tokens/revoke?name=doomed")
    assert "Revoke the token “doomed”?" in confirm.text
    assert browser.client.get("/execute/Tokens/list", headers=auth("alice", issued.secret)).status_code == 200
    done = browser.post("/security/tokens/revoke", {"name": "doomed"})
    assert "The token was revoked" in done.text
    assert browser.client.get("/execute/Tokens/list", headers=auth("alice", issued.secret)).status_code == 401
    assert browser.post("/security/tokens/revoke", {"name": "doomed"}).status_code == 404


def test_only_your_own_tokens_are_listed_or_revocable(browser: Browser, container: Container, alice: Account) -> None:
    bob = make_account(container, "bob")
    make_token(container, bob, "bobs")
    browser.sign_in()
    assert "bobs" not in browser.get("/security/tokens").text
    assert browser.post("/security/tokens/revoke", {"name": "bobs"}).status_code == 404
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(bob.id, "bobs") is not None


def test_delete_expired_keeps_live_tokens(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    make_token(container, alice, "stale", expires_at=int(clock.now()) + 10)
    make_token(container, alice, "fresh", expires_at=int(clock.now()) + 86400 * 30)
    make_token(container, alice, "forever")
    clock.advance(11)
    browser.sign_in()
    assert "Expired" in browser.get("/security/tokens").text
    browser.get("/security/tokens/expired")
    page = browser.post("/security/tokens/expired")
    assert set(NAMES.findall(page.text)) == {"fresh", "forever"}


def test_the_page_is_refused_when_the_feature_is_off(browser: Browser, container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["apitokens"], [])
        uow.commit()
    browser.sign_in()
    page = browser.get("/security/tokens")
    assert page.status_code == 403 and "You do not have the feature “apitokens”." in page.text


def test_rotate_shows_the_new_secret_once_and_the_old_one_keeps_working(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    old = make_token(container, alice, "deploy").secret
    browser.sign_in()
    dialog = browser.get("/security/tokens/rotate?name=deploy")
    assert dialog.status_code == 200 and 'name="grace_period" value="86400" checked' in dialog.text
    page = browser.post("/security/tokens/rotate", {"name": "deploy", "grace_period": "3600"})
    shown = secret.PATTERN.search(page.text)
    assert page.status_code == 200 and shown and "Token “deploy” rotated" in page.text
    assert page.headers["cache-control"] == "no-store" and "works until" in page.text
    for secret_text in (old, shown.group(0)):
        assert browser.client.get("/execute/Tokens/list", headers=auth("alice", secret_text)).json()["status"] == 1
    table = browser.get("/security/tokens")
    assert "rotating, old secret valid until" in table.text and shown.group(0) not in table.text
    refused = browser.post("/security/tokens/rotate", {"name": "deploy", "grace_period": "604801"})
    assert refused.status_code == 400 and "grace period" in refused.text and 'aria-invalid="true"' in refused.text


def test_the_token_page_shows_uses_history_and_addresses(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    limited = make_token(container, alice, "limited", max_uses=5).secret
    for _ in range(2):
        browser.client.get("/execute/Tokens/list", headers=auth("alice", limited))
    flush_usage(container)
    browser.sign_in()
    page = browser.get("/security/tokens/token?name=limited")
    assert page.status_code == 200 and "used 2 of 5" in page.text
    assert '<rect class="chart-bar"' in page.text and "2 calls" in page.text and "<script>" not in page.text
    assert "testclient" in page.text and ">Tokens</th><td>2</td>" in page.text
    assert browser.get("/security/tokens/token?name=nothing").status_code == 404


def test_a_use_limit_from_the_form(browser: Browser, container: Container, alice: Account) -> None:
    browser.sign_in()
    made = browser.post("/security/tokens/new", {"name": "once", "expiry": "never", "access": "full", "max_uses": "1"})
    assert made.status_code == 200 and "used 0 of 1" in made.text
    refused = browser.post(
        "/security/tokens/new", {"name": "zero", "expiry": "never", "access": "full", "max_uses": "0"}
    )
    assert refused.status_code == 400 and "use limit" in refused.text


def test_an_imported_token_is_invited_to_rotate(browser: Browser, container: Container, alice: Account) -> None:
    entries = {secret.legacy_digest(cpanel_token()): cpanel_entry("from-cpanel", 1_700_000_000)}
    with container.uow() as uow:
        importer = TokenImport(uow, container.keys.keyring, container.clock, container.audit(uow))
        importer.apply(
            importer.plan([StoreFile("alice.json", "alice", Service.CPANEL, json.dumps({"tokens": entries}))], {}),
            "admin",
        )
        uow.commit()
    browser.sign_in()
    assert "imported (rotate to get hostpanel" in browser.get("/security/tokens").text
    assert "still has cPanel's format" in browser.get("/security/tokens/token?name=from-cpanel").text
