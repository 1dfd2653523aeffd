"""Security → Two-Factor Authentication: set-up with a QR code, recovery codes, removal."""

from __future__ import annotations

import re

import pyotp

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import PASSWORD, Browser, FakeClock, enable_two_factor

SECRET = re.compile(r'name="secret" value="([A-Z2-7]+)"')
CODES = re.compile(r"<li><code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code></li>")


def test_setup_shows_a_qr_code_and_the_secret_and_needs_a_code(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    browser.sign_in()
    assert "Off" in browser.get("/security/two-factor").text
    page = browser.get("/security/two-factor/setup")
    secret = SECRET.search(page.text)
    assert secret and 'src="data:image/svg+xml' in page.text
    assert " ".join(secret.group(1)[i : i + 4] for i in range(0, 32, 4)) in page.text  # typed by hand, in groups
    wrong = browser.post("/security/two-factor/setup", {"secret": secret.group(1), "code": "000000"})
    assert wrong.status_code == 400 and "The security code is invalid." in wrong.text
    assert secret.group(1) in wrong.text  # the same secret again: the app already has it
    with container.uow(write=False) as uow:
        assert not container.twofactor(uow).is_enabled(alice)
    done = browser.post(
        "/security/two-factor/setup", {"secret": secret.group(1), "code": pyotp.TOTP(secret.group(1)).at(clock.now())}
    )
    codes = CODES.findall(done.text)
    assert len(set(codes)) == 10 and "You will not see them again" in done.text
    assert done.headers["cache-control"] == "no-store"
    status = browser.get("/security/two-factor")
    assert "10 of 10 recovery codes left" in status.text and not CODES.findall(status.text)


def test_new_recovery_codes_replace_the_old(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    app, old = enable_two_factor(container, alice, clock)
    browser.sign_in()
    browser.post("/login/code", {"code": app.at(clock.now())})
    browser.get("/security/two-factor/recovery-codes")
    new = CODES.findall(browser.post("/security/two-factor/recovery-codes").text)
    assert len(new) == 10 and not set(new) & set(old)
    browser.post("/logout")
    browser.sign_in()
    assert browser.post("/login/code", {"code": old[0]}).status_code == 400
    assert browser.post("/login/code", {"code": new[0]}).url.path == "/security/tokens"


def test_turning_off_needs_the_password_and_a_code(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    app, _ = enable_two_factor(container, alice, clock)
    browser.sign_in()
    browser.post("/login/code", {"code": app.at(clock.now())})
    clock.advance(30)
    browser.get("/security/two-factor/disable")
    assert browser.post("/security/two-factor/disable", {"password": PASSWORD, "code": "000000"}).status_code == 400
    assert (
        browser.post("/security/two-factor/disable", {"password": "wrong", "code": app.at(clock.now())}).status_code
        == 400
    )
    done = browser.post("/security/two-factor/disable", {"password": PASSWORD, "code": app.at(clock.now())})
    assert "Two-factor authentication is off." in done.text
    browser.post("/logout")
    assert browser.sign_in().url.path == "/security/tokens"  # the password alone again
