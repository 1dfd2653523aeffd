"""Files → Backups: start a backup and follow it through the JSON answer, list, download, restore (all or one path,
after a confirmation, in sudo mode), and the refusals."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from httpx import Response

from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.principal import Principal
from tests.factories import PASSWORD, Browser, FakeClock, make_account

NAME = re.compile(r"backup-\d{1,2}\.\d{1,2}\.\d{4}_\d{2}-\d{2}-\d{2}_alice\.tar\.gz")


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    path = container.homes.path_for(alice.username)
    (path / "public_html" / "index.html").write_text("<h1>the site</h1>")
    (path / "etc" / "app.conf").write_text("key=1\n")
    return path


def field_error(page: Response, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page.text)
    return found.group(1) if found else ""


def wait(browser: Browser, job: str) -> dict[str, Any]:
    """What the page's script sees, polled until the job is no longer running."""
    deadline = time.monotonic() + 30
    while True:
        response = browser.client.get(f"/backups/status.json?job={job}")
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        status: dict[str, Any] = response.json()
        if status["status"] != "running" or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


def back_up(browser: Browser) -> tuple[str, dict[str, Any]]:
    browser.get("/backups")
    started = browser.post("/backups/new")
    assert "The backup has started." in started.text
    job = started.url.params["job"]
    return job, wait(browser, job)


def test_a_backup_runs_in_the_background_with_its_progress_on_the_page(
    browser: Browser, container: Container, home: Path
) -> None:
    browser.sign_in()
    assert "No backups yet." in browser.get("/backups").text
    job, status = back_up(browser)
    assert status["status"] == "complete" and status["percent"] == 100.0, status
    assert status["files_done"] == status["files_total"] == 2 and NAME.fullmatch(status["file"])
    assert status["size_text"].endswith(("bytes", "KB")) and status["size"] == (home / status["file"]).stat().st_size
    page = browser.get(f"/backups?job={job}")
    assert (
        f'data-backup-job="{job}"' in page.text
        and '<progress id="backup-progress" max="100" value="100.0"' in page.text
    )
    assert "Complete: 2 files backed up." in page.text
    row = page.text.split(f'<th scope="row" class="name">{status["file"]}</th>', 1)[1].split("</tr>", 1)[0]
    assert "Complete" in row and status["size_text"] in row and "Restore" in row and "UTC" in row
    with container.uow(write=False) as uow:
        actions = [event.action.value for event in uow.audit.query(AuditQuery(limit=100))]
    assert {"account:backup:create", "account:backup:finish"} <= set(actions)


def test_one_backup_at_a_time_and_jobs_of_others_stay_hidden(
    browser: Browser, container: Container, home: Path, clock: FakeClock
) -> None:
    bob = make_account(container, "bob")
    with container.uow() as uow:
        bobs = container.backups(Principal.admin(bob), uow).start()
        uow.commit()
    browser.sign_in()
    back_up(browser)
    again = browser.post("/backups/new")  # the same second: the name is taken
    assert again.status_code == 400 and "already exists: try again in a second" in again.text
    assert browser.client.get(f"/backups/status.json?job={bobs.job.id}").status_code == 404
    assert browser.client.get("/backups/status.json?job=x").status_code == 404
    assert browser.client.get(f"/backups?job={bobs.job.id}").text.count("data-backup-job") == 0
    bobs.staged.discard()
    clock.advance(1)
    second = browser.post("/backups/new")
    assert second.status_code == 200 and wait(browser, second.url.params["job"])["status"] == "complete"


def test_download_an_archive_and_only_an_archive(browser: Browser, home: Path) -> None:
    browser.sign_in()
    _, status = back_up(browser)
    response = browser.get(f"/backups/download?file={status['file']}")
    assert response.status_code == 200 and response.content == (home / status["file"]).read_bytes()
    assert response.headers["content-disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "name", ["../../hostpanel.db", "public_html/index.html", "backup-1.1.2027_00-00-00_bob.tar.gz"]
)
def test_only_an_archive_of_the_account_is_downloaded(browser: Browser, alice: Account, name: str) -> None:
    browser.sign_in()
    refused = browser.get("/backups/download", params={"file": name})
    assert refused.status_code == 400 and "is not a backup of this account" in refused.text


def test_restore_everything_or_one_path_after_a_confirmation(
    browser: Browser, container: Container, home: Path
) -> None:
    browser.sign_in()
    _, status = back_up(browser)
    archive = status["file"]
    (home / "public_html" / "index.html").write_text("defaced")
    (home / "etc" / "app.conf").write_text("changed\n")
    (home / "public_html" / "new.html").write_text("made after the backup")
    confirm = browser.get(f"/backups/restore?file={archive}")
    assert f"Restore files from <code>{archive}</code>?" in confirm.text and 'value="all" checked' in confirm.text
    one = browser.post("/backups/restore", {"file": archive, "what": "path", "path": "public_html/index.html"})
    assert (
        one.status_code == 200
        and "Files restored" in one.text
        and "only <code>public_html/index.html</code>" in one.text
    )
    assert (home / "public_html" / "index.html").read_text() == "<h1>the site</h1>"
    assert (home / "etc" / "app.conf").read_text() == "changed\n"
    everything = browser.post("/backups/restore", {"file": archive, "what": "all"})
    assert "2 files" in everything.text, everything.text[-900:]
    assert (home / "etc" / "app.conf").read_text() == "key=1\n"
    assert (home / "public_html" / "new.html").exists()  # what the backup does not hold stays
    with container.uow(write=False) as uow:
        restores = [e for e in uow.audit.query(AuditQuery(limit=100)) if e.action.value == "account:backup:restore"]
    assert [event.details["path"] for event in restores] == ["~", "public_html/index.html"]


def test_restore_refusals_are_shown_beside_the_path_or_atop_the_form(browser: Browser, home: Path) -> None:
    browser.sign_in()
    _, status = back_up(browser)
    archive = status["file"]
    browser.get(f"/backups/restore?file={archive}")
    empty = browser.post("/backups/restore", {"file": archive, "what": "path", "path": " "})
    assert empty.status_code == 400 and "Enter the file or folder to restore" in field_error(empty, "path")
    outside = browser.post("/backups/restore", {"file": archive, "what": "path", "path": "../../etc"})
    assert outside.status_code == 400 and "outside your home directory" in field_error(outside, "path")
    foreign = browser.post("/backups/restore", {"file": "../" + archive, "what": "all"})
    assert foreign.status_code == 400 and "is not a backup of this account" in foreign.text
    missing = browser.get("/backups/restore?file=backup-1.1.2027_00-00-00_alice.tar.gz")
    assert missing.status_code == 400 and "There is no backup named" in missing.text
    damaged = home / "backup-1.1.2027_00-00-00_alice.tar.gz"
    damaged.write_bytes(b"not an archive")
    (home / "public_html" / "index.html").write_text("kept")
    refused = browser.post("/backups/restore", {"file": damaged.name, "what": "all"})
    assert refused.status_code == 400 and '<div class="alert" role="alert">' in refused.text
    assert (home / "public_html" / "index.html").read_text() == "kept"


def test_restoring_needs_a_recent_password(browser: Browser, home: Path, clock: FakeClock) -> None:
    browser.sign_in()
    _, status = back_up(browser)
    clock.advance(11 * 60)
    asked = browser.client.get(f"/backups/restore?file={status['file']}", follow_redirects=False)
    assert asked.status_code == 303 and asked.headers["location"].startswith(
        "/security/confirm?next=%2Fbackups%2Frestore"
    )
    posted = browser.client.post(
        "/backups/restore", data={"csrf_token": browser.token, "file": status["file"]}, follow_redirects=False
    )
    assert posted.status_code == 303 and posted.headers["location"] == "/security/confirm?next=%2Fbackups%2Frestore"
    browser.get("/security/confirm")
    browser.post("/security/confirm", {"password": PASSWORD, "next": "/backups"})
    assert browser.get(f"/backups/restore?file={status['file']}").status_code == 200


def test_backups_are_refused_when_the_feature_is_off(browser: Browser, container: Container, home: Path) -> None:
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["backup"], [])
        uow.commit()
    browser.sign_in()
    page = browser.get("/backups")
    assert page.status_code == 403 and "You do not have the feature “backup”." in page.text
    assert 'href="/backups"' not in page.text
    assert browser.post("/backups/new").status_code == 403
    assert browser.client.get("/backups/status.json?job=1").status_code == 403
    assert not [name for name in home.iterdir() if NAME.fullmatch(name.name)]
