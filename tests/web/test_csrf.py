"""Every state-changing form is refused without this browser's CSRF token, or when another site sent it."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from hostpanel.api.leaks import PATH as LEAKS_PATH
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.principal import Principal
from tests.factories import PASSWORD, Browser, FakeClock, enable_two_factor, make_token

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
    "/security/tokens/rotate": {"name": "victim", "grace_period": "0"},
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
    "/files/upload": {"dir": "public_html"},  # multipart uploads are attacked in test_files.py too
    "/files/mkdir": {"dir": "", "name": "planted"},
    "/files/move": {"path": "public_html", "new_path": "moved"},
    "/files/trash": {"path": "public_html"},
    "/files/delete": {"path": "public_html"},
    "/files/empty-trash": {},
    "/files/edit": {"path": "planted.txt", "charset": "utf-8", "content": "planted"},
    "/email/accounts/new": {
        "local_part": "planted",
        "domain": "alice.test",
        "password": "Planted-Long-Passphrase-1",
        "confirm_password": "Planted-Long-Passphrase-1",
    },
    "/email/accounts/password": {
        "address": "victim@alice.test",
        "password": "Planted-Long-Passphrase-1",
        "confirm_password": "Planted-Long-Passphrase-1",
    },
    "/email/accounts/quota": {"address": "victim@alice.test", "quota": "1"},
    "/email/accounts/delete": {"address": "victim@alice.test"},
    "/email/forwarders/new": {"local_part": "victim", "domain": "alice.test", "destination": "thief@example.net"},
    "/email/forwarders/delete": {"address": "victim@alice.test", "destination": "boss@example.net"},
    "/backups/new": {},
    # The zone's current serial is filled in below: each would be applied, were it accepted.
    "/domains/zone-editor/add": {
        "zone": "alice.test",
        "serial": "",
        "type": "A",
        "name": "planted",
        "ttl": "60",
        "address": "192.0.2.66",
    },
    "/domains/zone-editor/edit": {
        "zone": "alice.test",
        "serial": "",
        "line": "11",
        "type": "A",
        "name": "www",
        "ttl": "60",
        "address": "192.0.2.66",
    },
    "/domains/zone-editor/delete": {"zone": "alice.test", "serial": "", "line": "11"},
    "/backups/restore": {"what": "all"},  # the file: a real archive made by the test
    "/domains/subdomains/add": {"subdomain": "planted", "rootdomain": "alice.test", "dir": ""},
    "/domains/subdomains/remove": {"domain": "planted.alice.test"},
    "/domains/addon/add": {"newdomain": "planted.test", "addon_dir": ""},
    "/domains/addon/remove": {"domain": "planted.test"},
    # Refused for want of a CSRF token before the certificate is judged.
    "/domains/ssl/install": {"domain": "alice.test", "cert": "planted", "key": "planted", "cabundle": ""},
    "/domains/ssl/delete": {"domain": "alice.test"},
}


# Not web forms: the API (token header, no cookies) and the public leaked-token report (no credentials at all).
NOT_FORMS = ("/execute/", "/json-api/", LEAKS_PATH)


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


def plant_victims(container: Container, account: Account) -> Path:
    """What the file, mail and backup forms would change: a file in the trash, a mailbox, a forwarder."""
    home = container.homes.path_for(account.username)
    (home / ".trash").mkdir()
    (home / ".trash" / "kept.txt").write_text("kept")
    with container.uow() as uow:
        mail = container.mail(Principal.admin(account), uow)
        mail.add_mailbox("victim", "alice.test", "Quiet-Mailbox-Passphrase-7", 0)
        mail.add_forwarders("victim", "alice.test", ["boss@example.net"])
        uow.commit()
    return home


def tree(home: Path) -> dict[str, bytes | None]:
    """Every path below the home with the content of its files."""
    return {str(p.relative_to(home)): p.read_bytes() if p.is_file() else None for p in sorted(home.rglob("*"))}


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
    home = plant_victims(container, alice)
    if path == "/backups/restore":  # a real archive, and a change since that a restore would undo
        with container.uow() as uow:
            prepared = container.backups(Principal.admin(alice), uow).start()
            uow.commit()
        container.backup_runner.run(prepared)
        (home / ".trash" / "kept.txt").write_text("changed since the backup")
    with container.uow(write=False) as uow:
        victim = uow.mail.get_mailbox(alice.id, "alice.test", "victim")
        jobs = uow.backups.all(alice.id)
    assert victim is not None
    if path == "/login/code":  # only a half-signed-in session may post a code
        enable_two_factor(container, alice, clock)
    second_browser.sign_in()
    if path != "/login":
        browser.sign_in()
    else:
        browser.get("/login")
    states = [b.client.get("/security/tokens", follow_redirects=False).status_code for b in (browser, second_browser)]
    before = audit_count(container)
    files_before = tree(home)
    headers = {}
    data = dict(FORMS[path])
    if jobs:
        data["file"] = jobs[0].file
    if "serial" in data:
        with container.uow(write=False) as uow:
            zone = uow.zones.get("alice.test")
        assert zone is not None
        data["serial"] = str(zone.serial)
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
    assert tree(home) == files_before
    with container.uow(write=False) as uow:
        assert uow.mail.get_mailbox(alice.id, "alice.test", "victim") == victim
        assert [f.destination for f in uow.mail.forwarders(alice.id)] == ["boss@example.net"]
        assert uow.backups.all(alice.id) == jobs
