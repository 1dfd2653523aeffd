"""DNS edits through `DNS::mass_edit_zone`, beside the nameserver's own query rate, in one run.

A fresh installation (SQLite, or PostgreSQL with `--postgres`) with one account and its zone, PowerDNS started on it
as `hostpanel serve` starts it, and the API served in-process (the shared endpoint, gate and dialect; no network).
Then, alternately, `--edits` calls of `mass_edit_zone` that add an `_acme-challenge` TXT value and remove it again
(each against the serial the previous answer gave, as a client does). For each: the time from the call's start
until the nameserver answers with the change (the call returns once it does; one more UDP query confirms it here).
Beside it, the same nameserver's own rate of authoritative UDP queries (`--queries` of them from 4 processes) and the
latency of one query: the floor a change can never beat.

Prints edits per second, the visibility latency (median and p99), the nameserver's queries per second and single
query latency, and their ratios, as a table and one line of JSON.

    .venv/bin/python -m bench.dns [--edits 400] [--queries 20000] [--postgres]
"""

from __future__ import annotations

import argparse
import base64
import json
import socket
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import dns.flags
import dns.message
import dns.query
from dns.rdtypes.ANY.TXT import TXT
from starlette.testclient import TestClient
from tests.processes import free_dns_port

from bench.common import PASSWORD, USER, install, own_postgres, postgres_base, report
from hostpanel.app import create_app
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.nameserver.pdns import PowerDns

ZONE = "bench.test"
NAME = f"_acme-challenge.{ZONE}"


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _query(address: tuple[str, int], name: str, kind: str) -> dns.message.Message:
    query = dns.message.make_query(name, kind)
    query.flags &= ~dns.flags.RD
    return dns.query.udp(query, address[0], port=address[1], timeout=2)


def _txt_values(address: tuple[str, int], name: str) -> set[str]:
    answer = _query(address, name, "TXT")
    return {b"".join(rdata.strings).decode() for rrset in answer.answer for rdata in rrset if isinstance(rdata, TXT)}


def edits(client: TestClient, headers: dict[str, str], address: tuple[str, int], count: int) -> dict[str, float]:
    """`count` edits, alternately adding and removing a challenge; returns the figures."""
    zone = client.get("/execute/DNS/parse_zone", params={"zone": ZONE}, headers=headers).json()["data"]
    serial = base64.b64decode(next(i for i in zone if i.get("record_type") == "SOA")["data_b64"][2]).decode()
    line = max(item["line_index"] for item in zone) + 1  # where the next added record lands
    latencies, durations = [], []
    started_all = time.perf_counter()
    for n in range(count):
        value = f"value-{n // 2}"
        change = (
            {"add": json.dumps({"dname": "_acme-challenge", "ttl": 60, "record_type": "TXT", "data": [value]})}
            if n % 2 == 0
            else {"remove": str(line)}
        )
        started = time.perf_counter()
        answer = client.post(
            "/execute/DNS/mass_edit_zone", data={"zone": ZONE, "serial": serial, **change}, headers=headers
        ).json()
        returned = time.perf_counter()
        assert answer["status"] == 1, answer
        serial = answer["data"]["new_serial"]
        while (value in _txt_values(address, NAME)) != (n % 2 == 0):  # the nameserver answers with the change
            pass
        latencies.append(time.perf_counter() - started)
        durations.append(returned - started)
    total = time.perf_counter() - started_all
    return {
        "edits_per_s": count / total,
        "edit_call_median_ms": statistics.median(durations) * 1e3,
        "visible_median_ms": statistics.median(latencies) * 1e3,
        "visible_p99_ms": percentile(latencies, 0.99) * 1e3,
    }


def _ask_many(address: tuple[str, int], times: int) -> int:
    """`times` authoritative SOA queries, one after the other on one socket (a prebuilt query, the id checked):
    as little client work as a client can do, so the rate is the nameserver's."""
    wire = bytearray(dns.message.make_query(ZONE, "SOA").to_wire())
    wire[2] &= 0xFE  # no recursion wanted
    answered = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(2)
        sock.connect(address)
        for n in range(times):
            wire[0:2] = (n & 0xFFFF).to_bytes(2, "big")
            sock.send(wire)
            while sock.recv(4096)[0:2] != wire[0:2]:
                pass
            answered += 1
    return answered


def queries(address: tuple[str, int], count: int, senders: int = 4) -> dict[str, float]:
    """The nameserver's own rate: authoritative UDP queries for the zone's SOA from `senders` processes."""
    single = []
    for _ in range(200):
        started = time.perf_counter()
        _query(address, ZONE, "SOA")
        single.append(time.perf_counter() - started)
    with ProcessPoolExecutor(senders) as pool:
        list(pool.map(_ask_many, [address] * senders, [10] * senders))  # the processes are up
        started = time.perf_counter()
        answered = sum(pool.map(_ask_many, [address] * senders, [count // senders] * senders))
        elapsed = time.perf_counter() - started
    return {"queries_per_s": answered / elapsed, "query_median_ms": statistics.median(single) * 1e3}


def run(home: Path, database_url: str | None, edit_count: int, query_count: int) -> dict[str, float]:
    address = ("127.0.0.1", free_dns_port())
    container = install(home, database_url, dns_listen=f"{address[0]}:{address[1]}", token_rate_limit=0)
    nameserver = PowerDns(container.settings)
    nameserver.start()
    try:
        with container.uow() as uow:
            account = container.accounts(uow).create(USER, PASSWORD, None, (ZONE,))
            uow.commit()
        with container.uow() as uow:
            token = container.tokens(uow).create(Principal.admin(account), "bench", None, Permissions.full())
            uow.commit()
        headers = {"Authorization": f"cpanel {USER}:{token.secret}"}
        with TestClient(create_app(container), base_url="https://bench") as client:
            figures = edits(client, headers, address, edit_count)
        figures.update(queries(address, query_count))
    finally:
        nameserver.stop()
        container.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=400, help="mass_edit_zone calls (half add, half remove)")
    parser.add_argument("--queries", type=int, default=20_000, help="UDP queries for the nameserver's own rate")
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL (HOSTPANEL_BENCH_POSTGRES_URL)")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hostpanel-bench-dns-") as folder:
        if options.postgres:
            assert postgres_base(), "set HOSTPANEL_BENCH_POSTGRES_URL (or HOSTPANEL_TEST_POSTGRES_URL)"
            with own_postgres("dns") as url:
                figures = run(Path(folder) / "home", url, options.edits, options.queries)
        else:
            figures = run(Path(folder) / "home", None, options.edits, options.queries)
    backend = "postgresql" if options.postgres else "sqlite"
    rows = [
        {"measure": "edits per second (mass_edit_zone)", "value": figures["edits_per_s"]},
        {"measure": "edit call, median ms", "value": figures["edit_call_median_ms"]},
        {"measure": "call start to answered, median ms", "value": figures["visible_median_ms"]},
        {"measure": "call start to answered, p99 ms", "value": figures["visible_p99_ms"]},
        {"measure": "nameserver queries per second (4 senders)", "value": figures["queries_per_s"]},
        {"measure": "one query, median ms", "value": figures["query_median_ms"]},
    ]
    ratios = {
        "queries_per_edit": figures["queries_per_s"] / figures["edits_per_s"],
        "visible_median_over_one_query": figures["visible_median_ms"] / figures["query_median_ms"],
    }
    report(
        "dns",
        ["measure", "value"],
        rows,
        backend=backend,
        edits=options.edits,
        queries=options.queries,
        ratios=ratios,
    )
    print(
        f"{backend}: {figures['edits_per_s']:.0f} edits/s, each answered by the nameserver "
        f"{figures['visible_median_ms']:.1f} ms (median; p99 {figures['visible_p99_ms']:.1f} ms) after the call began, "
        f"= {ratios['visible_median_over_one_query']:.1f}x one query; the nameserver alone: "
        f"{figures['queries_per_s']:.0f} queries/s ({ratios['queries_per_edit']:.1f}x the edit rate)"
    )


if __name__ == "__main__":
    main()
