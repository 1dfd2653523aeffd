"""Two `hostpanel serve` processes on one database, each caching verified tokens: a token revoked through one is
refused by the other from the moment the revoke call has returned, while the other is under load.

On PostgreSQL (a database of this test's own) the processes may as well be on two machines: nothing but the database
connects them. On SQLite they share the machine's memory."""

from __future__ import annotations

import json
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, running_server

pytestmark = pytest.mark.e2e


@pytest.fixture
def env(tmp_path: Path, server_database_url: str | None) -> dict[str, str]:
    extra = {"HOSTPANEL_DATABASE_URL": server_database_url} if server_database_url else {}
    built = environment(tmp_path / "var", HOSTPANEL_TOKEN_RATE_LIMIT="0", HOSTPANEL_LOCKOUT_TOKEN_FAILURES="0", **extra)
    hostpanel(built, "init")
    hostpanel(built, "account", "create", "alice", "--password-stdin", stdin=PASSWORD)
    return built


def test_a_token_revoked_on_one_process_is_refused_by_the_other_at_once_under_load(
    env: dict[str, str], tmp_path: Path
) -> None:
    main = json.loads(hostpanel(env, "token", "create", "alice", "main", "--json").stdout)["token"]
    doomed = json.loads(hostpanel(env, "token", "create", "alice", "doomed", "--json").stdout)["token"]
    with ExitStack() as stack:
        first = stack.enter_context(running_server(env, "--http", log=tmp_path / "first.log"))
        second = stack.enter_context(running_server(env, "--http", log=tmp_path / "second.log"))
        doomed_headers = {"Authorization": f"cpanel alice:{doomed}"}
        with httpx.Client(timeout=10) as client:  # the second process has its lease and the token in memory
            for _ in range(20):
                assert client.get(f"{second}/execute/Features/list_features", headers=doomed_headers).status_code == 200
                time.sleep(0.05)
        answers: list[tuple[float, float, int]] = []  # (sent, answered, status) of each request under load
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(timeout=10) as client:
                while not stop.is_set():
                    sent = time.monotonic()
                    status = client.get(f"{second}/execute/Features/list_features", headers=doomed_headers).status_code
                    answers.append((sent, time.monotonic(), status))

        workers = [threading.Thread(target=hammer) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(1.0)
            with httpx.Client(timeout=30) as client:
                revoked = client.post(
                    f"{first}/execute/Tokens/revoke",
                    data={"name": "doomed"},
                    headers={"Authorization": f"cpanel alice:{main}"},
                ).json()
                returned = time.monotonic()
                assert revoked["data"] == 1
                right_after = client.get(f"{second}/execute/Features/list_features", headers=doomed_headers)
            time.sleep(0.5)
        finally:
            stop.set()
            for worker in workers:
                worker.join()
    assert right_after.status_code == 401
    before = [status for sent, answered, status in answers if answered < returned]
    after = [status for sent, _, status in answers if sent > returned]
    assert before.count(200) > 20, "the token was in use before the revocation"
    assert after and set(after) == {401}, f"accepted after the revoke returned: {after.count(200)} of {len(after)}"
