"""Running hostpanel as real processes: the CLI and the server, with a data directory of the test's own."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade

CHEAP_HASHING = {
    "HOSTPANEL_PASSWORD_TIME_COST": "1",
    "HOSTPANEL_PASSWORD_MEMORY_KIB": "8",
    "HOSTPANEL_PASSWORD_PARALLELISM": "1",
}


def environment(home: Path, **extra: str) -> dict[str, str]:
    """A server's environment: its own data directory, cheap hashing, and nameserver and web server ports of its own
    (servers of parallel tests never share one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOSTPANEL_")}
    dns = {"HOSTPANEL_DNS_LISTEN": f"127.0.0.1:{free_dns_port()}"}
    web = {
        "HOSTPANEL_HTTP_LISTEN": f"127.0.0.1:{free_dns_port()}",
        "HOSTPANEL_HTTPS_LISTEN": f"127.0.0.1:{free_dns_port()}",
    }
    return {**env, **CHEAP_HASHING, "HOSTPANEL_HOME": str(home), **dns, **web, **extra}


def hostpanel(
    env: dict[str, str], *args: str, stdin: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "hostpanel", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"hostpanel {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed CLI command printed, without its prefix; no traceback came with it."""
    stderr = result.stderr
    assert result.returncode != 0
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("hostpanel: error: ")
    return lines[0].removeprefix("hostpanel: error: ")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_dns_port() -> int:
    """A port free for both TCP and UDP on 127.0.0.1 (a nameserver answers on both), below the ephemeral range: an
    ephemeral port found free may be taken by an outgoing connection before the nameserver binds it."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32700)
        with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                tcp.bind(("127.0.0.1", port))
                udp.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port
    raise AssertionError("no port free for both TCP and UDP")


def start_server(
    env: dict[str, str], *args: str, log: Path, port: int | None = None, whm_port: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `hostpanel serve` (HTTPS unless `--http`) and wait until it answers; the caller stops it. WHM listens
    on `whm_port` (a free one by default: never WHM's 2087, which parallel tests would share)."""
    port = port or free_port()
    whm_port = whm_port or free_port()
    with log.open("a") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "hostpanel", "serve", "--port", str(port), "--whm-port", str(whm_port), *args],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"{'http' if '--http' in args else 'https'}://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{base}/healthz", verify=False, timeout=2).status_code == 200:
                return process, base
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


@contextmanager
def running_servers(env: dict[str, str], *args: str, log: Path) -> Iterator[tuple[str, str]]:
    """`running_server` with both ports: yields the account port's base URL and WHM's."""
    whm_port = free_port()
    process, base = start_server(env, *args, log=log, whm_port=whm_port)
    try:
        yield base, f"{base.rsplit(':', 1)[0]}:{whm_port}"
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(env: dict[str, str], *args: str, log: Path) -> Iterator[str]:
    """Start `hostpanel serve` on a free port (HTTPS unless `--http`); yield its base URL; stop it with SIGTERM."""
    process, base = start_server(env, *args, log=log)
    try:
        yield base
    finally:
        stop(process)


def installed(settings: Settings) -> Container:
    """A fresh installation in-process: data directory, server key and a migrated database, and its container."""
    settings.home_dir.mkdir(parents=True, exist_ok=True)
    create_key_file(settings.key_path)
    engine = make_engine(settings.database_url_or_default)
    upgrade(engine)
    engine.dispose()
    return Container(settings)


def wait_until(check: Callable[[], bool], seconds: float = 20) -> None:
    """Poll `check` until it holds (a process's outside effects, which nothing announces)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.05)
