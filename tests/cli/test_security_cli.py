"""The administrator's security commands as real processes: scan, review, audit verify/export, blocks, trust."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.security.lockout import LoginKind
from hostpanel.domain.tokens import secret
from tests.factories import PASSWORD
from tests.processes import environment, error_line, hostpanel


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    built = environment(tmp_path / "var")
    hostpanel(built, "init")
    for user in ("alice", "bob"):
        hostpanel(
            built, "account", "create", user, "--password-stdin", "--email", f"{user}@{user}.test", stdin=PASSWORD
        )
    return built


@pytest.fixture
def inside(env: dict[str, str]) -> Iterator[Container]:
    """The same installation, opened in this process (to cause failures or read the database)."""
    built = Container(
        Settings(home=Path(env["HOSTPANEL_HOME"]), password_time_cost=1, password_memory_kib=8, password_parallelism=1)
    )
    yield built
    built.close()


def create(env: dict[str, str], user: str, name: str, *extra: str) -> str:
    token: str = json.loads(hostpanel(env, "token", "create", user, name, "--json", *extra).stdout)["token"]
    return token


def test_scan_reports_live_tokens_without_their_secrets_and_revokes_them(env: dict[str, str], tmp_path: Path) -> None:
    live, other = create(env, "alice", "deploy"), create(env, "bob", "ci")
    never = secret.generate()
    leaked = tmp_path / "settings.py"
    leaked.write_text(f"# config\nTOKEN = '{live}'\nOLD = '{never}'\nnot_a_token = 'hpat_short'\n")
    report = hostpanel(env, "token", "scan", str(leaked)).stdout
    assert f"{leaked}:2" in report and "LIVE" in report and "alice" in report and "deploy" in report
    assert f"{leaked}:3" in report and "not a live token" in report
    assert "2 token(s) found, 1 live" in report
    assert live not in report and never not in report
    revoked = hostpanel(env, "token", "scan", str(leaked), "-", "--revoke", "--json", stdin=f"echo {other}\n").stdout
    records = [json.loads(line) for line in revoked.splitlines()]
    assert [(r["path"], r["line"], r["account"], r["name"], r["revoked"]) for r in records] == [
        (str(leaked), 2, "alice", "deploy", True),
        (str(leaked), 3, None, None, False),
        ("-", 1, "bob", "ci", True),
    ]
    assert live not in revoked and other not in revoked
    assert json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout) == []
    audit = hostpanel(env, "audit", "alice", "--action", "account:token:revoke_leak", "--json").stdout
    [event] = [json.loads(line) for line in audit.splitlines()]
    assert event["target"] == "deploy" and f"{leaked} line 2" in event["details"]["source"]
    assert error_line(hostpanel(env, "token", "scan", str(tmp_path / "missing"), check=False)).startswith("cannot read")


def test_review_flags_tokens_and_revokes_the_unused_after_confirmation(env: dict[str, str], inside: Container) -> None:
    create(env, "alice", "full")
    create(env, "alice", "reader", "--scope", "tokens:read", "--expires", "3d")
    records = json.loads(hostpanel(env, "token", "review", "alice", "--json").stdout)
    assert {r["name"]: r["flags"] for r in records} == {
        "full": ["never_used", "full_access"],
        "reader": ["expiring_soon", "never_used"],
    }
    table = hostpanel(env, "token", "review").stdout
    assert "2 token(s), 2 flagged" in table
    # Make `full` look idle for 100 days.
    with inside.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE api_tokens SET created_at = created_at - 100 * 86400 WHERE name = 'full'")
    assert "unused" in json.loads(hostpanel(env, "token", "review", "alice", "--json").stdout)[0]["flags"]
    refused = hostpanel(env, "token", "review", "--revoke-unused", "90", stdin="n\n", check=False)
    assert refused.returncode != 0 and len(json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout)) == 2
    done = hostpanel(env, "token", "review", "--revoke-unused", "90", "--yes").stdout
    assert "Revoked 1 token(s)" in done
    assert [r["name"] for r in json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout)] == ["reader"]


def test_audit_verify_finds_the_first_broken_link_in_a_tampered_copy(env: dict[str, str], tmp_path: Path) -> None:
    for n in range(3):
        create(env, "alice", f"t{n}")
    assert "every link intact" in hostpanel(env, "audit", "verify").stdout
    exported = [json.loads(line) for line in hostpanel(env, "audit", "export", "alice").stdout.splitlines()]
    assert [e["action"] for e in exported] == ["admin:account:create"] + ["account:token:create"] * 3
    assert exported[1]["prev_hash"] == exported[0]["hash"] and isinstance(exported[1]["details"], dict)
    copy = tmp_path / "copy.db"
    shutil.copyfile(Path(env["HOSTPANEL_HOME"]) / "hostpanel.db", copy)
    with sqlite3.connect(copy) as connection:
        connection.execute("DROP TRIGGER audit_events_no_update")
        connection.execute("UPDATE audit_events SET target = 'innocent' WHERE id = ?", (exported[2]["id"],))
    tampered = {**env, "HOSTPANEL_DATABASE_URL": f"sqlite:///{copy}"}
    result = hostpanel(tampered, "audit", "verify", check=False)
    assert result.returncode == 1
    assert f"at event {exported[2]['id']}" in result.stdout and "content does not match" in result.stdout
    assert "tampered" in result.stderr
    assert "every link intact" in hostpanel(env, "audit", "verify", "alice").stdout  # the original is intact


def test_blocked_unblock_and_trusted_networks(env: dict[str, str], inside: Container) -> None:
    assert "Nothing is blocked" in hostpanel(env, "security", "blocked").stdout
    for _ in range(20):
        inside.login_guard.record_failure("198.51.100.7", "alice", LoginKind.TOKEN)
    for n in range(15):
        inside.login_guard.record_failure(f"203.0.113.{n}", "alice", LoginKind.PASSWORD)
    listed = json.loads(hostpanel(env, "security", "blocked", "--json").stdout)
    assert {(b["kind"], b["subject"]) for b in listed} == {("token-ip", "198.51.100.7"), ("account", "alice")}
    assert "198.51.100.7" in hostpanel(env, "security", "blocked").stdout
    assert "Unblocked 198.51.100.7" in hostpanel(env, "security", "unblock", "198.51.100.7").stdout
    assert "Unblocked alice" in hostpanel(env, "security", "unblock", "alice").stdout
    assert "was not blocked" in hostpanel(env, "security", "unblock", "alice").stdout
    assert json.loads(hostpanel(env, "security", "blocked", "--json").stdout) == []
    assert "Trusted 10.0.0.0/8" in hostpanel(env, "security", "trust", "10.1.2.3/8", "--note", "office").stdout
    assert json.loads(hostpanel(env, "security", "trusted", "--json").stdout) == [
        {"network": "10.0.0.0/8", "note": "office"}
    ]
    assert "not an IP address" in error_line(hostpanel(env, "security", "trust", "10.0.0.300", check=False))
    assert "No longer trusting" in hostpanel(env, "security", "distrust", "10.0.0.0/8").stdout
    actions = {json.loads(line)["action"] for line in hostpanel(env, "audit", "--json").stdout.splitlines()}
    assert {
        "admin:security:unblock",
        "admin:security:trust",
        "admin:security:distrust",
        "account:auth:lockout",
    } <= actions


def test_notify_switches_new_address_notices(env: dict[str, str], inside: Container) -> None:
    assert "on" in hostpanel(env, "security", "notify", "alice", "--new-ip").stdout
    with inside.uow(write=False) as uow:
        account = uow.accounts.get_by_username("alice")
    assert account is not None and account.notify_new_ip
    assert "does not exist" in error_line(hostpanel(env, "security", "notify", "nobody", "--no-new-ip", check=False))
