"""Backup over HTTP with a token: a background job, its progress, the archive it leaves, and verified restores."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.audit.model import AuditQuery
from hostpanel.domain.errors import Conflict
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.modules import default_registry
from tests.factories import PASSWORD, Calls, FakeClock, Inbox, make_account, make_token

NAME = re.compile(r"backup-\d{1,2}\.\d{1,2}\.\d{4}_\d{2}-\d{2}-\d{2}_alice\.tar\.gz")


class Api(Calls):
    """Backup's functions called with one token, Fileman's beside them, and waiting for a job to end."""

    def __init__(self, client: TestClient, secret: str) -> None:
        super().__init__(client, secret, "Backup")
        self.fileman = Calls(client, secret, "Fileman")

    def wait(self, pid: str) -> dict[str, Any]:
        """The job's status once it is no longer running."""
        deadline = time.monotonic() + 30
        while True:
            status: dict[str, Any] = self.post("backup_status", pid=pid)["data"]
            if status["status"] != "running" or time.monotonic() > deadline:
                return status
            time.sleep(0.05)


@pytest.fixture
def api(client: TestClient, alice_token: IssuedToken) -> Api:
    return Api(client, alice_token.secret)


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    return container.homes.path_for(alice.username)


def fill(home: Path) -> None:
    (home / "public_html" / "index.html").write_text("<h1>site</h1>")
    (home / "public_html" / "img").mkdir()
    (home / "public_html" / "img" / "logo.bin").write_bytes(os.urandom(300_000))
    (home / "public_html" / "empty.txt").write_bytes(b"")
    (home / "etc" / "app.conf").write_text("secret=1\n")
    (home / "etc" / "app.conf").chmod(0o600)
    (home / "public_html" / "current").symlink_to("img")


def checksums(home: Path) -> dict[str, str]:
    """Every file and link below the home (not archives): what a restore must bring back."""
    found = {}
    for path in sorted(home.rglob("*")):
        relative = str(path.relative_to(home))
        if NAME.fullmatch(relative):
            continue
        if path.is_symlink():
            found[relative] = "link:" + os.readlink(path)
        elif path.is_file():
            found[relative] = hashlib.sha256(path.read_bytes()).hexdigest() + f":{stat.S_IMODE(path.stat().st_mode):o}"
        elif path.is_dir():
            found[relative] = "dir"
    return found


def archive_members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return tar.getmembers()


def test_a_backup_runs_in_the_background_and_lands_in_the_home(
    api: Api, home: Path, container: Container, alice_token: IssuedToken, tmp_path: Path
) -> None:
    fill(home)
    outside = tmp_path / "outside.txt"
    outside.write_text("never in a backup")
    (home / "public_html" / "planted").symlink_to(outside)
    os.mkfifo(home / "tmp" / "pipe")
    started = api.post("fullbackup_to_homedir")["data"]
    assert NAME.fullmatch(started["file"]) and started["pid"].isdigit()
    status = api.wait(started["pid"])
    assert status["status"] == "complete", status
    assert status["percent"] == 100.0 and status["files_done"] == status["files_total"] == 4
    assert status["bytes_done"] == status["bytes_total"] == 300_000 + 13 + 9
    archive = home / started["file"]
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600 and status["size"] == archive.stat().st_size
    listed = api.post("list_backups")
    assert listed["metadata"]["cnt"] == 1
    assert listed["data"][0] == {
        "id": int(started["pid"]),
        "pid": started["pid"],
        "file": started["file"],
        "status": "complete",
        "time": status["time"],
        "finished": status["finished"],
        "size": archive.stat().st_size,
        "exists": 1,
        "error": None,
    }
    members = archive_members(archive)
    top = started["file"].removesuffix(".tar.gz")
    names = [m.name.removeprefix(top + "/") for m in members]
    assert names[:4] == ["meta/account.json", "meta/email.json", "meta/zones/alice.test.db", "homedir"]
    assert names[-1] == "manifest.jsonl"
    assert "homedir/tmp/pipe" not in names
    planted = next(m for m in members if m.name.endswith("/planted"))
    assert planted.issym() and planted.linkname == str(outside)
    raw = gzip.decompress(archive.read_bytes())
    assert b"never in a backup" not in raw
    assert alice_token.secret.encode() not in raw and alice_token.token.digest.hex().encode() not in raw
    assert container.keys.session_secret not in raw
    with tarfile.open(archive, "r:gz") as tar:
        account = json.loads(tar.extractfile(f"{top}/meta/account.json").read())  # type: ignore[union-attr]
        manifest = tar.extractfile(f"{top}/manifest.jsonl").read().decode().splitlines()  # type: ignore[union-attr]
    assert account["username"] == "alice" and account["tokens"][0]["name"] == "bar"
    assert "digest" not in json.dumps(account) and "password" not in json.dumps(account)
    logo = next(json.loads(line) for line in manifest if '"homedir/public_html/img/logo.bin"' in line)
    assert logo["sha256"] == hashlib.sha256((home / "public_html" / "img" / "logo.bin").read_bytes()).hexdigest()
    container.clock.advance(1)  # type: ignore[attr-defined]
    second = api.post("fullbackup_to_homedir")["data"]
    api.wait(second["pid"])
    assert started["file"] not in [m.name.split("/")[-1] for m in archive_members(home / second["file"])]


def test_backup_delete_restore_round_trip(api: Api, home: Path, container: Container) -> None:
    fill(home)
    before = checksums(home)
    started = api.post("fullbackup_to_homedir")["data"]
    assert api.wait(started["pid"])["status"] == "complete"
    for path in ("public_html", "etc/app.conf"):
        api.fileman.post("delete", path=path)
    (home / "etc" / "new.conf").write_text("made after the backup")
    assert checksums(home) != before
    restored = api.post("restore_files", backup=started["file"])["data"]
    assert restored["files"] == 4 and restored["links"] == 1 and restored["bytes"] == 300_022
    after = checksums(home)
    assert after.pop("etc/new.conf") is not None  # a restore adds back; it does not delete newer files
    assert after == before
    (home / "public_html" / "index.html").write_text("changed")
    partial = api.post("restore_files", backup=started["file"], path="public_html/index.html")["data"]
    assert partial["files"] == 1 and (home / "public_html" / "index.html").read_text() == "<h1>site</h1>"
    with container.uow(write=False) as uow:
        events = uow.audit.query(AuditQuery(actions=("account:backup:restore",)))
    assert [(e.outcome.value, e.details["files"]) for e in events] == [("success", 1), ("success", 4)]


def test_the_home_folder_skip_and_validation(api: Api, home: Path) -> None:
    started = api.post("fullbackup_to_homedir", homedir="skip")
    assert started["warnings"] is None
    api.wait(started["data"]["pid"])
    names = [m.name.split("/", 1)[1] for m in archive_members(home / started["data"]["file"])]
    assert names == ["meta/account.json", "meta/email.json", "meta/zones/alice.test.db", "manifest.jsonl"]
    assert api.error("fullbackup_to_homedir", homedir="some") == (
        "“some” is not a valid value of “homedir”. Use “skip” or “include”."
    )
    assert "is not valid" in api.error("fullbackup_to_homedir", email="not-an-address")
    assert "There is no backup job 999" in api.error("backup_status", pid="999")
    assert "whole number" in api.error("backup_status", pid="x")
    assert "is not a backup of this account" in api.error("restore_files", backup="../../etc/passwd")
    assert "is not a backup of this account" in api.error("restore_files", backup="backup-1.1.2027_00-00-00_bob.tar.gz")
    assert "does not exist" in api.error("restore_files", backup="backup-1.1.2027_00-00-00_alice.tar.gz")
    assert api.error("restore_files") == "Provide the “backup” argument."
    assert "outside your home" in api.error("restore_files", backup=started["data"]["file"], path="../x")


def test_the_email_argument_mails_how_the_backup_ended(settings: Settings, clock: FakeClock, smtp_inbox: Inbox) -> None:
    mailing = settings.model_copy(update={"smtp_url": smtp_inbox.url, "smtp_from": "panel@host.test"})
    container = Container(mailing, clock=clock)
    container.check_ready()
    try:
        alice = make_account(container, email="owner@alice.test")
        with TestClient(create_app(container), base_url="https://testserver") as client:
            api = Api(client, make_token(container, alice).secret)
            started = api.post("fullbackup_to_homedir", homedir="skip", email="Ops@Example.COM")["data"]
            assert api.wait(started["pid"])["status"] == "complete"
            [message] = smtp_inbox.wait_for(1)
            assert message["To"] == "Ops@example.com"  # the address given, not the account's contact address
            assert message["Subject"] == f"Backup {started['file']} is complete"
            assert "in the account's home directory" in message.get_content()
            clock.advance(2)
            second = api.post("fullbackup_to_homedir", homedir="skip")["data"]  # no address, no mail
            assert api.wait(second["pid"])["status"] == "complete"
        assert len(smtp_inbox.messages) == 1
        with container.uow(write=False) as uow:
            created = uow.audit.query(AuditQuery(actions=("account:backup:create",)))
        assert sorted(str(event.details.get("email")) for event in created) == ["None", "Ops@example.com"]
    finally:
        container.close()


def test_an_archive_copied_into_the_home_is_listed_and_restorable(api: Api, home: Path) -> None:
    fill(home)
    started = api.post("fullbackup_to_homedir")["data"]
    api.wait(started["pid"])
    copy = "backup-1.2.2020_03-04-05_alice.tar.gz"
    (home / copy).write_bytes((home / started["file"]).read_bytes())
    listed = api.post("list_backups")["data"]
    assert [(r["file"], r["id"], r["status"]) for r in listed] == [
        (started["file"], int(started["pid"]), "complete"),
        (copy, None, "complete"),
    ]
    (home / "public_html" / "index.html").unlink()
    api.post("restore_files", backup=copy, path="public_html")
    assert (home / "public_html" / "index.html").read_text() == "<h1>site</h1>"


def tampered(archive: Path, change: str) -> bytes:
    """The archive rewritten with one member's content changed, the manifest left as it was."""
    out = io.BytesIO()
    with tarfile.open(archive, "r:gz") as source, tarfile.open(fileobj=out, mode="w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name.endswith(change) and data is not None:
                data = b"tampered" + data[8:]
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


def test_a_tampered_archive_restores_nothing_and_is_recorded(api: Api, home: Path, container: Container) -> None:
    fill(home)
    started = api.post("fullbackup_to_homedir")["data"]
    api.wait(started["pid"])
    (home / started["file"]).write_bytes(tampered(home / started["file"], "img/logo.bin"))
    (home / "public_html" / "index.html").write_text("current")
    error = api.error("restore_files", backup=started["file"])
    assert (
        error == "The checksum of “homedir/public_html/img/logo.bin” does not match the backup's manifest; "
        "nothing was restored."
    )
    assert (home / "public_html" / "index.html").read_text() == "current"
    assert os.listdir(container.staging.user_dir("alice")) == []
    with container.uow(write=False) as uow:
        [event] = uow.audit.query(AuditQuery(actions=("account:backup:restore",)))
    assert event.outcome.value == "failure" and "does not match" in str(event.details["reason"])


FUNCTIONS: dict[str, str] = {
    "fullbackup_to_homedir": "write",
    "list_backups": "read",
    "backup_status": "read",
    "restore_files": "write",
}


def test_every_function_is_listed_here() -> None:
    assert {f.name for f in default_registry().functions() if f.module == "Backup"} == set(FUNCTIONS)


@pytest.mark.parametrize(("function", "access"), FUNCTIONS.items())
def test_every_function_needs_its_scope(
    client: TestClient, container: Container, alice: Account, function: str, access: str
) -> None:
    api = Api(client, make_token(container, alice, "other", Permissions.of([Scope.parse("fileman:write")])).secret)
    assert api.error(function) == f"This API token does not have the “backup:{access}” scope.", function


def test_read_only_tokens_and_a_switched_off_feature(client: TestClient, container: Container, alice: Account) -> None:
    reader = Api(client, make_token(container, alice, "ro", restrictions=Restrictions.parse(read_only=True)).secret)
    assert "read-only" in reader.error("fullbackup_to_homedir")
    assert "read-only" in reader.error("restore_files", backup="x")
    reader.post("list_backups")
    with container.uow() as uow:
        container.accounts(uow).set_features("alice", ["backup"], [])
        uow.commit()
    for function in FUNCTIONS:
        assert reader.error(function) == "You do not have the feature “backup”."


def test_a_path_restricted_token_restores_only_inside_its_paths(
    api: Api, client: TestClient, container: Container, alice: Account, home: Path
) -> None:
    fill(home)
    started = api.post("fullbackup_to_homedir")["data"]
    api.wait(started["pid"])
    deploy = Api(
        client,
        make_token(container, alice, "deploy", restrictions=Restrictions.parse(fileman_paths=["public_html"])).secret,
    )
    (home / "public_html" / "index.html").write_text("broken deploy")
    (home / "etc" / "app.conf").write_text("changed")
    for path in ("", "etc", "public_html/../etc"):
        error = deploy.error("restore_files", backup=started["file"], **({"path": path} if path else {}))
        assert "(restriction “fileman_paths”)" in error, path
    deploy.post("restore_files", backup=started["file"], path="public_html")
    assert (home / "public_html" / "index.html").read_text() == "<h1>site</h1>"
    assert (home / "etc" / "app.conf").read_text() == "changed"


def test_a_second_backup_waits_for_the_first(container: Container, alice: Account) -> None:
    with container.uow() as uow:
        first = container.backups(Principal.admin(alice), uow).start()
        uow.commit()
    container.clock.advance(1)  # type: ignore[attr-defined]
    with container.uow() as uow, pytest.raises(Conflict, match="already running"):
        container.backups(Principal.admin(alice), uow).start()
    job = container.backup_runner.run(first)
    assert job.status.value == "complete" and PASSWORD not in (container.homes.path_for("alice") / job.file).read_text(
        errors="replace"
    )


def test_a_second_restore_of_the_account_waits_for_the_first(
    api: Api, home: Path, container: Container, alice: Account
) -> None:
    """A restore holds a worker thread for as long as it reads its archive (minutes for a large or crafted one):
    without a limit, one token could start as many as the worker has threads and stall it for every account."""
    fill(home)
    started = api.post("fullbackup_to_homedir")["data"]
    assert api.wait(started["pid"])["status"] == "complete"
    reading, release = threading.Event(), threading.Event()

    def slowly(_count: int) -> None:
        reading.set()
        release.wait(10)

    def first() -> None:
        with container.uow(write=False) as uow:
            container.backups(Principal.admin(alice), uow).restore(started["file"], None, slowly)

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert reading.wait(10)
        assert "already running" in api.error("restore_files", backup=started["file"])
    finally:
        release.set()
        thread.join()
    assert api.post("restore_files", backup=started["file"])["data"]["files"] == 4
