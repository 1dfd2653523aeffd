"""The administrator's CLI as a real process: output, --json contracts, and one-line errors."""

from __future__ import annotations

import json
import socket
import stat
from pathlib import Path

import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.audit.tags import AuditAction, Outcome
from tests.factories import PASSWORD, TOKEN_RECORD_FIELDS
from tests.processes import environment, error_line, hostpanel


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    built = environment(tmp_path / "var")
    hostpanel(built, "init")
    hostpanel(
        built,
        "account",
        "create",
        "alice",
        "--password-stdin",
        "--domain",
        "alice.test",
        "--email",
        "alice@alice.test",
        stdin=PASSWORD + "\n",
    )
    return built


def test_init_makes_a_private_key_a_certificate_and_the_schema(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    key = tmp_path / "var" / "server.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "var" / "tls" / "cert.pem").exists()
    before = key.read_bytes()
    hostpanel(env, "init")  # idempotent, and never replaces the key
    assert key.read_bytes() == before


def test_commands_refuse_to_run_before_init(tmp_path: Path) -> None:
    message = error_line(hostpanel(environment(tmp_path / "none"), "account", "list", check=False))
    assert "hostpanel init" in message


def test_a_readable_key_file_is_refused(env: dict[str, str]) -> None:
    key = Path(env["HOSTPANEL_HOME"]) / "server.key"
    for mode in (0o644, 0o640, 0o604, 0o620, 0o601):
        key.chmod(mode)
        assert "chmod 600" in error_line(hostpanel(env, "account", "list", check=False)), oct(mode)
    key.chmod(0o400)
    hostpanel(env, "account", "list")


def test_account_lifecycle(env: dict[str, str]) -> None:
    listed = json.loads(hostpanel(env, "account", "list", "--json").stdout)
    assert listed[0]["username"] == "alice" and listed[0]["domains"] == ["alice.test"]
    assert (Path(env["HOSTPANEL_HOME"]) / "homes" / "alice").is_dir()
    hostpanel(env, "account", "suspend", "alice")
    assert json.loads(hostpanel(env, "account", "list", "--json").stdout)[0]["status"] == "suspended"
    hostpanel(env, "account", "unsuspend", "alice")
    hostpanel(env, "account", "passwd", "alice", "--password-stdin", stdin="Another-Long-Passphrase-7\n")
    features = json.loads(hostpanel(env, "account", "features", "alice", "--disable", "apitokens", "--json").stdout)
    assert features["apitokens"] is False and all(on for name, on in features.items() if name != "apitokens")
    hostpanel(env, "account", "add-domain", "alice", "Alice-Two.test")
    assert json.loads(hostpanel(env, "account", "list", "--json").stdout)[0]["domains"] == [
        "alice.test",
        "alice-two.test",
    ]
    assert error_line(hostpanel(env, "account", "delete", "alice", stdin="n\n", check=False)) == "aborted"
    hostpanel(env, "account", "delete", "alice", "--yes")
    assert json.loads(hostpanel(env, "account", "list", "--json").stdout) == []
    assert not (Path(env["HOSTPANEL_HOME"]) / "homes" / "alice").exists()


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("account", "create", "root", "--password-stdin"), PASSWORD, "“root” is a reserved username."),
        (("account", "create", "Bob", "--password-stdin"), PASSWORD, "“Bob” is not a valid username"),
        (("account", "create", "bob", "--password-stdin"), "password1", "at least 10 characters"),
        (("account", "create", "bob", "--password-stdin"), "password1234", "too weak"),
        (("account", "create", "alice", "--password-stdin"), PASSWORD, "The account “alice” already exists."),
        (("account", "create", "bob"), "", "pass --password-stdin"),
        (("account", "create", "bob", "--password-stdin", "--domain", "alice.test"), PASSWORD, "already belongs"),
        (("account", "features", "alice", "--disable", "nope"), None, "“nope” is not a feature"),
        (("account", "suspend", "zed"), None, "The account “zed” does not exist."),
        (("token", "create", "alice", "bad name"), None, "is not a valid API token name"),
        (("token", "create", "alice", "x", "--scope", "root:all"), None, "is not a valid scope"),
        (("token", "create", "alice", "x", "--expires", "tomorrowish"), None, "is not a date"),
        (("token", "create", "alice", "x", "--expires", "2001-01-01"), None, "“2001-01-01” is in the past"),
        (("token", "create", "alice", "x", "--expires", "²"), None, "is not a date"),
        (("token", "create", "alice", "x", "--expires", "9" * 5000), None, "is not a date"),
        (("token", "create", "alice", "x", "--expires", "9" * 17), None, "is not a valid UNIX epoch timestamp"),
        (("token", "create", "alice", "x", "--expires", "9" * 12 + "w"), None, "is not a valid UNIX epoch timestamp"),
        (("token", "create", "alice", "x", "--expires", "9" * 25 + "d"), None, "is not a date"),
        (("token", "create", "alice", "x", "--expires", "9999-12-31T23:59:59-14:00"), None, "is not a date"),
        (("audit", "--since", "٣d"), None, "is not a date"),
        (("token", "revoke", "alice", "nope"), None, "The API token “nope” does not exist."),
        (("token", "rename", "alice", "nope", "other"), None, "The API token “nope” does not exist."),
        (("token", "list", "zed"), None, "The account “zed” does not exist."),
        (("audit", "--action", "nope"), None, "“nope” is not an audit action"),
        (("token", "create"), None, "Missing argument"),
    ],
)
def test_mistakes_are_one_line_on_stderr(
    env: dict[str, str], args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    result = hostpanel(env, *args, stdin=None if stdin is None else stdin + "\n", check=False)
    assert message in error_line(result)


def test_token_lifecycle_and_the_json_contract(env: dict[str, str]) -> None:
    created = json.loads(
        hostpanel(
            env, "token", "create", "alice", "deploy", "--expires", "30d", "--scope", "tokens:read", "--json"
        ).stdout
    )
    secret = created.pop("token")
    assert secret.startswith("hpat_")
    assert set(created) == TOKEN_RECORD_FIELDS
    assert created["expires_at"] - created["create_time"] == 30 * 86400
    assert created["scopes"] == ["tokens:read"] and created["has_full_access"] == 0
    human = hostpanel(env, "token", "create", "alice", "full").stdout
    assert "shown only this once" in human and "hpat_" in human
    listed = hostpanel(env, "token", "list", "alice", "--json").stdout
    assert secret not in listed and "hpat_" not in listed
    assert [r["name"] for r in json.loads(listed)] == ["deploy", "full"]
    assert "deploy" in hostpanel(env, "token", "list", "alice").stdout
    hostpanel(env, "token", "rename", "alice", "deploy", "ci")
    hostpanel(env, "token", "revoke", "alice", "ci")
    assert [r["name"] for r in json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout)] == ["full"]
    events = [json.loads(line) for line in hostpanel(env, "audit", "alice", "--json").stdout.splitlines()]
    assert [e["action"] for e in events][:4] == [
        "account:token:revoke",
        "account:token:rename",
        "account:token:create",
        "account:token:create",
    ]
    assert all(e["actor"] == "admin" for e in events)
    assert secret not in json.dumps(events)
    only = hostpanel(env, "audit", "--action", "account:token:rename", "--since", "1h", "--json").stdout
    assert len(only.splitlines()) == 1


def test_serve_refuses_a_taken_port_in_one_line(env: dict[str, str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        message = error_line(hostpanel(env, "serve", "--port", port, check=False))
    assert f"cannot listen on 127.0.0.1:{port}" in message and "--port" in message


def test_checking_a_missing_database_does_not_create_it(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    database = tmp_path / "var" / "hostpanel.db"
    database.unlink()
    assert "no database" in error_line(hostpanel(env, "account", "list", check=False))
    assert not database.exists()


def test_deleted_accounts_keep_a_readable_history(env: dict[str, str]) -> None:
    hostpanel(env, "account", "delete", "alice", "--yes")
    events = [json.loads(line) for line in hostpanel(env, "audit", "alice", "--json").stdout.splitlines()]
    assert events[0]["action"] == "admin:account:delete"


def test_audit_shows_what_callers_sent_literally(env: dict[str, str]) -> None:
    # Usernames and targets of failed API calls come from anyone: Rich markup in them crashed the table.
    built = Container(Settings(home=Path(env["HOSTPANEL_HOME"])))
    with built.uow() as uow:
        built.audit(uow).record(
            AuditAction.ACCOUNT_AUTH_FAILURE,
            actor="token",
            username="[/x]",
            target="[red]Tokens[/red]::\x1b[2Jlist",
            outcome=Outcome.FAILURE,
        )
        uow.commit()
    built.close()
    output = hostpanel({**env, "COLUMNS": "400"}, "audit").stdout
    assert "[/x]" in output and "[red]Tokens[/red]::\\x1b[2Jlist" in output
    assert "\x1b" not in output


def test_a_regenerated_tls_key_is_private_whatever_was_there(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    tls = tmp_path / "var" / "tls"
    assert stat.S_IMODE((tls / "key.pem").stat().st_mode) == 0o600
    (tls / "cert.pem").unlink()
    (tls / "key.pem").chmod(0o644)  # left readable by a restore or a careless copy
    before = (tls / "key.pem").read_bytes()
    hostpanel(env, "init")
    assert (tls / "key.pem").read_bytes() != before
    assert stat.S_IMODE((tls / "key.pem").stat().st_mode) == 0o600
    assert sorted(path.name for path in tls.iterdir()) == ["cert.pem", "key.pem"]


def test_only_token_create_prints_a_secret_and_nothing_prints_the_password(env: dict[str, str]) -> None:
    hostpanel(env, "account", "passwd", "alice", "--password-stdin", stdin="Another-Long-Passphrase-7\n")
    created = hostpanel(env, "token", "create", "alice", "deploy", "--json")
    token = json.loads(created.stdout)["token"]
    outputs = [created.stderr]
    for command in (
        ("token", "list", "alice"),
        ("token", "list", "alice", "--json"),
        ("token", "rename", "alice", "deploy", "ci"),
        ("account", "list"),
        ("account", "list", "--json"),
        ("account", "features", "alice", "--json"),
        ("audit",),
        ("audit", "--json"),
        ("token", "revoke", "alice", "ci"),
    ):
        result = hostpanel(env, *command)
        outputs += [result.stdout, result.stderr]
    text = "\n".join(outputs)
    assert "hpat_" not in text and token[-20:] not in text
    assert PASSWORD not in text and "Another-Long-Passphrase-7" not in text and "$argon2" not in text
    for path in Path(env["HOSTPANEL_HOME"]).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert token.encode() not in content and b"Another-Long-Passphrase-7" not in content, path


def test_token_restrictions_on_the_command_line(env: dict[str, str]) -> None:
    created = json.loads(
        hostpanel(
            env,
            *("token", "create", "alice", "deploy", "--scope", "fileman:write", "--path", "public_html/app/"),
            *("--mail-domain", "alice.test", "--allow-ip", "192.0.2.0/24", "--allow-ip", "2001:db8::1", "--read-only"),
            "--json",
        ).stdout
    )
    expected = {
        "fileman_paths": ["public_html/app"],
        "email_domains": ["alice.test"],
        "whitelist_ips": ["192.0.2.0/24", "2001:0db8:0000:0000:0000:0000:0000:0001"],
        "read_only": 1,
    }
    assert {key: created[key] for key in expected} == expected
    [listed] = json.loads(hostpanel(env, "token", "list", "alice", "--json").stdout)
    assert {key: listed[key] for key in expected} == expected
    table = hostpanel({**env, "COLUMNS": "250"}, "token", "list", "alice").stdout
    assert "fileman_paths=public_html/app" in table and "read_only" in table
    bad = error_line(hostpanel(env, "token", "create", "alice", "x", "--allow-ip", "nope", check=False))
    assert bad == "Invalid IP address or CIDR range specified: nope"
    foreign = error_line(hostpanel(env, "token", "create", "alice", "x", "--mail-domain", "bob.test", check=False))
    assert foreign == "The domain “bob.test” does not belong to this account."
