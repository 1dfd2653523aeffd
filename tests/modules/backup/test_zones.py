"""The account's DNS zones in its backups: written as zone files, put back by a whole restore (served at once, the
serial moved on), and only through the zone editor's checks: a token without `dns:write` or a zone file edited to
reach outside the zone changes nothing in DNS."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.backups.archive import manifest_line
from hostpanel.domain.permissions import Permissions, Scope
from hostpanel.domain.tokens.model import IssuedToken
from tests.factories import Calls, make_token, served, served_serial

pytestmark = pytest.mark.usefixtures("nameserver")
ZONE = "alice.test"


def backup(client: TestClient, secret: str) -> str:
    api = Calls(client, secret, "Backup")
    started = api.post("fullbackup_to_homedir", homedir="skip")["data"]
    deadline = time.monotonic() + 30
    while api.post("backup_status", pid=started["pid"])["data"]["status"] == "running":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return str(started["file"])


def change_the_zone(client: TestClient, secret: str) -> None:
    dns = Calls(client, secret, "DNS")
    items = dns.get("parse_zone", zone=ZONE)["data"]
    serial = next(i for i in items if i.get("record_type") == "SOA")["data_b64"][2]
    www = [i["line_index"] for i in items if i.get("record_type") == "A" and i["dname_b64"] == "d3d3"]  # "www"
    dns.post(
        "mass_edit_zone",
        zone=ZONE,
        serial=base64.b64decode(serial).decode(),
        remove=[str(line) for line in www],
        add=json.dumps({"dname": "after", "ttl": 60, "record_type": "TXT", "data": ["made after the backup"]}),
    )


def test_a_whole_restore_puts_the_zone_back_and_serves_it(
    client: TestClient, alice_token: IssuedToken, container: Container, settings: Settings
) -> None:
    archive = backup(client, alice_token.secret)
    home = container.homes.path_for("alice")
    with tarfile.open(home / archive, "r:gz") as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith("/meta/zones/alice.test.db"))
        text = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
    assert text.startswith("; cPanel first") and "www.alice.test.\t14400\tIN\tA\t127.0.0.1" in text
    change_the_zone(client, alice_token.secret)
    changed = served_serial(settings, ZONE)
    assert served(settings, "www.alice.test", "A") == []
    restored = Calls(client, alice_token.secret, "Backup").post("restore_files", backup=archive)
    assert restored["data"]["zones"] == [ZONE] and restored["warnings"] is None
    assert served(settings, "www.alice.test", "A") == ["127.0.0.1"]
    assert served(settings, "after.alice.test", "TXT", tcp=True) == []
    assert served_serial(settings, ZONE) > changed  # secondaries see a newer zone, not an older serial
    partial = Calls(client, alice_token.secret, "Backup").post("restore_files", backup=archive, path="public_html")
    assert partial["data"]["zones"] == []  # a restore of one path leaves DNS alone


def test_a_token_without_dns_write_restores_files_but_not_zones(
    client: TestClient, alice_token: IssuedToken, container: Container, alice: Account, settings: Settings
) -> None:
    archive = backup(client, alice_token.secret)
    change_the_zone(client, alice_token.secret)
    serial = served_serial(settings, ZONE)
    backups_only = make_token(container, alice, "b", Permissions.of([Scope.parse("backup:write")])).secret
    answer = Calls(client, backups_only, "Backup").post("restore_files", backup=archive)
    assert answer["data"]["zones"] == []
    assert answer["warnings"] == [f"The DNS zone {ZONE}: This API token does not have the “dns:write” scope."]
    assert served_serial(settings, ZONE) == serial and served(settings, "www.alice.test", "A") == []


def rewritten(archive: Path, change: Any) -> bytes:
    """The archive with its zone file rewritten by `change`, and its manifest made to agree: what a person who can
    write to the home can make."""
    out = io.BytesIO()
    with tarfile.open(archive, "r:gz") as source, tarfile.open(fileobj=out, mode="w:gz") as target:
        new_zone = b""
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name.endswith("/meta/zones/alice.test.db") and data is not None:
                data = new_zone = change(data.decode()).encode()
                member.size = len(data)
            if member.name.endswith("/manifest.jsonl") and data is not None:
                lines = [json.loads(line) for line in data.decode().splitlines()]
                for line in lines:
                    if line["path"] == "meta/zones/alice.test.db":
                        line.update(sha256=hashlib.sha256(new_zone).hexdigest(), size=len(new_zone))
                data = b"".join(manifest_line(line) for line in lines)
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    return out.getvalue()


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda text: text + "www.bob.test.\t60\tIN\tA\t192.0.2.66\n", "outside the zone alice.test"),
        (lambda text: text + 'x.alice.test.\t60\tIN\tTXT\t"a\\010b"\n', "control characters"),
        (lambda text: text.replace("\tNS\t", '\tTXT\t"x" ; '), "at least one “NS” record"),
    ],
)
def test_a_zone_file_edited_in_the_archive_is_held_to_the_zone_editors_rules(
    client: TestClient, alice_token: IssuedToken, container: Container, settings: Settings, change: Any, reason: str
) -> None:
    archive = backup(client, alice_token.secret)
    home = container.homes.path_for("alice")
    (home / archive).write_bytes(rewritten(home / archive, change))
    serial = served_serial(settings, ZONE)
    answer = Calls(client, alice_token.secret, "Backup").post("restore_files", backup=archive)
    assert answer["data"]["zones"] == [] and reason in answer["warnings"][0]
    assert served_serial(settings, ZONE) == serial and served(settings, "www.alice.test", "A") == ["127.0.0.1"]
