"""The whole product as a newcomer uses it: CLI processes, `hostpanel serve` over HTTPS, the `cpanel` header."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, running_server

pytestmark = pytest.mark.e2e


def call(base: str, user: str, token: str, function: str, **form: str) -> httpx.Response:
    headers = {"Authorization": f"cpanel {user}:{token}"}
    with httpx.Client(verify=False, timeout=10) as client:  # a new connection: any worker may answer
        if form:
            return client.post(f"{base}/execute/{function}", data=form, headers=headers)
        return client.get(f"{base}/execute/{function}", headers=headers)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> object:
    root = tmp_path_factory.mktemp("e2e")
    env = environment(root / "var", HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.5")
    hostpanel(env, "init")
    for user in ("alice", "bob"):
        hostpanel(env, "account", "create", user, "--password-stdin", "--domain", f"{user}.test", stdin=PASSWORD)
    tokens = {
        user: json.loads(hostpanel(env, "token", "create", user, "main", "--json").stdout)["token"]
        for user in ("alice", "bob")
    }
    with running_server(env, "--workers", "2", log=root / "serve.log") as base:
        yield base, tokens, env, root


def test_token_lifecycle_over_https(server: tuple[str, dict[str, str], dict[str, str], Path]) -> None:
    base, tokens, _, _ = server
    alice = tokens["alice"]
    listed = call(base, "alice", alice, "Tokens/list").json()
    assert listed["status"] == 1 and [t["name"] for t in listed["data"]] == ["main"]
    created = call(base, "alice", alice, "Tokens/create_full_access", name="ci").json()
    assert created["status"] == 1
    ci = created["data"]["token"]
    assert call(base, "alice", ci, "Tokens/list").status_code == 200
    duplicate = call(base, "alice", alice, "Tokens/create_full_access", name="ci").json()
    assert duplicate["status"] == 0 and "already exists" in duplicate["errors"][0]
    assert call(base, "alice", alice, "Tokens/rename?name=ci&new_name=cd").json()["status"] == 1
    assert call(base, "alice", ci, "Tokens/list").status_code == 200  # a rename keeps the token working
    assert call(base, "alice", alice, "Tokens/revoke", name="cd").json()["data"] == 1
    # Revoked: refused at once, on whichever worker answers.
    assert {call(base, "alice", ci, "Tokens/list").status_code for _ in range(12)} == {401}


def test_expired_wrong_and_foreign_tokens(server: tuple[str, dict[str, str], dict[str, str], Path]) -> None:
    base, tokens, _, _ = server
    alice = tokens["alice"]
    short = call(
        base, "alice", alice, "Tokens/create_full_access", name="short", expires_at=str(int(time.time()) + 2)
    ).json()["data"]["token"]
    assert call(base, "alice", short, "Tokens/list").status_code == 200
    time.sleep(2.5)
    refused = call(base, "alice", short, "Tokens/list")
    assert refused.status_code == 401
    names = {t["name"]: t for t in call(base, "alice", alice, "Tokens/list").json()["data"]}
    assert names["short"]["expired"] == 1
    assert call(base, "alice", tokens["bob"], "Tokens/list").status_code == 401
    assert call(base, "alice", "WRONG" + alice, "Tokens/list").status_code == 401
    assert call(base, "nobody", alice, "Tokens/list").content == refused.content
    bob = call(base, "bob", tokens["bob"], "Tokens/list").json()
    assert [t["name"] for t in bob["data"]] == ["main"]


def test_last_used_and_the_activity_log(server: tuple[str, dict[str, str], dict[str, str], Path]) -> None:
    base, tokens, env, _ = server
    call(base, "bob", tokens["bob"], "Tokens/list")
    call(base, "alice", "WRONG" + tokens["alice"], "Tokens/list")
    time.sleep(1.5)  # two flush intervals
    records = call(base, "bob", tokens["bob"], "Tokens/list").json()["data"]
    assert records[0]["last_used_ip"] == "127.0.0.1" and records[0]["last_used"] is not None
    events = call(base, "bob", tokens["bob"], "ActivityLog/list").json()["data"]
    assert "account:token:new_ip" in [event["action"] for event in events]
    failures = hostpanel(env, "audit", "alice", "--action", "account:auth:failure", "--json").stdout.splitlines()
    assert failures and all(tokens["alice"] not in line for line in failures)


def test_no_secret_reaches_the_disk_or_the_logs(server: tuple[str, dict[str, str], dict[str, str], Path]) -> None:
    _, tokens, _, root = server
    for path in root.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in tokens.values():
                assert secret.encode() not in content, path
