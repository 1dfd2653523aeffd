"""The demo's website as a newcomer meets it: `hostpanel demo` prints how to reach it, its nginx serves the demo
page from the account's public_html, and the nginx the server started goes with it."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import environment, free_port, wait_until

pytestmark = pytest.mark.e2e


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def test_demo_prints_its_site_and_serve_stops_the_nginx_it_started(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hostpanel",
            "demo",
            "--http",
            "--port",
            str(free_port()),
            "--whm-port",
            str(free_port()),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        line = next(line for line in demo.stdout if "Its website:" in line)
        command = shlex.split(line.split("Its website:", 1)[1].split("(")[0])
        assert command == ["curl", "-H", "Host: demo.test", f"http://{env['HOSTPANEL_HTTP_LISTEN']}/"]

        def page() -> str:
            return subprocess.run([*command, "-s"], capture_output=True, text=True, timeout=30, check=False).stdout

        wait_until(lambda: "Served by nginx" in page())
        master = int((tmp_path / "var" / "nginx" / "nginx.pid").read_text())
        assert _alive(master)
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
    wait_until(lambda: not _alive(master))
