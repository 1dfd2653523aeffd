"""Killing the server (SIGKILL: no cleanup of any kind) in the middle of an upload and of a backup, then starting it
again: no partial file and no finished-looking archive may remain, and the interrupted backup is reported as such."""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.factories import PASSWORD
from tests.processes import environment, hostpanel, start_server

pytestmark = pytest.mark.e2e

BOUNDARY = "crashtestboundary"


@pytest.fixture
def setup(tmp_path: Path) -> tuple[dict[str, str], str, Path]:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    token = json.loads(hostpanel(env, "token", "create", "alice", "crash", "--json").stdout)["token"]
    return env, token, tmp_path / "var" / "homes"


def api(base: str, token: str, function: str, **form: str) -> dict[str, Any]:
    headers = {"Authorization": f"cpanel alice:{token}"}
    with httpx.Client(verify=False, timeout=30) as client:
        body: dict[str, Any] = client.post(f"{base}/execute/{function}", data=form, headers=headers).json()
    return body


def slow_multipart(sent: threading.Event, size: int) -> Iterator[bytes]:
    """A file part sent in pieces with pauses, so the server is killed while it is still arriving."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file-0"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    for n in range(size // 65536):
        yield b"x" * 65536
        if n == 16:
            sent.set()
        time.sleep(0.01)
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def test_a_server_killed_during_an_upload_leaves_no_partial_file(
    setup: tuple[dict[str, str], str, Path], tmp_path: Path
) -> None:
    env, token, homes = setup
    log = tmp_path / "serve.log"
    server, base = start_server(env, log=log)
    staging = homes / ".staging" / "alice"
    sent = threading.Event()

    def upload() -> None:
        headers = {
            "Authorization": f"cpanel alice:{token}",
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
        }
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it: expected
            httpx.post(
                f"{base}/execute/Fileman/upload_files?dir=public_html",
                content=slow_multipart(sent, 32 * 1024 * 1024),
                headers=headers,
                verify=False,
                timeout=60,
            )

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        assert sent.wait(30)
        deadline = time.monotonic() + 10
        while not any(name.startswith("upload-") for name in _names(staging)) and time.monotonic() < deadline:
            time.sleep(0.05)
        partial = [p for p in staging.iterdir() if p.name.startswith("upload-")]
        assert partial and partial[0].stat().st_size > 0, "the upload was not under way when the server was killed"
    finally:
        server.kill()
        server.wait()
        uploader.join()
    assert not (homes / "alice" / "public_html" / "big.bin").exists()
    assert _names(staging)  # the dead process's staged bytes are still there, outside the home...
    server, base = start_server(env, log=log)
    try:
        assert _names(staging) == []  # ...until the restart removes them
        assert not (homes / "alice" / "public_html" / "big.bin").exists()
        body = api(base, token, "Fileman/save_file_content", dir="public_html", file="after.txt", content="ok")
        assert body["status"] == 1
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_a_server_killed_during_a_backup_leaves_no_finished_looking_archive(
    setup: tuple[dict[str, str], str, Path], tmp_path: Path
) -> None:
    env, token, homes = setup
    home = homes / "alice"
    for n in range(6):
        (home / "public_html" / f"data{n}.bin").write_bytes(os.urandom(32 * 1024 * 1024))
    log = tmp_path / "serve.log"
    server, base = start_server(env, log=log)
    try:
        started = api(base, token, "Backup/fullbackup_to_homedir")
        assert started["status"] == 1, started
        pid = started["data"]["pid"]
        deadline = time.monotonic() + 30
        while True:
            status = api(base, token, "Backup/backup_status", pid=pid)["data"]
            if status["bytes_done"] > 0 or status["status"] != "running" or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert status["status"] == "running" and 0 < status["percent"] < 100, status
    finally:
        server.kill()
        server.wait()
    assert not [name for name in _names(home) if name.startswith("backup-")]
    assert [name.endswith(".tar.gz.partial") for name in _names(homes / ".staging" / "alice")] == [True]
    server, base = start_server(env, log=log)
    try:
        status = api(base, token, "Backup/backup_status", pid=pid)["data"]
        assert status["status"] == "failed" and status["error"].startswith("Interrupted"), status
        [listed] = api(base, token, "Backup/list_backups")["data"]
        assert (listed["status"], listed["exists"]) == ("failed", 0)
        assert _names(homes / ".staging" / "alice") == []
        assert not [name for name in _names(home) if name.startswith("backup-")]
    finally:
        server.terminate()
        server.wait(timeout=20)


def _names(folder: Path) -> list[str]:
    return sorted(os.listdir(folder)) if folder.exists() else []
