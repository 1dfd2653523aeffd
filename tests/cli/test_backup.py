"""`hostpanel backup create|list|restore` as real processes: the same jobs as the API, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.factories import PASSWORD
from tests.processes import environment, error_line, hostpanel


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    built = environment(tmp_path / "var")
    hostpanel(built, "init")
    hostpanel(built, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    return built


def test_create_list_and_restore(env: dict[str, str]) -> None:
    home = Path(env["HOSTPANEL_HOME"]) / "homes" / "alice"
    data = os.urandom(2_000_000)
    (home / "public_html" / "site.bin").write_bytes(data)
    (home / "etc" / "keep.conf").write_text("keep")
    created = json.loads(hostpanel(env, "backup", "create", "alice", "--json").stdout)
    assert (home / created["file"]).stat().st_size == created["size"]
    [listed] = json.loads(hostpanel(env, "backup", "list", "alice", "--json").stdout)
    assert (listed["file"], listed["status"], listed["exists"]) == (created["file"], "complete", 1)
    (home / "public_html" / "site.bin").unlink()
    (home / "etc" / "keep.conf").write_text("newer")
    restored = hostpanel(env, "backup", "restore", "alice", created["file"], "--path", "public_html")
    assert "Restored 1 file(s)" in restored.stdout
    assert (home / "public_html" / "site.bin").read_bytes() == data
    assert (home / "etc" / "keep.conf").read_text() == "newer"
    audit = hostpanel(env, "audit", "alice", "--json").stdout.splitlines()
    actions = [json.loads(line)["action"] for line in audit]
    assert {"admin:backup:create", "admin:backup:finish", "admin:backup:restore"} <= set(actions)


def test_mistakes_are_one_line(env: dict[str, str]) -> None:
    assert (
        error_line(hostpanel(env, "backup", "create", "nobody", check=False)) == "The account “nobody” does not exist."
    )
    assert "is not a backup of this account" in error_line(
        hostpanel(env, "backup", "restore", "alice", "../../etc/passwd", check=False)
    )
    missing = "backup-1.1.2027_00-00-00_alice.tar.gz"
    assert "does not exist" in error_line(hostpanel(env, "backup", "restore", "alice", missing, check=False))
