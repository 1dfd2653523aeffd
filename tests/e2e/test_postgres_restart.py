"""PostgreSQL restarted under a running server: requests fail cleanly (503, the UAPI envelope), then recover on their
own. The database is a private instance started by the test (initdb + pg_ctl on a free port), never a shared one."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.processes import environment, free_port, hostpanel, running_server

pytestmark = pytest.mark.e2e


class PrivatePostgres:
    """A PostgreSQL server of the test's own (initdb and pg_ctl on a free port) that it can stop and start."""

    def __init__(self, bin_dir: Path, data: Path, port: int, user: str | None) -> None:
        self.bin_dir, self.data, self.port, self.user = bin_dir, data, port, user

    def _run(self, *args: str) -> None:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        if self.user:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.data} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.data / "log"), "-w", "start")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("PostgreSQL's server binaries are not installed (.ci/run installs them)")
    bin_dir = Path(found[-1]).parent
    user = "postgres" if os.geteuid() == 0 else None
    data = Path(tempfile.mkdtemp(prefix="hostpanel-pg-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    server = PrivatePostgres(bin_dir, data, free_port(), user)
    server._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    server.start()
    try:
        yield server
    finally:
        try:
            server.stop()
        finally:
            shutil.rmtree(data, ignore_errors=True)


def test_requests_fail_cleanly_while_postgres_is_down_and_recover_without_a_restart(
    private_postgres: PrivatePostgres, tmp_path: Path
) -> None:
    env = environment(
        tmp_path / "var", HOSTPANEL_DATABASE_URL=private_postgres.url, HOSTPANEL_LAST_USED_FLUSH_SECONDS="0.2"
    )
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", stdin=PASSWORD)
    token = json.loads(hostpanel(env, "token", "create", "alice", "main", "--json").stdout)["token"]
    headers = {"Authorization": f"cpanel alice:{token}"}
    with (
        running_server(env, log=tmp_path / "serve.log") as base,
        httpx.Client(base_url=base, verify=False, timeout=30) as client,
    ):
        assert client.get("/execute/Tokens/list", headers=headers).json()["status"] == 1
        private_postgres.stop()
        for path in ("/execute/Tokens/list", "/execute/Tokens/create_full_access?name=during"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 503, answer.text
            body = answer.json()
            assert body["status"] == 0 and "database" in body["errors"][0] and answer.headers["retry-after"]
        assert client.get("/execute/Tokens/list", headers={"Authorization": "cpanel alice:wrong"}).status_code == 503
        assert client.get("/healthz/db").status_code == 503
        assert client.get("/healthz").status_code == 200  # the process itself is fine
        private_postgres.start()
        deadline = time.monotonic() + 30
        while client.get("/healthz/db").status_code != 200:
            assert time.monotonic() < deadline, "the server never got its database back"
            time.sleep(0.2)
        listed = client.get("/execute/Tokens/list", headers=headers).json()
        assert listed["status"] == 1 and [t["name"] for t in listed["data"]] == ["main"]
        created = client.post("/execute/Tokens/create_full_access", data={"name": "after"}, headers=headers).json()
        assert created["status"] == 1
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and token not in log
