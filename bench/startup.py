"""How long a server takes to start with many stored tokens, beside an empty installation, in one run.

For each store size N (0 is the floor: an installation with one token), N tokens are written straight into a fresh
installation (SQLite, or PostgreSQL with `--postgres`), then `hostpanel serve --http --workers 1` is started
`--rounds` times; each time the benchmark measures the seconds from starting the process until:

- **ready**: `/healthz` answers;
- **first call**: an authenticated call (`Features::has_feature`) with one of the stored tokens is answered 200:
  by then the process has learnt which of the N keys exist (the known-key set) and verified the token;
- **unknown refused**: a well-formed key that was never issued is refused (401) from memory.

Medians; the ratio of each size's first call to the floor's. Prints a table and one line of JSON.

    .venv/bin/python -m bench.startup [--sizes 0,1000000] [--rounds 3] [--postgres]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import httpx
from tests.processes import free_dns_port, start_server, stop

from bench.common import CHEAP_HASHING, USER, add_account, add_tokens, install, own_postgres, quick_token, report

FEATURE = "/execute/Features/has_feature?name=apitokens"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="0,1000000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    rows = [measure(int(size), options.rounds, options.postgres) for size in options.sizes.split(",")]
    floor = rows[0]["first_call_s"]
    for row in rows:
        row["first_call_x_floor"] = round(row["first_call_s"] / floor, 2)
    report(
        "startup",
        ["backend", "tokens", "ready_s", "first_call_s", "unknown_refused_s", "first_call_x_floor"],
        rows,
        rounds=options.rounds,
        targets="first_call_s < 3 at 10^6 tokens",
    )


def measure(size: int, rounds: int, postgres: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory, own_postgres("startup") if postgres else nullcontext() as url:
        root = Path(directory)
        container = install(root / "home", url)
        texts = add_tokens(container, add_account(container), max(size, 1))
        container.close()
        env = {key: value for key, value in os.environ.items() if not key.startswith("HOSTPANEL_")}
        env |= {"HOSTPANEL_HOME": str(root / "home"), "HOSTPANEL_DNS_LISTEN": f"127.0.0.1:{free_dns_port()}"}
        env |= {f"HOSTPANEL_{name.upper()}": str(value) for name, value in CHEAP_HASHING.items()}
        if url:
            env["HOSTPANEL_DATABASE_URL"] = url
        token = texts[len(texts) // 2]
        unknown = quick_token(random.Random(size))
        timings = [_start_once(env, root, token, unknown) for _ in range(rounds)]
    found: dict[str, Any] = {"backend": "postgresql" if postgres else "sqlite", "tokens": size}
    for name in ("ready_s", "first_call_s", "unknown_refused_s"):
        found[name] = round(statistics.median(timing[name] for timing in timings), 3)
    return found


def _start_once(env: dict[str, str], root: Path, token: str, unknown: str) -> dict[str, float]:
    started = time.perf_counter()
    process, base = start_server(env, "--http", "--workers", "1", log=root / "serve.log")
    try:
        ready = time.perf_counter() - started
        with httpx.Client(base_url=base, timeout=30) as client:
            answer = client.get(FEATURE, headers={"Authorization": f"cpanel {USER}:{token}"})
            first = time.perf_counter() - started
            assert answer.status_code == 200 and answer.json()["status"] == 1, answer.text
            refused = client.get(FEATURE, headers={"Authorization": f"cpanel {USER}:{unknown}"})
            unknown_s = time.perf_counter() - started
            assert refused.status_code == 401, refused.text
    finally:
        stop(process)
    return {"ready_s": ready, "first_call_s": first, "unknown_refused_s": unknown_s}


if __name__ == "__main__":
    main()
