"""Every state-changing form is refused without this browser's CSRF token, or when another site sent it."""

from __future__ import annotations

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from hostpanel.api.leaks import PATH as LEAKS_PATH
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from tests.conftest import PASSWORD, FakeClock, make_token
from tests.web.conftest import Browser, enable_two_factor

# A form that would change something on each POST route, were the request accepted.
FORMS = {
    "/login": {"username": "alice", "password": PASSWORD},
    "/login/code": {"code": "123456"},
    "/logout": {},
    "/security/confirm": {"password": PASSWORD},
    "/security/tokens/new": {"name": "planted", "expiry": "never", "access": "full"},
    "/security/tokens/rename": {"name": "victim", "new_name": "renamed"},
    "/security/tokens/revoke": {"name": "victim"},
    "/security/tokens/expired": {},
    "/security/two-factor/setup": {"secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "code": "123456"},
    "/security/two-factor/recovery-codes": {},
    "/security/two-factor/disable": {"password": PASSWORD, "code": "123456"},
    "/security/password": {
        "current_password": PASSWORD,
        "new_password": "Planted-Long-Passphrase-1",
        "confirm_password": "Planted-Long-Passphrase-1",
        "revoke_tokens": "1",
    },
    "/security/sessions/end-others": {},
}


# Not web forms: the API (token header, no cookies) and the public leaked-token report (no credentials at all).
NOT_FORMS = ("/execute/", LEAKS_PATH)


def post_routes(client: TestClient) -> list[str]:
    return sorted(
        route.path
        for route in client.app.routes  # type: ignore[attr-defined]
        if isinstance(route, Route)
        and "POST" in (route.methods or ())
        and not any(part in route.path for part in NOT_FORMS)
    )


def test_every_post_route_is_covered_here(client: TestClient) -> None:
    assert post_routes(client) == sorted(FORMS)


def audit_count(container: Container) -> int:
    with container.uow(write=False) as uow:
        return len(uow.audit.query(AuditQuery(limit=10_000)))


@pytest.mark.parametrize(
    ("attack", "path"),
    [(attack, path) for attack in ("missing", "other-session", "cross-site", "foreign-origin") for path in FORMS],
)
def test_forged_posts_are_refused_and_change_nothing(
    browser: Browser,
    second_browser: Browser,
    container: Container,
    alice: Account,
    clock: FakeClock,
    attack: str,
    path: str,
) -> None:
    make_token(container, alice, "victim")
    if path == "/login/code":  # only a half-signed-in session may post a code
        enable_two_factor(container, alice, clock)
    second_browser.sign_in()
    if path != "/login":
        browser.sign_in()
    else:
        browser.get("/login")
    states = [b.client.get("/security/tokens", follow_redirects=False).status_code for b in (browser, second_browser)]
    before = audit_count(container)
    headers = {}
    data = dict(FORMS[path])
    if attack == "missing":
        data["csrf_token"] = ""
    elif attack == "other-session":
        data["csrf_token"] = second_browser.token
    else:
        data["csrf_token"] = browser.token
        headers = {"sec-fetch-site": "cross-site"} if attack == "cross-site" else {"origin": "https://evil.test"}
    response = browser.client.post(path, data=data, headers=headers, follow_redirects=False)
    assert response.status_code == 403, response.text[:300]
    assert "This form has expired" in response.text
    assert audit_count(container) == before
    with container.uow(write=False) as uow:
        assert uow.tokens.get_by_name(alice.id, "victim") is not None
        assert uow.tokens.get_by_name(alice.id, "planted") is None
    after = [b.client.get("/security/tokens", follow_redirects=False).status_code for b in (browser, second_browser)]
    assert after == states  # nobody was signed in or out
