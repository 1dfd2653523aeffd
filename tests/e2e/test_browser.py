"""A newcomer in a real browser against `hostpanel serve`: sign in, turn on two-factor, sign in again with a code,
create a narrowly scoped token, copy it and use it, see it used, rename it, revoke it, change the password. Another
account uploads, edits and downloads a file, makes a mailbox and a forwarder, takes a backup while its progress bar
fills, and restores a file from it; it edits its DNS zone (the nameserver serving each change when the page comes
back) and makes a token for a certificate robot with one click.

Each step saves a screenshot under test-output/screenshots (and, with HOSTPANEL_DOCS_SCREENSHOTS=1, into
docs/screenshots) and passes axe-core's WCAG 2 A/AA checks plus a check that every form control has a label.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest
from playwright.sync_api import Browser, FilePayload

from hostpanel.config import Settings
from tests.e2e.browser import Visit, sign_in
from tests.factories import PASSWORD, fetch, served
from tests.processes import environment, hostpanel, running_server

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

NEW_PASSWORD = "Lantern-Orchard-Quarry-58"
MAILBOX_PASSWORD = "Copper-Meadow-Lantern-31"
UPLOAD_LIMIT = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("browser")
    env = environment(
        root / "var",
        HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.3",
        HOSTPANEL_LOGIN_FAILURE_DELAY_SECONDS="0.1",
        HOSTPANEL_MAX_UPLOAD_BYTES=str(UPLOAD_LIMIT),
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    hostpanel(env, "account", "create", "bob", "--password-stdin", "--domain", "bob.test", stdin=PASSWORD)
    for days in (3, 45):
        hostpanel(env, "token", "create", "alice", f"backup-{days}d", "--expires", f"{days}d", "--scope", "tokens:read")
    with running_server(env, log=root / "serve.log") as base:
        yield base, env


def api(base: str, token: str, function: str) -> httpx.Response:
    with httpx.Client(verify=False, timeout=10) as client:
        return client.get(f"{base}/execute/{function}", headers={"Authorization": f"cpanel alice:{token}"})


def payload(name: str, data: bytes) -> FilePayload:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


def test_a_newcomer_secures_the_account_and_manages_a_token(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = server
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    visit = Visit(context.new_page())
    page = visit.page

    page.goto(base + "/")
    visit.check("01-sign-in")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "The username or password is incorrect."
    sign_in(visit, base, PASSWORD)
    assert page.url.endswith("/security/tokens")

    # Two-factor: the secret shown as text gives the codes an authenticator app would show.
    page.get_by_role("link", name="Two-Factor Authentication").click()
    visit.check("02-two-factor-off")
    page.get_by_role("link", name="Set up two-factor authentication").click()
    visit.check("03-two-factor-setup")
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    app = pyotp.TOTP(secret)
    page.get_by_label("Enter the 6-digit code the app now shows").fill(app.now())
    page.get_by_role("button", name="Turn on two-factor authentication").click()
    codes = page.locator("ol.codes code").all_inner_texts()
    assert len(codes) == 10
    visit.check("04-recovery-codes")
    page.get_by_role("link", name="I have saved them").click()
    assert "10 of 10 recovery codes left" in page.locator("main").inner_text()
    visit.check("05-two-factor-on")

    # Out and in again: the password alone no longer signs in.
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("status").inner_text() == "You have signed out."
    sign_in(visit, base, PASSWORD)
    assert "/login/code" in page.url
    visit.check("06-sign-in-code")
    page.get_by_label("Authentication code").fill(app.at(time.time() + 30))  # the next step: this one is used
    page.get_by_role("button", name="Verify").click()
    assert page.url.endswith("/security/tokens")
    visit.check("07-api-tokens")

    # A narrowly scoped token with an expiry; the live check of the name.
    page.get_by_role("link", name="Create token").click()
    name = page.get_by_label("Name", exact=True)
    name.fill("deploy bot")
    assert "is not a valid API token name" in page.locator("#name-error").inner_text()
    name.fill("deploy-bot")
    assert page.locator("#name-error").inner_text() == ""
    page.get_by_label("In 90 days").check()
    page.get_by_label("Read: tokens").check()
    page.get_by_label("Read: activitylog").check()
    visit.check("08-create-token")
    page.get_by_role("button", name="Create token").click()
    assert "You will not see it again" in page.get_by_role("alert").inner_text()
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("Copied to the clipboard.").wait_for()
    token = page.evaluate("navigator.clipboard.readText()")
    assert token == page.get_by_label("Your new API token").input_value() and token.startswith("hpat_")
    visit.check("09-token-created")

    listed = api(base, token, "Tokens/list").json()
    assert listed["status"] == 1 and "deploy-bot" in [t["name"] for t in listed["data"]]
    assert api(base, token, "Tokens/create_full_access?name=escalate").json()["status"] == 0  # read only

    # Last used, and from where, once the batched use is written.
    page.get_by_role("link", name="Done: back to API Tokens").click()
    row = page.get_by_role("row").filter(has_text="deploy-bot")
    for _ in range(40):
        if "from 127.0.0.1" in row.inner_text():
            break
        time.sleep(0.25)
        page.reload()
    assert "from 127.0.0.1" in row.inner_text() and "tokens:read" in row.inner_text()
    visit.check("10-token-used")

    # Rename in place; the token keeps working.
    row.get_by_text("Rename").click()
    page.get_by_label("New name for deploy-bot").fill("ci-deploy")
    row.get_by_role("button", name="Save name").click()
    assert page.get_by_role("status").inner_text() == "The token was renamed."
    assert api(base, token, "Tokens/list").status_code == 200

    # Revoke, after a confirmation; the API refuses it from then on.
    page.get_by_role("row").filter(has_text="ci-deploy").get_by_role("link", name="Revoke").click()
    visit.check("11-revoke-confirm")
    page.get_by_role("button", name="Revoke token").click()
    assert page.get_by_role("status").inner_text() == "The token was revoked. It no longer works."
    assert api(base, token, "Tokens/list").status_code == 401

    # The password: strength shown while typing, the server's reason when refused, then changed.
    page.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("password1234")
    page.get_by_label("New password again").fill("password1234")
    assert page.locator("#strength-text").inner_text() in ("Too weak", "Weak")
    page.get_by_role("button", name="Change password").click()
    assert "This is a very common password" in page.locator("#new_password-error").inner_text()
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    assert page.locator("#strength-text").inner_text() in ("Good", "Strong")
    visit.check("12-password")
    page.get_by_role("button", name="Change password").click()
    assert "Your new password is in effect." in page.locator("main").inner_text()

    page.get_by_role("link", name="Activity").click()
    events = page.locator("table.events").inner_text()
    for action in ("account:password:change", "account:token:revoke", "account:token:rename", "account:token:new_ip"):
        assert action in events
    visit.check("13-activity")

    # The new password and a recovery code (each works once) sign in.
    page.get_by_role("button", name="Sign out").click()
    sign_in(visit, base, NEW_PASSWORD)
    page.get_by_label("Authentication code").fill(codes[0])
    page.get_by_role("button", name="Verify").click()
    assert page.url.endswith("/security/tokens")
    context.close()


def test_files_mail_and_backups_in_the_browser(server: tuple[str, dict[str, str]], browser: Browser) -> None:
    base, env = server
    home = Path(env["HOSTPANEL_HOME"]) / "homes" / "bob"
    (home / "public_html" / "video.bin").write_bytes(os.urandom(40 << 20))  # a backup that takes a few seconds
    context = browser.new_context(
        ignore_https_errors=True, accept_downloads=True, viewport={"width": 1280, "height": 860}
    )
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, base, PASSWORD, "bob")

    # Files: into public_html, upload two files (a third is over the limit and said so at once).
    page.get_by_role("link", name="File Manager").click()
    page.get_by_role("link", name="public_html/").click()
    files = page.get_by_label("Files to upload into ~/public_html")
    files.set_input_files([payload("big.bin", bytes(UPLOAD_LIMIT + 1))])
    assert "larger than the upload limit of 1 MB" in page.locator("#files-error").inner_text()
    files.set_input_files([payload("hello.txt", b"Hello from the browser\n"), payload("notes.md", b"# Notes\n")])
    assert page.locator("#files-error").inner_text() == ""
    page.get_by_role("button", name="Upload", exact=True).click()
    assert page.get_by_role("status").inner_text() == "The files were uploaded."
    names = page.locator("th.file-name").all_inner_texts()
    assert names == ["hello.txt", "notes.md", "video.bin"]
    visit.check("14-file-manager")

    # Edit the text file, then download it.
    page.get_by_role("link", name="Edit hello.txt").click()
    assert page.get_by_label("Content of hello.txt").input_value() == "Hello from the browser\n"
    page.get_by_label("Content of hello.txt").fill("Hello, edited in the browser\nSecond line\n")
    visit.check("15-edit-file")
    page.get_by_role("button", name="Save").click()
    assert page.get_by_role("status").inner_text() == "The file was saved."
    assert (home / "public_html" / "hello.txt").read_bytes() == b"Hello, edited in the browser\nSecond line\n"
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "hello.txt"
    assert Path(download.value.path()).read_bytes() == b"Hello, edited in the browser\nSecond line\n"

    # A mailbox, with the strength meter while typing; and a forwarder.
    page.get_by_role("link", name="Email Accounts").click()
    page.get_by_role("link", name="Add email account").click()
    page.get_by_label("Name (before the @)").fill("info")
    page.get_by_label("Password", exact=True).fill(MAILBOX_PASSWORD)
    page.get_by_label("Password again").fill(MAILBOX_PASSWORD)
    page.get_by_label("Quota in MB").fill("500")
    assert page.locator("#strength-text").inner_text() in ("Good", "Strong")
    visit.check("16-add-email-account")
    page.get_by_role("button", name="Add email account").click()
    assert page.get_by_role("status").inner_text() == "The email account was created."
    row = page.get_by_role("row").filter(has_text="info@bob.test")
    assert "500 MB" in row.inner_text() and "0 bytes" in row.inner_text()
    visit.check("17-email-accounts")
    page.get_by_role("link", name="Forwarders").click()
    page.get_by_role("link", name="Add forwarder").click()
    page.get_by_label("Address to forward (before the @)").fill("sales")
    page.get_by_label("Forward to").fill("info@bob.test")
    page.get_by_role("button", name="Add forwarder").click()
    assert page.get_by_role("row").filter(has_text="sales@bob.test").count() == 1
    visit.check("18-forwarders")

    # A backup: the progress bar fills without reloading the page, then the archive is downloaded.
    page.get_by_role("link", name="Backups").click()
    page.get_by_role("button", name="Back up now").click()
    assert "The backup has started." in page.get_by_role("status").first.inner_text()
    bar = page.get_by_label("Progress")
    seen = [float(bar.evaluate("el => el.value"))]
    deadline = time.monotonic() + 60
    while seen[-1] < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
        seen.append(float(bar.evaluate("el => el.value")))
        if 0 < seen[-1] < 100 and "19-backup-running" not in visit.seen:
            visit.check("19-backup-running")  # part of the way (progress is saved about once a second)
    if "19-backup-running" not in visit.seen:
        visit.check("19-backup-running")  # a fast machine: the bar went straight to the end
    assert seen[-1] == 100 and seen == sorted(seen), seen  # it only moves forwards, to the end
    assert "Complete" in page.locator("[data-job-text]").inner_text()
    archive = next(p.name for p in home.iterdir() if p.name.startswith("backup-"))
    row = page.get_by_role("row").filter(has_text=archive)
    assert "Complete" in row.inner_text() and "MB" in row.inner_text()
    visit.check("20-backups")
    with page.expect_download() as download:
        row.get_by_role("link", name=f"Download {archive}").click()
    assert Path(download.value.path()).read_bytes() == (home / archive).read_bytes()

    # Restore one file after changing it.
    (home / "public_html" / "hello.txt").write_text("defaced\n")
    row.get_by_role("link", name=f"Restore from {archive}").click()
    page.get_by_label("Only one file or folder").check()
    page.get_by_label("File or folder to restore").fill("public_html/hello.txt")
    visit.check("21-restore")
    page.get_by_role("button", name="Restore files").click()
    assert "1 file" in page.get_by_role("status").inner_text()
    visit.check("22-restored")
    assert (home / "public_html" / "hello.txt").read_bytes() == b"Hello, edited in the browser\nSecond line\n"
    context.close()


def test_the_zone_editor_and_a_certificate_robots_token_in_the_browser(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, env = server
    nameserver = Settings(home=Path(env["HOSTPANEL_HOME"]), dns_listen=env["HOSTPANEL_DNS_LISTEN"])
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, base, PASSWORD, "bob")

    # Domains → Zone Editor: the zones, then one zone's records by type.
    page.get_by_role("link", name="Zone Editor").click()
    page.get_by_role("link", name="Manage the records of bob.test").click()
    assert page.get_by_role("heading", name="A records", exact=True).is_visible()
    assert page.get_by_role("row").filter(has_text="www.bob.test").first.is_visible()

    # Only the chosen type's data fields show; a bad address is refused beside its field, nothing changed.
    page.get_by_label("Type", exact=True).select_option("MX")
    assert page.get_by_label("Priority").is_visible() and not page.get_by_label("Address").is_visible()
    page.get_by_label("Type", exact=True).select_option("A")
    page.get_by_label("Name", exact=True).fill("shop")
    page.get_by_label("TTL (seconds)").fill("300")
    page.get_by_label("Address").fill("999.1.1.1")
    visit.check("23-zone-editor")
    page.get_by_role("button", name="Add record").click()
    assert "is not a valid IPv4 address" in page.locator("#address-error").inner_text()
    visit.check("24-zone-record-refused")
    assert served(nameserver, "shop.bob.test", "A") == []

    # Corrected: added, and the nameserver answers it when the page comes back.
    page.get_by_label("Address").fill("192.0.2.44")
    page.get_by_role("button", name="Add record").click()
    assert page.get_by_role("status").inner_text() == "The record was added. The nameserver serves it now."
    assert served(nameserver, "shop.bob.test", "A") == ["192.0.2.44"]
    row = page.get_by_role("row").filter(has_text="shop.bob.test")
    row.get_by_role("link", name="Edit").click()
    page.get_by_label("Address").fill("192.0.2.45")
    visit.check("25-zone-record-edit")
    page.get_by_role("button", name="Save record").click()
    assert page.get_by_role("status").inner_text() == "The record was changed. The nameserver serves the change now."
    assert served(nameserver, "shop.bob.test", "A", tcp=True) == ["192.0.2.45"]
    visit.check("26-zone-records")
    page.get_by_role("row").filter(has_text="shop.bob.test").get_by_role("button", name="Delete").click()
    assert page.get_by_role("status").inner_text() == "The record was deleted. The nameserver no longer serves it."
    assert served(nameserver, "shop.bob.test", "A") == []

    # A token for a certificate robot: one click, and it can only touch _acme-challenge TXT records.
    page.get_by_role("link", name="API Tokens").click()
    page.get_by_role("link", name="Create token").click()
    page.get_by_label("Name", exact=True).fill("certbot")
    page.get_by_label("In 90 days").check()
    page.get_by_label("Only certificate challenges").check()
    assert page.get_by_label("Read and write: dns").is_checked()
    visit.check("27-token-certificate-challenges")
    page.get_by_role("button", name="Create token").click()
    assert "certificate challenges in DNS" in page.locator("dl.facts").inner_text()
    token = page.get_by_label("Your new API token").input_value()
    with httpx.Client(verify=False, timeout=10) as client:
        call = {"cpanel_jsonapi_apiversion": "2", "cpanel_jsonapi_module": "ZoneEdit", "domain": "bob.test"}
        headers = {"Authorization": f"cpanel bob:{token}"}
        added = client.get(
            f"{base}/json-api/cpanel",
            params={**call, "cpanel_jsonapi_func": "add_zone_record", "name": "_acme-challenge", "type": "TXT",
                    "txtdata": "browser-made", "ttl": "60"},
            headers=headers,
        ).json()["cpanelresult"]  # fmt: skip
        assert added["data"][0]["result"]["status"] == 1
        refused = client.get(
            f"{base}/json-api/cpanel",
            params={
                **call,
                "cpanel_jsonapi_func": "add_zone_record",
                "name": "www",
                "type": "A",
                "address": "192.0.2.66",
            },
            headers=headers,
        ).json()["cpanelresult"]
        assert "may only change DNS records named _acme-challenge" in refused["error"]
    assert served(nameserver, "_acme-challenge.bob.test", "TXT") == ["browser-made"]
    context.close()


def test_the_domains_page_adds_and_removes_sites_served_by_nginx(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, env = server
    settings = Settings(
        home=Path(env["HOSTPANEL_HOME"]),
        dns_listen=env["HOSTPANEL_DNS_LISTEN"],
        http_listen=env["HOSTPANEL_HTTP_LISTEN"],
    )
    shop = settings.homes_dir / "bob" / "public_html" / "shop"
    shop.mkdir(parents=True, exist_ok=True)
    (shop / "index.html").write_text("bob's shop")
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 860})
    visit = Visit(context.new_page())
    page = visit.page
    sign_in(visit, base, PASSWORD, "bob")

    # Domains: the main domain, served from public_html.
    page.get_by_role("link", name="Domains", exact=True).click()
    assert page.get_by_role("row").filter(has_text="bob.test").filter(has_text="Main domain").is_visible()
    visit.check("50-domains")

    # A document root outside the home is refused beside its field; nothing is served.
    page.get_by_label("Subdomain", exact=True).fill("shop")
    page.get_by_label("Document root").first.fill("../alice/public_html")
    page.get_by_role("button", name="Add subdomain").click()
    assert "outside your home directory" in page.locator("#dir-error").inner_text()
    visit.check("51-subdomain-refused")
    assert fetch(settings, "shop.bob.test")[0] == 404

    # Corrected: served by nginx (and in the zone) when the page comes back.
    page.get_by_label("Document root").first.fill("public_html/shop")
    page.get_by_role("button", name="Add subdomain").click()
    assert page.get_by_role("status").inner_text().startswith("The subdomain was added.")
    assert fetch(settings, "shop.bob.test") == (200, "bob's shop")
    assert served(settings, "shop.bob.test", "A") == ["127.0.0.1"]
    visit.check("52-subdomain-added")

    # An addon domain: its own zone and folder.
    page.get_by_label("Domain", exact=True).last.fill("bobs-books.test")
    page.get_by_role("button", name="Add domain").click()
    assert page.get_by_role("status").inner_text().startswith("The domain was added")
    assert fetch(settings, "bobs-books.test")[0] == 403  # served: its new folder has no page yet
    assert served(settings, "bobs-books.test", "A") == ["127.0.0.1"]
    visit.check("53-domain-added")

    page.get_by_role("row").filter(has_text="shop.bob.test").get_by_role("button", name="Remove").click()
    assert page.get_by_role("status").inner_text().startswith("The domain was removed.")
    assert fetch(settings, "shop.bob.test")[0] == 404 and (shop / "index.html").exists()
    visit.check("54-domain-removed")
    context.close()


def test_the_login_page_refuses_to_be_framed_or_run_inline_code(
    server: tuple[str, dict[str, str]], browser: Browser
) -> None:
    base, _ = server
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    reports: list[str] = []
    page.on("console", lambda message: reports.append(message.text))
    page.goto(base + "/")
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<img src=x onerror=\"window.pwned=1\">')")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None  # an injected handler does not run
    assert any("Content Security Policy" in report for report in reports)
    page.set_content(f'<iframe id="f" src="{base}/"></iframe>')
    page.wait_for_timeout(1000)
    frame = page.frame_locator("#f")
    assert frame.locator("input[type=password]").count() == 0  # the browser refused to frame it
    assert re.search(r"frame-ancestors 'none'", httpx.get(base + "/", verify=False).headers["content-security-policy"])
    context.close()
