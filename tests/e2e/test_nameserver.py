"""`hostpanel serve` and its nameserver as real processes: started on HOSTPANEL_DNS_LISTEN, started again when it
dies, stopped with the server; `hostpanel demo` prints how to ask it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dns.query
import dns.zone
import pytest

from hostpanel.config import Settings
from hostpanel.nameserver.probe import DnsProbe
from tests.factories import PASSWORD
from tests.processes import environment, free_port, hostpanel, start_server, wait_until

pytestmark = pytest.mark.e2e


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def nameserver_of(pid: int) -> int | None:
    for child in children(pid):
        if b"pdns_server" in Path(f"/proc/{child}/cmdline").read_bytes():
            return child
    return None


def test_serve_runs_its_nameserver_restarts_it_and_stops_it(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    hostpanel(env, "init")
    hostpanel(env, "account", "create", "alice", "--password-stdin", "--domain", "alice.test", stdin=PASSWORD)
    settings = Settings(home=tmp_path / "var", dns_listen=env["HOSTPANEL_DNS_LISTEN"])
    probe = DnsProbe(settings.dns_address)
    process, _ = start_server(env, "--http", log=tmp_path / "serve.log")
    try:
        wait_until(lambda: probe.serial("alice.test") is not None)
        host, port = settings.dns_address
        zone = dns.zone.from_xfr(dns.query.xfr(host, "alice.test", port=port))
        assert zone.get_rdataset("www", "A") is not None
        first = nameserver_of(process.pid)
        assert first is not None
        os.kill(first, signal.SIGKILL)  # the nameserver crashes: the server starts it again
        wait_until(lambda: nameserver_of(process.pid) not in (None, first) and probe.serial("alice.test") is not None)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert probe.serial("alice.test") is None and not probe.answers()  # it went with the server
    assert "Nameserver (PowerDNS) answering on" in (tmp_path / "serve.log").read_text()


def test_demo_prints_a_dig_line_for_its_zone(tmp_path: Path) -> None:
    env = environment(tmp_path / "var")
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "hostpanel", "demo", "--http", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert demo.stdout is not None
        lines = []
        for line in demo.stdout:
            lines.append(line)
            if "Ask its DNS:" in line:
                break
        dig = next(line for line in lines if "Ask its DNS:" in line).split("Ask its DNS:", 1)[1].split("(")[0]
        host, port_text = env["HOSTPANEL_DNS_LISTEN"].split(":")
        assert dig.split() == ["dig", f"@{host}", "-p", port_text, "demo.test", "AXFR"]
        probe = DnsProbe((host, int(port_text)))
        wait_until(lambda: probe.serial("demo.test") is not None)
        answer = subprocess.run(dig.split(), capture_output=True, text=True, timeout=30, check=True).stdout
        assert "www.demo.test." in answer and "SOA" in answer
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
