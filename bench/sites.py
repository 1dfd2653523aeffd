"""Sites: the time from `SubDomain::addsubdomain` to the first 200 from nginx, and nginx's static-file throughput for
a site as the panel configures it beside nginx serving the same file from a minimal hand-written configuration, in
one run.

A fresh installation (SQLite) with one account, PowerDNS and nginx started as `hostpanel serve` starts them, and the
API served in-process. `--subdomains` times, a page is put in a new folder and `SubDomain::addsubdomain` called for
it; the clock runs from the call's start until nginx first answers 200 with that page for the new name (asked on a
new connection right after the call returns, and again until it does). Then `wrk` (Debian's; else a small Python
client, which is then the bottleneck) requests one static file for `--seconds` from the panel's nginx (its generated
configuration: `disable_symlinks`, the default server beside, every site of the account) and from a second nginx
run on a hand-written configuration (one server, `root`, `sendfile`, the same worker count), alternately,
`--rounds` times each: the medians, and the median of each round's ratio (the machine's other load moves both).

Prints the addsubdomain figures (median, p99, the call alone) and the two request rates with their ratio, as a
table and one line of JSON.

    .venv/bin/python -m bench.sites [--subdomains 40] [--seconds 5] [--size 16384]
"""

from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from starlette.testclient import TestClient
from tests.processes import free_dns_port

from bench.common import PASSWORD, USER, install, report
from hostpanel.app import create_app
from hostpanel.container import Container
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.nameserver.pdns import PowerDns
from hostpanel.webserver.nginx import NginxProcess, binary

DOMAIN = "bench.test"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def get(port: int, host: str, path: str = "/") -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := connection.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def subdomains(client: TestClient, headers: dict[str, str], public: Path, port: int, count: int) -> dict[str, float]:
    to_200, calls, first_try = [], [], 0
    for n in range(count):
        label = f"s{n}"
        (public / label).mkdir()
        (public / label / "index.html").write_text(label)
        params = {"domain": label, "rootdomain": DOMAIN, "dir": f"public_html/{label}"}
        started = time.perf_counter()
        answer = client.get("/execute/SubDomain/addsubdomain", params=params, headers=headers).json()
        returned = time.perf_counter()
        assert answer["status"] == 1, answer
        tries = 0
        while get(port, f"{label}.{DOMAIN}") != (200, label.encode()):
            tries += 1
        first_try += tries == 0
        to_200.append(time.perf_counter() - started)
        calls.append(returned - started)
    return {
        "to_200_median_ms": statistics.median(to_200) * 1e3,
        "to_200_p99_ms": percentile(to_200, 0.99) * 1e3,
        "call_median_ms": statistics.median(calls) * 1e3,
        "served_at_first_request": first_try / count,
    }


def wrk(port: int, host: str, path: str, seconds: int) -> float:
    """Requests per second over keep-alive connections (wrk: 2 threads, 32 connections)."""
    tool = shutil.which("wrk")
    if tool is None:
        return python_load(port, host, path, seconds)
    output = subprocess.run(
        [tool, "-t2", "-c32", f"-d{seconds}s", "-H", f"Host: {host}", f"http://127.0.0.1:{port}{path}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Non-2xx" not in output, output
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    return float(match.group(1))


def python_load(port: int, host: str, path: str, seconds: int) -> float:
    """One keep-alive connection, requests one after the other (the client is the bottleneck: a floor only)."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    done = 0
    with socket.create_connection(("127.0.0.1", port)) as connection:
        stream = connection.makefile("rb")
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            connection.sendall(request)
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            stream.read(length)
            done += 1
    return done / seconds


def hand_written(folder: Path, docroot: Path, port: int) -> subprocess.Popen[bytes]:
    """nginx on a minimal configuration of our own writing: the same file, nothing else."""
    (folder / "tmp").mkdir(parents=True)
    user = "user root;\n" if Path("/proc/self").stat().st_uid == 0 else ""
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}daemon off;\nworker_processes auto;\npid {folder}/nginx.pid;\nerror_log {folder}/error.log;\n"
        "events { worker_connections 1024; }\n"
        f"http {{\n  include /etc/nginx/mime.types;\n  sendfile on;\n  tcp_nopush on;\n  access_log off;\n"
        f"  client_body_temp_path {folder}/tmp/b;\n  proxy_temp_path {folder}/tmp/p;\n"
        f"  fastcgi_temp_path {folder}/tmp/f;\n  uwsgi_temp_path {folder}/tmp/u;\n  scgi_temp_path {folder}/tmp/s;\n"
        f"  server {{ listen 127.0.0.1:{port}; server_name {DOMAIN}; root {docroot}; }}\n}}\n"
    )
    nginx = binary()
    assert nginx is not None, "nginx is not installed"
    process = subprocess.Popen([nginx, "-p", f"{folder}/", "-c", str(conf), "-e", str(folder / "error.log")])
    deadline = time.monotonic() + 10
    while True:
        try:
            if get(port, DOMAIN, "/file.bin")[0] == 200:
                return process
        except OSError:
            pass
        assert time.monotonic() < deadline, (folder / "error.log").read_text()
        time.sleep(0.05)


def run(home: Path, count: int, seconds: int, size: int, rounds: int) -> dict[str, float]:
    dns_port, http_port, https_port, plain_port = (free_dns_port() for _ in range(4))
    container: Container = install(
        home,
        None,
        dns_listen=f"127.0.0.1:{dns_port}",
        http_listen=f"127.0.0.1:{http_port}",
        https_listen=f"127.0.0.1:{https_port}",
        token_rate_limit=0,
    )
    nameserver, webserver = PowerDns(container.settings), NginxProcess(container.nginx_sites)
    nameserver.start()
    webserver.start()
    plain = None
    try:
        with container.uow() as uow:
            account = container.accounts(uow).create(USER, PASSWORD, None, (DOMAIN,))
            uow.commit()
        with container.uow() as uow:
            token = container.tokens(uow).create(Principal.admin(account), "bench", None, Permissions.full())
            uow.commit()
        headers = {"Authorization": f"cpanel {USER}:{token.secret}"}
        public = container.homes.path_for(USER) / "public_html"
        with TestClient(create_app(container), base_url="https://bench") as client:
            figures = subdomains(client, headers, public, http_port, count)
        (public / "file.bin").write_bytes(bytes(range(256)) * (size // 256))
        assert get(http_port, DOMAIN, "/file.bin")[0] == 200
        plain = hand_written(home / "plain", public, plain_port)
        panel_rates, plain_rates = [], []
        for _ in range(rounds):
            panel_rates.append(wrk(http_port, DOMAIN, "/file.bin", seconds))
            plain_rates.append(wrk(plain_port, DOMAIN, "/file.bin", seconds))
        figures["panel_rps"], figures["plain_rps"] = statistics.median(panel_rates), statistics.median(plain_rates)
        figures["round_ratios"] = statistics.median(p / q for p, q in zip(panel_rates, plain_rates, strict=True))
    finally:
        if plain is not None:
            plain.terminate()
            plain.wait(timeout=10)
        webserver.stop()
        nameserver.stop()
        container.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subdomains", type=int, default=40, help="addsubdomain calls")
    parser.add_argument("--seconds", type=int, default=5, help="length of each throughput run")
    parser.add_argument("--size", type=int, default=16384, help="bytes of the static file")
    parser.add_argument("--rounds", type=int, default=5, help="throughput runs of each, alternating")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hostpanel-bench-sites-") as folder:
        figures = run(Path(folder) / "home", options.subdomains, options.seconds, options.size, options.rounds)
    ratio = figures["panel_rps"] / figures["plain_rps"]
    rows = [
        {"measure": "addsubdomain call start to first 200, median ms", "value": figures["to_200_median_ms"]},
        {"measure": "addsubdomain call start to first 200, p99 ms", "value": figures["to_200_p99_ms"]},
        {"measure": "addsubdomain call alone, median ms", "value": figures["call_median_ms"]},
        {"measure": "share served at the first request after the call", "value": figures["served_at_first_request"]},
        {"measure": f"static {options.size} B file, panel's nginx, requests/s", "value": figures["panel_rps"]},
        {"measure": f"static {options.size} B file, hand-written nginx, requests/s", "value": figures["plain_rps"]},
    ]
    tool = "wrk" if shutil.which("wrk") else "python"
    report(
        "sites",
        ["measure", "value"],
        rows,
        subdomains=options.subdomains,
        load=tool,
        ratios={"panel_over_plain": ratio, "median_round_ratio": figures["round_ratios"]},
    )
    print(
        f"addsubdomain → first 200: {figures['to_200_median_ms']:.0f} ms median "
        f"(p99 {figures['to_200_p99_ms']:.0f} ms; {figures['served_at_first_request']:.0%} served at the first "
        f"request); static file: {figures['panel_rps']:.0f} req/s from the panel's configuration, "
        f"{figures['plain_rps']:.0f} req/s hand-written (ratio {ratio:.2f}; per round {figures['round_ratios']:.2f}; "
        f"{tool})"
    )


if __name__ == "__main__":
    main()
