"""The token lifecycle on the command line, as a real process: a use limit, a rotation, and the import of cPanel
token stores (dry run, mapping, the report of every skipped entry)."""

from __future__ import annotations

import json
from pathlib import Path

from hostpanel.domain.tokens import secret
from tests.factories import PASSWORD, cpanel_entry, cpanel_token, write_cpanel_store
from tests.processes import environment, error_line, hostpanel


def test_limits_rotation_and_import_from_the_command_line(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "bob", "--password-stdin", "--domain", "bob.test", stdin=PASSWORD + "\n")

    made = json.loads(hostpanel(env, "token", "create", "bob", "deploy", "--max-uses", "2", "--json").stdout)
    assert made["hp_max_uses"] == 2 and made["hp_uses"] == 0
    rotated = json.loads(hostpanel(env, "token", "rotate", "bob", "deploy", "--grace", "90m", "--json").stdout)
    assert rotated["token"] != made["token"] and rotated["hp_old_secret_valid_until"] == rotated["hp_rotated_at"] + 5400
    assert "grace period" in error_line(
        hostpanel(env, "token", "rotate", "bob", "deploy", "--grace", "8d", check=False)
    )

    store = tmp_path / "cpanel" / "api_tokens_v2" / "cpanel" / "alice.json"  # cPanel's user alice is bob here
    legacy = cpanel_token()
    write_cpanel_store(
        store,
        {
            secret.legacy_digest(legacy): cpanel_entry("migrated", 1_700_000_000),
            "0" * 64: cpanel_entry("short", 1_700_000_000),
        },
    )
    dry = hostpanel(env, "import", "cpanel-tokens", str(store), "--map", "alice=bob", "--dry-run").stdout
    assert "would import: bob (cpanel) “migrated”" in dry and "“short”" in dry and "128" in dry
    listed = json.loads(hostpanel(env, "token", "list", "bob", "--json").stdout)
    assert [t["name"] for t in listed] == ["deploy"]
    report = json.loads(hostpanel(env, "import", "cpanel-tokens", str(store), "--map", "alice=bob", "--json").stdout)
    assert [(t["account"], t["name"]) for t in report["imported"]] == [("bob", "migrated")]
    assert [s["name"] for s in report["skipped"]] == ["short"]
    listed = json.loads(hostpanel(env, "token", "list", "bob", "--json").stdout)
    migrated = next(t for t in listed if t["name"] == "migrated")
    assert (
        migrated["hp_imported"] == 1 and migrated["hp_cpanel_format"] == 1 and migrated["create_time"] == 1_700_000_000
    )
    # The data directory holds neither the 32-character token nor cPanel's digest of it (the database included).
    for path in (tmp_path / "var").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert legacy.encode() not in data and secret.legacy_digest(legacy).encode() not in data, path
