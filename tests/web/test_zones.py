"""Domains → Zone Editor against a real PowerDNS: records by type, add, change and delete with the nameserver
serving each change when the page comes back, every refusal beside its field, two browsers never overwriting each
other, and the token form's "Only certificate challenges"."""

from __future__ import annotations

import html
import re
import time

import pytest
from httpx import Response

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.secret import PATTERN
from tests.factories import Api2, Browser, Calls, FakeClock, auth, make_account, served, served_serial

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "alice.test"
PAGE = f"/domains/zone-editor?zone={ZONE}"
SERIAL = re.compile(r'name="serial" value="([0-9]+)"')


def field_error(page: Response, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    return html.unescape(found.group(1)) if found else ""


def record_form(browser: Browser, **fields: str) -> dict[str, str]:
    page = browser.get(PAGE)
    serial = SERIAL.search(page.text)
    assert serial is not None
    return {"zone": ZONE, "serial": serial.group(1), "ttl": "3600", "name": "", **fields}


def line_of(page: Response, name: str, data: str) -> str:
    rows = re.findall(r'<tr>\s*<th scope="row" class="name">([^<]+)</th>(.*?)</tr>', page.text, re.DOTALL)
    for row_name, rest in rows:
        if row_name == name and f"<code>{html.escape(data)}</code>" in rest:
            found = re.search(r'name="line" value="([0-9]+)"', rest)
            assert found is not None
            return found.group(1)
    raise AssertionError(f"no row {name} {data}")


def test_the_zone_editor_lists_the_zones_and_their_records_by_type(browser: Browser, alice: Account) -> None:
    browser.sign_in()
    listing = browser.get("/domains/zone-editor")
    assert listing.status_code == 200 and 'href="/domains/zone-editor"' in listing.text  # in the navigation
    assert f"/domains/zone-editor?zone={ZONE}" in listing.text
    page = browser.get(PAGE)
    headings = re.findall(r'<h2 id="heading-([A-Z]+)">', page.text)
    assert headings == ["SOA", "NS", "A", "AAAA", "MX", "TXT"]
    assert "<code>v=spf1 +a +mx ~all</code>" in page.text and "kept by the server" in page.text
    assert '<option value="CAA">' in page.text and 'data-for-types="MX SRV"' in page.text


def test_add_change_and_delete_are_served_when_the_page_returns(
    browser: Browser, alice: Account, settings: Settings
) -> None:
    browser.sign_in()
    added = browser.post(
        "/domains/zone-editor/add", record_form(browser, type="TXT", name="_dmarc", text="v=DMARC1; p=none")
    )
    assert "The record was added. The nameserver serves it now." in added.text
    assert served(settings, "_dmarc.alice.test", "TXT", tcp=True) == ["v=DMARC1; p=none"]
    browser.post(
        "/domains/zone-editor/add", record_form(browser, type="MX", name="@", priority="20", target="mx2.example.net")
    )
    assert "20 mx2.example.net." in served(settings, ZONE, "MX")  # a host with a dot is taken as complete
    browser.post("/domains/zone-editor/add", record_form(browser, type="CNAME", name="shop.alice.test", target="www"))
    assert served(settings, "shop.alice.test", "CNAME") == ["www.alice.test."]
    page = browser.get(PAGE)
    line = line_of(page, "_dmarc.alice.test", "v=DMARC1; p=none")
    form = browser.get(f"/domains/zone-editor/edit?zone={ZONE}&line={line}")
    assert 'value="_dmarc"' in form.text and "v=DMARC1; p=none</textarea>" in form.text
    serial = SERIAL.search(form.text)
    assert serial is not None
    changed = browser.post(
        "/domains/zone-editor/edit",
        {
            "zone": ZONE,
            "serial": serial.group(1),
            "line": line,
            "type": "TXT",
            "name": "_dmarc",
            "ttl": "300",
            "text": "v=DMARC1; p=reject",
        },
    )
    assert "The record was changed." in changed.text
    assert served(settings, "_dmarc.alice.test", "TXT") == ["v=DMARC1; p=reject"]
    assert line_of(changed, "_dmarc.alice.test", "v=DMARC1; p=reject") == line  # in place
    deleted = browser.post("/domains/zone-editor/delete", record_form(browser, line=line))
    assert "The record was deleted." in deleted.text and served(settings, "_dmarc.alice.test", "TXT") == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"type": "A", "name": "app", "address": "999.1.1.1"}, "address", "not a valid IPv4 address"),
        ({"type": "A", "name": "app", "address": ""}, "address", "Fill this in"),
        ({"type": "AAAA", "name": "app", "address": "192.0.2.1"}, "address", "not a valid IPv6 address"),
        ({"type": "A", "name": "x.bob.test.", "address": "192.0.2.1"}, "name", "outside the current DNS zone"),
        ({"type": "A", "name": "bad name", "address": "192.0.2.1"}, "name", "not a valid DNS name"),
        ({"type": "A", "name": "app", "address": "192.0.2.1", "ttl": "0"}, "ttl", "Time-To-Live"),
        ({"type": "CNAME", "name": "www", "target": "elsewhere.test"}, "type", "has a CNAME record"),
        ({"type": "MX", "name": "@", "priority": "70000", "target": "mx"}, "target", "from 0 to 65535"),
        ({"type": "TXT", "name": "x", "text": "two\nlines"}, "text", "control characters"),
        ({"type": "NS", "name": "sub", "target": "ns.example.net"}, "type", "Choose the type"),
    ],
)
def test_each_refusal_is_beside_its_field_and_nothing_changes(
    browser: Browser, alice: Account, settings: Settings, fields: dict[str, str], field: str, message: str
) -> None:
    browser.sign_in()
    before = served_serial(settings, ZONE)
    page = browser.post("/domains/zone-editor/add", record_form(browser, **fields))
    assert page.status_code == 400 and message in field_error(page, field), (field, page.text[-3000:])
    assert 'aria-invalid="true"' in page.text
    assert served_serial(settings, ZONE) == before


def test_two_browsers_never_overwrite_each_other(
    browser: Browser, second_browser: Browser, alice: Account, settings: Settings
) -> None:
    for each in (browser, second_browser):
        each.sign_in()
    first, second = record_form(browser), record_form(second_browser)  # both read the zone at one serial
    browser.post("/domains/zone-editor/add", {**first, "type": "A", "name": "one", "address": "192.0.2.1"})
    stale = second_browser.post(
        "/domains/zone-editor/add", {**second, "type": "A", "name": "two", "address": "192.0.2.2"}
    )
    assert stale.status_code == 409 and "The zone changed since this page was opened" in stale.text
    assert "one.alice.test" in stale.text  # shown as it is now
    assert served(settings, "two.alice.test", "A") == [] and served(settings, "one.alice.test", "A") == ["192.0.2.1"]


def test_another_accounts_zone_is_not_shown_or_changed(
    browser: Browser, container: Container, alice: Account, settings: Settings
) -> None:
    make_account(container, "bob", domains=("bob.test",))
    browser.sign_in()
    assert browser.get("/domains/zone-editor?zone=bob.test").status_code == 404
    serial = str(served_serial(settings, "bob.test"))
    page = browser.post(
        "/domains/zone-editor/add",
        {"zone": "bob.test", "serial": serial, "type": "A", "name": "x", "ttl": "60", "address": "192.0.2.1"},
    )
    assert page.status_code == 404 and "You do not control a DNS zone named “bob.test”." in html.unescape(page.text)
    assert served_serial(settings, "bob.test") == int(serial)


def test_without_the_zone_editing_features_the_records_are_read_only(
    browser: Browser, container: Container, alice: Account, settings: Settings
) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["zoneedit", "simplezoneedit", "changemx"], [])
        uow.commit()
    browser.sign_in()
    page = browser.get(PAGE)
    assert "switched off for your account" in page.text and "/domains/zone-editor/add" not in page.text
    form = {"zone": ZONE, "serial": str(served_serial(settings, ZONE)), "type": "A", "name": "x", "ttl": "60"}
    refused = browser.post("/domains/zone-editor/add", {**form, "address": "192.0.2.1"})
    assert refused.status_code == 400 and "You do not have the feature “zoneedit”." in html.unescape(refused.text)
    assert served(settings, "x.alice.test", "A") == []


def test_a_change_long_after_sign_in_does_not_wait_for_itself(
    browser: Browser, container: Container, alice: Account, clock: FakeClock, settings: Settings
) -> None:
    """The page's session is touched (written) a minute on: the zone's own transaction must not wait behind it."""
    browser.sign_in()
    form = record_form(browser, type="A", name="later", address="192.0.2.9")
    clock.advance(600)
    started = time.monotonic()
    page = browser.post("/domains/zone-editor/add", form)
    assert "The record was added." in page.text and served(settings, "later.alice.test", "A") == ["192.0.2.9"]
    assert time.monotonic() - started < 5
    with container.uow(write=False) as uow:
        assert uow.sessions.count_live(alice.id, 0, int(clock.now())) == 1  # the session was touched: seen now


def test_only_certificate_challenges_in_the_token_form(
    browser: Browser, container: Container, alice: Account, settings: Settings
) -> None:
    browser.sign_in()
    form = browser.get("/security/tokens/new")
    assert "Only certificate challenges" in form.text and "data-challenges" in form.text
    page = browser.post(
        "/security/tokens/new", {"name": "certbot", "expiry": "90", "access": "scopes", "dns_challenges": "1"}
    )
    assert "certificate challenges in DNS" in page.text
    shown = PATTERN.search(page.text)
    assert shown is not None
    with container.uow(write=False) as uow:
        token = uow.tokens.get_by_name(alice.id, "certbot")
    assert token is not None and token.permissions.scope_names() == ["dns:write"]
    api2 = Api2(browser.client, "alice", shown.group(0))
    (ok,) = api2.data("ZoneEdit", "add_zone_record", domain=ZONE, name="_acme-challenge", type="TXT", txtdata="v")
    assert ok["result"]["status"] == 1
    refused = api2.call("ZoneEdit", "add_zone_record", domain=ZONE, name="www", type="A", address="192.0.2.66")
    assert "may only change DNS records named _acme-challenge" in refused["error"]
    assert "limited to certificate challenges" in browser.get("/security/tokens").text


def test_the_record_table_escapes_what_it_shows(
    browser: Browser, alice: Account, alice_token: IssuedToken, settings: Settings
) -> None:
    dns = Calls(browser.client, alice_token.secret, "DNS")
    serial = str(served_serial(settings, ZONE))
    dns.post(
        "mass_edit_zone",
        zone=ZONE,
        serial=serial,
        add='{"dname":"x","ttl":60,"record_type":"TXT","data":["<script>alert(1)</script>"]}',
    )
    browser.sign_in()
    page = browser.get(PAGE)
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert browser.client.get(PAGE, headers=auth("alice", alice_token.secret)).status_code == 403  # not for tokens
