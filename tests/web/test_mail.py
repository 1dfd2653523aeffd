"""Email → Email Accounts and Forwarders: mailboxes per domain with usage and quota, add, change password and quota,
delete; forwarders; every refusal beside its field; features and sudo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from httpx import Response

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.principal import Principal
from tests.factories import PASSWORD as ACCOUNT_PASSWORD
from tests.factories import Browser, FakeClock

PASSWORD = "Str0ng-Mailbox-Pass!"
OTHER_PASSWORD = "Another-Mailbox-Pass-42"
ADDRESSES = re.compile(r'<th scope="row" class="name">([^<]+)</th>')


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


def add_mailbox(container: Container, account: Account, local: str, domain: str = "alice.test", quota: int = 0) -> None:
    with container.uow() as uow:
        container.mail(Principal.admin(account), uow).add_mailbox(local, domain, PASSWORD, quota)
        uow.commit()


def add_domain(container: Container, domain: str) -> None:
    with container.uow() as uow:
        container.accounts(uow).add_domain("alice", domain)
        uow.commit()


def field_error(page: Response, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    return found.group(1) if found else ""


def password_hash(container: Container, address: str) -> str:
    local, _, domain = address.partition("@")
    with container.uow(write=False) as uow:
        account = uow.accounts.get_by_username("alice")
        assert account is not None
        mailbox = uow.mail.get_mailbox(account.id, domain, local)
    assert mailbox is not None
    return mailbox.password_hash


def test_mailboxes_are_listed_per_domain_with_usage_and_quota(
    browser: Browser, container: Container, alice: Account, home: Path
) -> None:
    add_domain(container, "alice.example")
    add_mailbox(container, alice, "info", quota=1)
    add_mailbox(container, alice, "sales", "alice.example")
    (home / "mail" / "alice.test" / "info" / "new" / "1.mail").write_bytes(b"x" * 524_288)
    browser.sign_in()
    page = browser.get("/email/accounts")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert ADDRESSES.findall(page.text) == ["info@alice.test", "sales@alice.example"]
    assert page.text.index('<h2 id="domain-1">alice.test</h2>') < page.text.index("alice.example</h2>")
    info = page.text.split("info@alice.test</th>", 1)[1].split("</tr>", 1)[0]
    assert "512 KB (50%)" in info and 'value="50"' in info and "1 MB" in info
    sales = page.text.split("sales@alice.example</th>", 1)[1].split("</tr>", 1)[0]
    assert "0 bytes" in sales and "Unlimited" in sales and "<meter" not in sales


def test_add_a_mailbox(browser: Browser, container: Container, home: Path) -> None:
    add_domain(container, "alice.example")
    browser.sign_in()
    form = browser.get("/email/accounts/new")
    assert '<option value="alice.test" selected>' in form.text and 'data-strength="strength"' in form.text
    done = browser.post(
        "/email/accounts/new",
        {
            "local_part": "Team",
            "domain": "alice.example",
            "password": PASSWORD,
            "confirm_password": PASSWORD,
            "quota": "250",
        },
    )
    assert "The email account was created." in done.text and "team@alice.example" in ADDRESSES.findall(done.text)
    assert (home / "mail" / "alice.example" / "team" / "new").is_dir()
    assert "team@alice.example:" in container.mail_files.passwd_path.read_text()
    assert "250 MB" in done.text
    with container.uow(write=False) as uow:
        actions = [event.action.value for event in uow.audit.query(AuditQuery(limit=100))]
    assert "account:mailbox:create" in actions


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"local_part": "bad name"}, "local_part", "is not a valid email account name"),
        ({"local_part": "taken"}, "local_part", "“taken@alice.test” already exists"),
        ({"local_part": "x@elsewhere.test"}, "local_part", "is not on the domain"),
        ({"domain": "bob.test"}, "domain", "does not belong to this account"),
        ({"password": "short", "confirm_password": "short"}, "password", "at least 10 characters"),
        ({"password": "passwordpassword", "confirm_password": "passwordpassword"}, "password", "too weak"),
        ({"confirm_password": OTHER_PASSWORD}, "confirm_password", "not the same"),
        ({"quota": "lots"}, "quota", "whole number of megabytes"),
    ],
)
def test_adding_a_mailbox_explains_each_refusal_beside_its_field(
    browser: Browser, container: Container, alice: Account, home: Path, change: dict[str, str], field: str, message: str
) -> None:
    add_mailbox(container, alice, "taken")
    browser.sign_in()
    browser.get("/email/accounts/new")
    form = {
        "local_part": "new",
        "domain": "alice.test",
        "password": PASSWORD,
        "confirm_password": PASSWORD,
        "quota": "",
    }
    page = browser.post("/email/accounts/new", {**form, **change})
    assert page.status_code == 400 and message in field_error(page, field), page.text[-1500:]
    assert f'name="local_part" value="{ {**form, **change}["local_part"] }"' in page.text  # what was typed stays
    assert PASSWORD not in page.text  # a password is never sent back
    with container.uow(write=False) as uow:
        assert [m.local_part for m in uow.mail.mailboxes(alice.id)] == ["taken"]
    assert not (home / "mail" / "alice.test" / "new").exists()


def test_change_a_mailboxs_password_and_quota(browser: Browser, container: Container, alice: Account) -> None:
    add_mailbox(container, alice, "info")
    before = password_hash(container, "info@alice.test")
    browser.sign_in()
    manage = browser.get("/email/accounts/manage?address=info%40alice.test")
    assert "Change the password" in manage.text and 'name="quota" value=""' in manage.text
    weak = browser.post(
        "/email/accounts/password",
        {"address": "info@alice.test", "password": "info-info-info", "confirm_password": "info-info-info"},
    )
    assert weak.status_code == 400 and "may not contain the username" in field_error(weak, "password")
    mismatch = browser.post(
        "/email/accounts/password",
        {"address": "info@alice.test", "password": OTHER_PASSWORD, "confirm_password": PASSWORD},
    )
    assert "not the same" in field_error(mismatch, "confirm_password")
    assert password_hash(container, "info@alice.test") == before
    changed = browser.post(
        "/email/accounts/password",
        {"address": "info@alice.test", "password": OTHER_PASSWORD, "confirm_password": OTHER_PASSWORD},
    )
    assert "password was changed" in changed.text and password_hash(container, "info@alice.test") != before
    bad_quota = browser.post("/email/accounts/quota", {"address": "info@alice.test", "quota": "-5"})
    assert bad_quota.status_code == 400 and "whole number of megabytes" in field_error(bad_quota, "quota")
    quota = browser.post("/email/accounts/quota", {"address": "info@alice.test", "quota": "2048"})
    assert "quota was changed" in quota.text and "2 GB" in quota.text
    missing = browser.get("/email/accounts/manage?address=nobody%40alice.test")
    assert missing.status_code == 404 and "does not exist" in missing.text


def test_delete_a_mailbox_after_a_confirmation(
    browser: Browser, container: Container, alice: Account, home: Path
) -> None:
    add_mailbox(container, alice, "old")
    (home / "mail" / "alice.test" / "old" / "new" / "1.mail").write_text("mail")
    browser.sign_in()
    confirm = browser.get("/email/accounts/delete?address=old%40alice.test")
    assert "Delete the email account old@alice.test?" in confirm.text and "4 bytes" in confirm.text
    done = browser.post("/email/accounts/delete", {"address": "old@alice.test"})
    assert "were deleted" in done.text and ADDRESSES.findall(done.text) == []
    assert not (home / "mail" / "alice.test" / "old").exists()
    assert "old@alice.test" not in container.mail_files.passwd_path.read_text()
    again = browser.post("/email/accounts/delete", {"address": "old@alice.test"})
    assert again.status_code == 404


@pytest.mark.parametrize("path", ["/email/accounts/new", "/email/accounts/delete", "/email/forwarders/new"])
def test_changing_mailboxes_needs_a_recent_password(
    browser: Browser, clock: FakeClock, alice: Account, path: str
) -> None:
    browser.sign_in()
    browser.get("/email/accounts")
    clock.advance(11 * 60)
    response = browser.client.post(path, data={"csrf_token": browser.token}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/security/confirm?next=")
    page = browser.get("/email/accounts/new")
    assert "Confirm your identity" in page.text
    confirmed = browser.post("/security/confirm", {"password": ACCOUNT_PASSWORD, "next": "/email/accounts/new"})
    assert "Add an email account" in confirmed.text


def test_forwarders_add_list_and_delete(browser: Browser, container: Container, alice: Account) -> None:
    browser.sign_in()
    assert "You have no forwarders." in browser.get("/email/forwarders").text
    browser.get("/email/forwarders/new")
    added = browser.post(
        "/email/forwarders/new",
        {"local_part": "sales", "domain": "alice.test", "destination": "Boss@Example.net, team@example.org"},
    )
    assert "The forwarder was added." in added.text
    rows = re.findall(r'class="name">([^<]+)</th>\s*<td>([^<]+)</td>', added.text)
    assert rows == [("sales@alice.test", "boss@example.net"), ("sales@alice.test", "team@example.org")]
    assert "sales@alice.test" in container.mail_files.alias_path.read_text()
    deleted = browser.post(
        "/email/forwarders/delete", {"address": "sales@alice.test", "destination": "boss@example.net"}
    )
    assert "The forwarder was deleted." in deleted.text
    assert re.findall(r'class="name">([^<]+)</th>\s*<td>([^<]+)</td>', deleted.text) == [
        ("sales@alice.test", "team@example.org")
    ]
    gone = browser.post("/email/forwarders/delete", {"address": "sales@alice.test", "destination": "boss@example.net"})
    assert gone.status_code == 400 and "There is no forwarder" in gone.text


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"local_part": "bad name"}, "local_part", "is not a valid email account name"),
        ({"destination": "not-an-address"}, "destination", "is not valid"),
        ({"destination": " , "}, "destination", "Enter the address to forward the mail to."),
        ({"destination": "sales@alice.test"}, "destination", "cannot forward to itself"),
        ({"destination": "boss@example.net"}, "destination", "already forwards to"),
        ({"domain": "bob.test"}, "domain", "does not belong to this account"),
    ],
)
def test_adding_a_forwarder_explains_each_refusal_beside_its_field(
    browser: Browser, container: Container, alice: Account, change: dict[str, str], field: str, message: str
) -> None:
    with container.uow() as uow:
        container.mail(Principal.admin(alice), uow).add_forwarders("sales", "alice.test", ["boss@example.net"])
        uow.commit()
    browser.sign_in()
    browser.get("/email/forwarders/new")
    form = {"local_part": "sales", "domain": "alice.test", "destination": "other@example.net"}
    page = browser.post("/email/forwarders/new", {**form, **change})
    assert page.status_code == 400 and message in field_error(page, field), page.text[-1500:]
    with container.uow(write=False) as uow:
        assert [f.destination for f in uow.mail.forwarders(alice.id)] == ["boss@example.net"]


def test_each_page_keeps_to_its_feature(browser: Browser, container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["forwarders"], [])
        uow.commit()
    browser.sign_in()
    accounts = browser.get("/email/accounts")
    assert accounts.status_code == 200 and 'href="/email/forwarders"' not in accounts.text
    refused = browser.get("/email/forwarders")
    assert refused.status_code == 403 and "You do not have the feature “forwarders”." in refused.text
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["popaccts"], ["forwarders"])
        uow.commit()
    assert browser.get("/email/forwarders").status_code == 200
    assert browser.get("/email/accounts").status_code == 403
    browser.get("/email/forwarders")
    response = browser.post(
        "/email/accounts/new",
        {"local_part": "x", "domain": "alice.test", "password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert response.status_code == 403
    with container.uow(write=False) as uow:
        assert uow.mail.mailboxes(alice.id) == []
