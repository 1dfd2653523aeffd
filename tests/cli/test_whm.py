"""The CLI's WHM side as a real process: init makes root, whmapi1 acts as root, uapi as an account, JSON or YAML."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.factories import PASSWORD
from tests.processes import environment, error_line, hostpanel


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return environment(tmp_path / "var")


def test_init_makes_root_once_and_prints_its_password(env: dict[str, str]) -> None:
    printed = hostpanel(env, "init").stdout
    found = re.search(r"with the password: (\S+)", printed)
    assert found is not None
    assert "password" not in hostpanel(env, "init").stdout  # made once; never printed again
    hostpanel(env, "init", "--root-password-stdin", stdin=PASSWORD + "\n")
    assert "Set root's password" in hostpanel(env, "init", "--root-password-stdin", stdin=PASSWORD + "\n").stdout


def test_whmapi1_acts_as_root_and_prints_the_envelope(env: dict[str, str]) -> None:
    hostpanel(env, "init")
    made = json.loads(hostpanel(env, "whmapi1", "api_token_create", "token_name=ci", "acl=list-accts").stdout)
    assert made["metadata"]["result"] == 1 and made["data"]["token"].startswith("hpat_")
    assert made["data"]["acls"] == ["list-accts"]
    created = hostpanel(env, "whmapi1", "createacct", "username=bob", "domain=bob.test", f"password={PASSWORD}")
    assert json.loads(created.stdout)["metadata"]["reason"] == "Account Creation Ok"
    listed = yaml.safe_load(hostpanel(env, "whmapi1", "listaccts", "--output", "yaml").stdout)
    assert [a["user"] for a in listed["data"]["acct"]] == ["bob"]
    failed = hostpanel(env, "whmapi1", "suspendacct", "user=nobody", check=False)
    assert failed.returncode == 1 and json.loads(failed.stdout)["metadata"]["result"] == 0
    assert "key=value" in error_line(hostpanel(env, "whmapi1", "listaccts", "oops", check=False))


def test_uapi_acts_as_the_account(env: dict[str, str]) -> None:
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD + "\n")
    made = json.loads(hostpanel(env, "uapi", "--user", "alice", "Tokens", "create_full_access", "name=t1").stdout)
    assert made["status"] == 1
    listed = json.loads(hostpanel(env, "uapi", "--user", "alice", "Tokens", "list").stdout)
    assert [t["name"] for t in listed["data"]] == ["t1"]
    failed = hostpanel(env, "uapi", "--user", "alice", "Tokens", "revoke", check=False)
    assert failed.returncode == 1 and json.loads(failed.stdout)["status"] == 0
    assert "does not exist" in error_line(hostpanel(env, "uapi", "--user", "root", "Tokens", "list", check=False))
