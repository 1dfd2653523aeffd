"""Domains → SSL/TLS: each site with its certificate, expiry and AutoSSL's last result (its error shown), the install
form with every refusal beside its field and the key never shown again, and deletion."""

from __future__ import annotations

import html
import re

from httpx import Response

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.principal import Principal
from tests.factories import Browser, TestCa

CA = TestCa()


def field_error(page: Response, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else ""


def test_the_page_lists_each_site_with_its_certificate_and_autossl_status(
    browser: Browser, container: Container, alice: Account
) -> None:
    leaf = CA.leaf("alice.test", "www.alice.test")
    with container.uow() as uow:
        container.accounts(uow).add_domain("alice", "shop.test")
        service = container.certificates(Principal.admin(alice), uow)
        service.install("alice.test", leaf.cert, leaf.key, leaf.cabundle)
        service.record_autossl("shop.test", "The certificate authority could not validate the domain: NXDOMAIN")
        uow.commit()
    browser.sign_in()
    page = browser.get("/domains/ssl")
    assert page.status_code == 200 and 'href="/domains/ssl"' in page.text
    rows = dict(re.findall(r'<th scope="row" class="name">([^<]+)</th>(.*?)</tr>', page.text, re.DOTALL))
    assert list(rows) == ["alice.test", "shop.test"]
    assert "hostpanel test intermediate" in rows["alice.test"] and "90 days left" in rows["alice.test"]
    assert "www.alice.test" in rows["alice.test"] and "Not run yet" in rows["alice.test"]
    assert "None: the site answers over HTTP only" in rows["shop.test"]
    assert "Failed" in rows["shop.test"] and "could not validate the domain: NXDOMAIN" in rows["shop.test"]
    assert "PRIVATE KEY" not in page.text


def test_installing_through_the_form_serves_it_and_a_refusal_keeps_the_key_off_the_page(
    browser: Browser, container: Container, alice: Account
) -> None:
    browser.sign_in()
    browser.get("/domains/ssl")
    leaf, other = CA.leaf("alice.test"), CA.leaf("alice.test")
    refused = browser.post(
        "/domains/ssl/install", {"domain": "alice.test", "cert": leaf.cert, "key": other.key, "cabundle": leaf.cabundle}
    )
    assert refused.status_code == 400
    assert field_error(refused, "key") == "The certificate does not match the private key."
    assert "PRIVATE KEY" not in refused.text and html.escape(leaf.cert.splitlines()[1]) in refused.text
    assert not (container.settings.home_dir / "nginx/certs/alice.test.key").exists()
    unknown = browser.post(
        "/domains/ssl/install", {"domain": "bob.test", "cert": leaf.cert, "key": leaf.key, "cabundle": leaf.cabundle}
    )
    assert "not one of your account’s domains" in field_error(unknown, "domain")
    installed = browser.post(
        "/domains/ssl/install",
        {"domain": "alice.test", "cert": leaf.cert, "key": leaf.key, "cabundle": leaf.cabundle},
        follow_redirects=True,
    )
    assert "The certificate was installed." in installed.text and "PRIVATE KEY" not in installed.text
    assert (container.settings.home_dir / "nginx/certs/alice.test.key").read_text() == leaf.key
    deleted = browser.post("/domains/ssl/delete", {"domain": "alice.test"}, follow_redirects=True)
    assert "The certificate was deleted." in deleted.text
    assert not (container.settings.home_dir / "nginx/certs/alice.test.key").exists()


def test_the_page_needs_the_sslinstall_feature(browser: Browser, container: Container, alice: Account) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["sslinstall"], [])
        uow.commit()
    browser.sign_in()
    assert 'href="/domains/ssl"' not in browser.get("/domains/zone-editor").text
    assert browser.get("/domains/ssl").status_code == 403
