"""Security → Password: change it, see the server's reasons, other sessions end, optionally every token goes."""

from __future__ import annotations

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from tests.factories import PASSWORD, Browser, auth, make_token

NEW = "Fresh-Long-Passphrase-42"


def change(browser: Browser, current: str, new: str, again: str | None = None, revoke: bool = False) -> str:
    form = {"current_password": current, "new_password": new, "confirm_password": again or new}
    if revoke:
        form["revoke_tokens"] = "1"
    return browser.post("/security/password", form).text


def test_refusals_say_why(browser: Browser, alice: Account) -> None:
    browser.sign_in()
    browser.get("/security/password")
    assert "The current password is incorrect." in change(browser, "wrong", NEW)
    assert "The two new passwords are not the same." in change(browser, PASSWORD, NEW, NEW + "x")
    assert "You cannot reuse the old password." in change(browser, PASSWORD, PASSWORD)
    weak = change(browser, PASSWORD, "password1234")
    assert "The password is too weak: This is a very common password." in weak, weak[-3000:]
    assert "may not contain the username" in change(browser, PASSWORD, "alice-Correct-Horse-77")


def test_a_change_signs_out_other_sessions_and_keeps_this_one(
    browser: Browser, second_browser: Browser, container: Container, alice: Account
) -> None:
    issued = make_token(container, alice, "keep")
    second_browser.sign_in()
    browser.sign_in()
    assert "signed in 1 other time" in browser.get("/security/password").text
    page = change(browser, PASSWORD, NEW)
    assert "1 other session signed out." in page
    assert browser.get("/security/tokens", follow_redirects=False).status_code == 200
    assert second_browser.get("/security/tokens", follow_redirects=False).status_code == 303
    assert browser.client.get("/execute/Tokens/list", headers=auth("alice", issued.secret)).status_code == 200
    browser.post("/logout")
    assert browser.sign_in(password=NEW).url.path == "/security/tokens"


def test_the_checkbox_revokes_every_token_too(browser: Browser, container: Container, alice: Account) -> None:
    issued = make_token(container, alice, "gone")
    browser.sign_in()
    browser.get("/security/password")
    assert "1 API token revoked." in change(browser, PASSWORD, NEW, revoke=True)
    assert browser.client.get("/execute/Tokens/list", headers=auth("alice", issued.secret)).status_code == 401


def test_sign_out_other_sessions(browser: Browser, second_browser: Browser, alice: Account) -> None:
    second_browser.sign_in()
    browser.sign_in()
    browser.get("/security/password")
    page = browser.post("/security/sessions/end-others")
    assert "Every other session was signed out." in page.text and "not signed in anywhere else" in page.text
    assert second_browser.get("/security/tokens", follow_redirects=False).status_code == 303
