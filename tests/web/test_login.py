"""Signing in and out of the web interface: uniform refusals, two-factor codes, cookies, timeouts, sudo mode."""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.factories import PASSWORD, Browser, FakeClock, enable_two_factor


class InlineCode(HTMLParser):
    """Finds what the Content-Security-Policy forbids: inline scripts, style blocks and attributes, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if (tag == "script" and "src" not in names) or tag == "style":
            self.found.append(tag)
        self.found += [f"{tag}[{name}]" for name in names if name == "style" or name.startswith("on")]


def test_the_home_page_is_the_sign_in_form_hardened(browser: Browser) -> None:
    page = browser.get("/")
    assert page.status_code == 200 and 'type="password"' in page.text and browser.token
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    parser = InlineCode()
    parser.feed(page.text)
    assert parser.found == []


def test_wrong_password_and_unknown_user_get_the_same_answer(
    browser: Browser, container: Container, alice: Account
) -> None:
    answers = []
    for username, password in (("alice", "not the password"), ("nobody", PASSWORD)):
        browser.get("/login")
        page = browser.post("/login", {"username": username, "password": password})
        answers.append((page.status_code, page.text.replace(browser.token, "").replace(username, "USER")))
    assert answers[0] == answers[1]
    assert answers[0][0] == 400 and "The username or password is incorrect." in answers[0][1]
    with container.uow(write=False) as uow:
        failures = uow.audit.query(AuditQuery(actions=("account:login:failure",)))
    assert {(e.username, e.ip) for e in failures} == {("alice", "testclient"), ("nobody", "testclient")}


def test_failed_sign_ins_are_slowed(settings: Settings, clock: FakeClock, alice: Account) -> None:
    slowed = Container(settings.model_copy(update={"login_failure_delay_seconds": 0.2}), clock)
    with TestClient(create_app(slowed), base_url="https://testserver") as client:
        browser = Browser(client)
        timings = []
        for _ in range(2):
            browser.get("/login")
            started = time.perf_counter()
            browser.post("/login", {"username": "alice", "password": "wrong"})
            timings.append(time.perf_counter() - started)
    slowed.close()
    assert timings[0] >= 0.2 and timings[1] >= 0.4


def test_session_cookie_is_host_only_secure_httponly_and_strict(browser: Browser, alice: Account) -> None:
    page = browser.sign_in()
    assert page.status_code == 200 and "API Tokens" in page.text
    cookies = [h for h in page.history[0].headers.get_list("set-cookie") if h.startswith("__Host-hostpanel=")]
    assert len(cookies) == 1
    flags = {part.strip().lower() for part in cookies[0].split(";")[1:]}
    assert {"httponly", "secure", "path=/", "samesite=strict"} <= flags
    assert not any(flag.startswith(("domain", "max-age", "expires")) for flag in flags)


def test_signed_out_visitors_are_sent_to_sign_in_and_back(browser: Browser, alice: Account) -> None:
    page = browser.get("/security/activity", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=%2Fsecurity%2Factivity"
    browser.get(page.headers["location"])
    landed = browser.post("/login", {"username": "alice", "password": PASSWORD, "next": "/security/activity"})
    assert landed.url.path == "/security/activity"


@pytest.mark.parametrize("target", ["https://evil.test/", "//evil.test/", "/\\evil.test", "javascript:alert(1)"])
def test_the_return_address_stays_on_this_site(browser: Browser, alice: Account, target: str) -> None:
    browser.get("/login")
    page = browser.post("/login", {"username": "alice", "password": PASSWORD, "next": target}, follow_redirects=False)
    assert page.headers["location"] == "/security/tokens"


@pytest.mark.parametrize("target", ["/\t/evil.test", "/\n/evil.test", "/\r\n/evil.test", "/ /evil.test", "/\x00//x"])
def test_control_characters_cannot_turn_the_return_address_into_another_site(
    browser: Browser, alice: Account, target: str
) -> None:
    """Browsers drop tabs and newlines from a URL before reading it, so `/<TAB>/evil.test` would be `//evil.test`."""
    browser.get("/login")
    page = browser.post("/login", {"username": "alice", "password": PASSWORD, "next": target}, follow_redirects=False)
    location = page.headers["location"]
    as_read = re.sub(r"[\t\n\r]", "", location)
    assert urljoin("https://testserver/login", as_read).startswith("https://testserver/"), location


def test_signing_out_kills_the_session_on_the_server(browser: Browser, alice: Account) -> None:
    browser.sign_in()
    stolen = dict(browser.client.cookies)
    browser.post("/logout")
    assert browser.get("/security/tokens", follow_redirects=False).status_code == 303
    browser.client.cookies.update(stolen)  # a copy of the old cookie, replayed
    assert browser.get("/security/tokens", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_ignored(browser: Browser, alice: Account) -> None:
    browser.sign_in()
    value = browser.client.cookies["__Host-hostpanel"]
    forged = ("B" if value[0] == "A" else "A") + value[1:]  # one character changed, whatever it was
    browser.client.cookies.clear()
    browser.client.cookies.set("__Host-hostpanel", forged)
    assert browser.get("/security/tokens", follow_redirects=False).status_code == 303


def test_idle_sessions_end(browser: Browser, alice: Account, clock: FakeClock, container: Container) -> None:
    browser.sign_in()
    clock.advance(container.session_policy.idle_seconds - 10)
    assert browser.get("/security/tokens", follow_redirects=False).status_code == 200
    clock.advance(container.session_policy.idle_seconds + 1)
    page = browser.get("/security/tokens")
    assert page.url.path == "/login" and "Your session has ended" in page.text


def test_sessions_end_at_their_lifetime_however_busy(
    browser: Browser, alice: Account, clock: FakeClock, container: Container
) -> None:
    browser.sign_in()
    for _ in range(int(container.session_policy.lifetime_seconds // 1200)):
        clock.advance(1200)
        assert browser.get("/security/activity", follow_redirects=False).status_code == 200
    clock.advance(1200)
    assert browser.get("/security/activity", follow_redirects=False).status_code == 303


def test_two_factor_sign_in_needs_a_fresh_code(
    browser: Browser, alice: Account, clock: FakeClock, container: Container
) -> None:
    app, codes = enable_two_factor(container, alice, clock)
    page = browser.sign_in()
    assert page.url.path == "/login/code"
    assert browser.get("/security/tokens").url.path == "/login/code"  # half signed in: nothing else is open
    wrong = browser.post("/login/code", {"code": "000000"})
    assert wrong.status_code == 400 and "The code is not valid" in wrong.text
    code = app.at(clock.now())
    assert browser.post("/login/code", {"code": code}).url.path == "/security/tokens"
    browser.post("/logout")
    browser.sign_in()
    assert browser.post("/login/code", {"code": code}).status_code == 400  # the same code, replayed
    assert browser.post("/login/code", {"code": codes[0]}).url.path == "/security/tokens"


def test_a_half_signed_in_session_expires(
    browser: Browser, alice: Account, clock: FakeClock, container: Container
) -> None:
    app, _ = enable_two_factor(container, alice, clock)
    browser.sign_in()
    clock.advance(container.session_policy.second_factor_seconds + 30)
    page = browser.post("/login/code", {"code": app.at(clock.now())})
    assert page.url.path == "/login"


def test_sudo_mode_lapses_after_ten_minutes(
    browser: Browser, alice: Account, clock: FakeClock, container: Container
) -> None:
    browser.sign_in()
    assert browser.get("/security/tokens/new").url.path == "/security/tokens/new"  # signing in counts
    clock.advance(601)
    page = browser.get("/security/tokens/new")
    assert page.url.path == "/security/confirm" and 'name="code"' not in page.text
    refused = browser.post("/security/confirm", {"password": "wrong", "next": "/security/tokens/new"})
    assert refused.status_code == 400
    page = browser.post("/security/confirm", {"password": PASSWORD, "next": "/security/tokens/new"})
    assert page.url.path == "/security/tokens/new"
    created = browser.post("/security/tokens/new", {"name": "late", "expiry": "7", "access": "full"})
    assert "Token “late” created" in created.text


def test_sudo_needs_the_code_too_when_two_factor_is_on(
    browser: Browser, alice: Account, clock: FakeClock, container: Container
) -> None:
    app, _ = enable_two_factor(container, alice, clock)
    browser.sign_in()
    browser.post("/login/code", {"code": app.at(clock.now())})
    clock.advance(601)
    page = browser.get("/security/password")
    assert page.url.path == "/security/confirm" and 'name="code"' in page.text
    assert browser.post("/security/confirm", {"password": PASSWORD, "code": "000000"}).status_code == 400
    ok = browser.post(
        "/security/confirm", {"password": PASSWORD, "code": app.at(clock.now()), "next": "/security/password"}
    )
    assert ok.url.path == "/security/password"
    with container.uow(write=False) as uow:
        actions = [e.action.value for e in uow.audit.query(AuditQuery(account_id=alice.id, limit=2))]
    assert actions == ["account:sudo:success", "account:sudo:failure"]


def test_repeated_failures_lock_the_address_out_as_cphulk_does(
    browser: Browser, container: Container, alice: Account, clock: FakeClock
) -> None:
    for _ in range(5):
        assert browser.sign_in("alice", "not the password").status_code == 400
    locked = browser.sign_in("alice", PASSWORD)  # even the right password, from this address
    assert locked.status_code == 429 and 0 < int(locked.headers["retry-after"]) <= 900
    assert "Too many failed login attempts" in locked.text
    stranger = browser.sign_in("nobody", PASSWORD)
    assert stranger.status_code == 429
    assert stranger.text.replace("nobody", "USER").replace(browser.token, "") == locked.text.replace(
        "alice", "USER"
    ).replace(browser.token, "")
    with container.uow(write=False) as uow:
        assert uow.audit.query(AuditQuery(actions=("account:auth:lockout",)))
    clock.advance(901)
    signed_in = browser.sign_in("alice", PASSWORD)
    assert signed_in.status_code == 200 and signed_in.url.path == "/security/tokens"
