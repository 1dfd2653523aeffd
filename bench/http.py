"""Authenticated API calls against the same server's unauthenticated health check, over loopback, in one run.

Starts `hostpanel serve --http --workers N` on a fresh installation (SQLite, or PostgreSQL with `--postgres`: a
database of its own on the server named by HOSTPANEL_BENCH_POSTGRES_URL or HOSTPANEL_TEST_POSTGRES_URL), makes an
account with one token (rate limit 1,000,000 per window, so the counter runs but never refuses), and drives it with
Debian's `wrk` (installed with apt-get when missing): the `Authorization: cpanel USER:TOKEN` header comes from a Lua
script. For each endpoint, in turn and with the same connections and threads:

- **max**: as fast as the server answers for `--seconds`: requests/s, p50 and p99 latency;
- **half**: at half of that endpoint's maximum rate (each connection waits between requests, via wrk's `delay()`),
  the latency wrk sees: p50 and p99.

Endpoints: `/healthz` (the baseline: no authentication, no database), `Features::has_feature` (the lightest
authenticated call: authentication, lockout check, rate count, authorisation, the function, the envelope) and
`Tokens::list` of an account with one token (the same plus one database query). Ratios are authenticated/baseline.
Prints a table and one line of JSON.

With `--redis` the server keeps rate counts and login failures in Redis (HOSTPANEL_BENCH_REDIS_URL or
HOSTPANEL_TEST_REDIS_URL, under a prefix of its own). `--workers 1,2,4` measures each number of workers in turn.

    .venv/bin/python -m bench.http [--workers 2] [--connections 16] [--seconds 10] [--postgres] [--redis]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

from tests.processes import free_dns_port, start_server

from bench.common import CHEAP_HASHING, PASSWORD, USER, install, own_postgres, report
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal

ENDPOINTS = {
    "healthz": "/healthz",
    "has_feature": "/execute/Features/has_feature?name=apitokens",
    "tokens_list": "/execute/Tokens/list",
}
LUA = """
local header = os.getenv("BENCH_AUTHORIZATION")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0")
request = function()
  if header and header ~= "" then wrk.headers["Authorization"] = header end
  return wrk.format(nil)
end
if pause > 0 then
  delay = function() return pause end
end
response = function(status)
  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end
end
"""


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
    found = shutil.which("wrk")
    assert found, "wrk is not installed"
    return found


def wrk(
    binary: str, url: str, script: Path, threads: int, connections: int, seconds: int, env: dict[str, str]
) -> dict[str, float]:
    result = subprocess.run(
        [binary, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=True,
    )
    if "status " in result.stderr:
        raise AssertionError(f"non-200 answers from {url}: {result.stderr[:300]}")
    return _parse(result.stdout)


def _parse(output: str) -> dict[str, float]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert rps, output
    found = {"rps": float(rps.group(1))}
    for name, percent in (("p50_ms", "50"), ("p99_ms", "99")):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
        assert match, output
        value = float(match.group(1))
        found[name] = value / 1000 if match.group(2) == "us" else value * 1000 if match.group(2) == "s" else value
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--workers", default="2", help="a number of workers, or several: 1,2,4")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--redis", action="store_true")
    options = parser.parse_args()
    binary = ensure_wrk()
    rows: list[dict[str, Any]] = []
    for workers in (int(number) for number in str(options.workers).split(",")):
        for row in measure(binary, options, workers):
            rows.append({"workers": workers, **row})
    backend = ("postgresql" if options.postgres else "sqlite") + ("+redis" if options.redis else "")
    columns = ["workers", "endpoint", "rps", "rps_ratio", "p50_ms", "p99_ms", "half_rps", "half_p50_ms"]
    report(
        "http",
        [*columns, "half_p99_ms"],
        rows,
        backend=backend,
        connections=options.connections,
        seconds=options.seconds,
        load_generator=f"wrk -t{options.threads} -c{options.connections}",
        targets="tokens_list rps_ratio >= 0.6, half_p99_ms <= 10; has_feature rps_ratio >= 0.9",
    )


def measure(binary: str, options: Any, workers: int) -> list[dict[str, Any]]:
    """One server with `workers` workers on a fresh installation, every endpoint driven in turn."""
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        root = Path(directory)
        url = stack.enter_context(own_postgres("http") if options.postgres else nullcontext(None))
        container = install(root / "home", url)
        with container.uow() as uow:
            account = container.accounts(uow).create(USER, PASSWORD)
            issued = container.tokens(uow).create(
                Principal.admin(account), "bench", None, Permissions.full(), rate_limit=1_000_000
            )
            uow.commit()
        container.close()
        env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTPANEL_")} | {
            "HOSTPANEL_HOME": str(root / "home")
        }
        env["HOSTPANEL_DNS_LISTEN"] = f"127.0.0.1:{free_dns_port()}"  # never the default, which others may hold
        env |= {f"HOSTPANEL_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}  # quick start
        if url:
            env["HOSTPANEL_DATABASE_URL"] = url
        if options.redis:
            redis = os.environ.get("HOSTPANEL_BENCH_REDIS_URL") or os.environ.get("HOSTPANEL_TEST_REDIS_URL")
            assert redis, "set HOSTPANEL_BENCH_REDIS_URL"
            env["HOSTPANEL_REDIS_URL"] = redis
            env["HOSTPANEL_REDIS_PREFIX"] = f"hostpanel-bench-{uuid.uuid4().hex[:8]}:"
        server, base = start_server(env, "--http", "--workers", str(workers), log=root / "serve.log")
        try:
            script = root / "bench.lua"
            script.write_text(LUA)
            return run_all(binary, base, script, options, f"cpanel {USER}:{issued.secret}")
        finally:
            server.terminate()
            server.wait(timeout=30)


def run_all(binary: str, base: str, script: Path, options: Any, authorization: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for name, path in ENDPOINTS.items():
        env = {"BENCH_AUTHORIZATION": "" if name == "healthz" else authorization}
        url = f"{base}{path}"
        wrk(binary, url, script, options.threads, options.connections, 2, env)  # warm-up (caches, pools)
        top = wrk(binary, url, script, options.threads, options.connections, options.seconds, env)
        pause_ms = options.connections / (top["rps"] / 2) * 1000
        half = wrk(
            binary,
            url,
            script,
            options.threads,
            options.connections,
            options.seconds,
            {**env, "BENCH_DELAY_MS": f"{pause_ms:.3f}"},
        )
        rows.append(
            {
                "endpoint": name,
                "rps": round(top["rps"]),
                "p50_ms": top["p50_ms"],
                "p99_ms": top["p99_ms"],
                "half_rps": round(half["rps"]),
                "half_p50_ms": half["p50_ms"],
                "half_p99_ms": half["p99_ms"],
            }
        )
        print(f"  measured {name}", file=sys.stderr)
    baseline = rows[0]["rps"]
    for row in rows:
        row["rps_ratio"] = round(row["rps"] / baseline, 3)
    return rows


if __name__ == "__main__":
    main()
