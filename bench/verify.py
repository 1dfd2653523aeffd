"""Token verification inside the process, beside its floor and a well-known peer, in one run.

For each backend (SQLite; PostgreSQL when HOSTPANEL_BENCH_POSTGRES_URL or HOSTPANEL_TEST_POSTGRES_URL names a server:
the benchmark makes a database of its own there and drops it) and each store size N, N tokens are written straight
into a fresh installation, then, for `--rounds` tokens spread over the table, the median time of:

- **floor**: the same keyed hash (HMAC-SHA256 under the server key) and a lookup in a dict of all N digests;
- **warm**: what the API does per request with the token in the process's cache: parse the `cpanel USER:TOKEN`
  header, parse and checksum the token, look it up in the cache (with the cross-process generation check), HMAC,
  compare, account, expiry and address checks (`TokenAuthenticator.authenticate` over `Container.token_cache`). The
  cache is first filled with min(N, `--warm`) tokens (its default capacity), the probed ones among them;
- **cold**: the same with the token not in the cache: one read transaction and one indexed lookup by the token's key
  joined with its account (the cache's miss path);
- **lookup**: that read transaction and indexed lookup alone, to show a miss costs one lookup and no more;
- **peer**: djangorestframework-api-key's `APIKey.objects.is_valid(key)` with N keys (SQLite), run in a virtual
  environment of the benchmark's own under `--peer-dir` (made on first use; never a project dependency).

Prints a table and one line of JSON, with each median's ratio to the floor measured in the same run.

    .venv/bin/python -m bench.verify [--sizes 1000,100000,1000000] [--rounds 2000] [--no-peer]
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from hashlib import sha256
from pathlib import Path
from typing import Any

from bench.common import USER, add_account, add_tokens, install, median_us, own_postgres, postgres_base, report
from hostpanel.api.auth import parse_authorization
from hostpanel.container import Container
from hostpanel.domain.tokens.cache import TokenCache, lookup
from hostpanel.storage.changes import Topic, changes_for

PEER_REQUIREMENTS = ["djangorestframework-api-key>=3,<4", "djangorestframework>=3.14,<4", "django>=4.2,<7"]
PEER_SCRIPT = Path(__file__).with_name("peers") / "drf_api_key.py"
DEFAULT_PEER_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hostpanel-bench" / "peer-venv"


def measure(container: Container, backend: str, size: int, rounds: int, warm: int) -> dict[str, Any]:
    account_id = add_account(container)
    texts = add_tokens(container, account_id, size)
    step = max(1, size // rounds)
    probes = [texts[n * step] for n in range(min(rounds, size))]
    headers = [f"cpanel {USER}:{text}" for text in probes]
    authenticator, cache = container.authenticator, container.token_cache
    changes = changes_for(container.engine)
    deadline = time.monotonic() + 30
    while changes.generation(Topic.TOKENS) is None:  # PostgreSQL: the listener must hold its lease first
        assert time.monotonic() < deadline, "the cache never became usable"
        time.sleep(0.05)
    spread = max(1, size // warm)
    for text in [*texts[::spread], *probes]:  # the probes last: freshest, within the cache's age limit
        cache.find_by_key(text[5:17])
    find = lookup(container.read)
    missing = TokenCache(find, lambda: changes.generation(Topic.TOKENS), 0, 60)

    def timed(finder: Any) -> float:
        def run(batch: list[str]) -> float:
            pending = iter(batch)

            def once() -> object:
                credentials = parse_authorization(next(pending))
                assert credentials is not None
                return authenticator.authenticate(finder, credentials[0], credentials[1], "127.0.0.1")

            return median_us(once, len(batch))

        run(headers[:200])  # warm-up
        return run(headers)

    warm_us, cold_us = timed(cache), timed(missing)
    keys = iter([text[5:17] for text in probes])
    lookup_us = median_us(lambda: find(next(keys)), len(probes))
    pepper = container.keys.keyring.current
    table = {text[5:17]: hmac.new(pepper, text.encode(), sha256).digest() for text in texts}
    plain = iter(probes)

    def floor() -> bool:
        text = next(plain)
        return hmac.compare_digest(hmac.new(pepper, text.encode(), sha256).digest(), table[text[5:17]])

    floor_us = median_us(floor, len(probes))
    return {
        "backend": backend,
        "tokens": size,
        "floor_us": round(floor_us, 2),
        "warm_us": round(warm_us, 2),
        "warm_x_floor": round(warm_us / floor_us, 2),
        "cold_us": round(cold_us, 2),
        "cold_x_floor": round(cold_us / floor_us, 1),
        "lookup_us": round(lookup_us, 2),
        "cold_x_lookup": round(cold_us / lookup_us, 2),
        "cached": len(cache),
    }


def run_backend(backend: str, sizes: list[int], rounds: int, warm: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as directory:
            if backend == "sqlite":
                container = install(Path(directory) / "home")
                try:
                    rows.append(measure(container, backend, size, rounds, warm))
                finally:
                    container.close()
                continue
            with own_postgres("verify") as url:
                container = install(Path(directory) / "home", url)
                try:
                    rows.append(measure(container, backend, size, rounds, warm))
                finally:
                    container.close()
        print(f"  measured {backend} with {size} tokens", file=sys.stderr)
    return rows


def peer(sizes: list[int], rounds: int, venv: Path) -> dict[str, Any]:
    """djangorestframework-api-key in its own virtual environment (made on first use)."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"  making the peer's environment in {venv}", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *PEER_REQUIREMENTS], check=True)
    with tempfile.TemporaryDirectory() as scratch:
        result = subprocess.run(
            [
                str(python),
                str(PEER_SCRIPT),
                "--sizes",
                ",".join(map(str, sizes)),
                "--rounds",
                str(rounds),
                "--scratch",
                scratch,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=2000)
    parser.add_argument("--warm", type=int, default=100_000, help="tokens put in the cache before measuring")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--peer-dir", type=Path, default=DEFAULT_PEER_DIR)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    rows = run_backend("sqlite", sizes, options.rounds, options.warm)
    if postgres_base():
        rows += run_backend("postgresql", sizes, options.rounds, options.warm)
    else:
        print("  PostgreSQL skipped: set HOSTPANEL_BENCH_POSTGRES_URL", file=sys.stderr)
    peer_name = None
    if not options.no_peer:
        found = peer(sizes, options.rounds, options.peer_dir)
        peer_name = found["peer"]
        peer_by_size = {row["tokens"]: row["peer_median_us"] for row in found["results"]}
        for row in rows:
            peer_us = peer_by_size.get(row["tokens"])
            row["peer_us"] = peer_us
            row["peer_x_floor"] = round(peer_us / row["floor_us"], 1) if peer_us else None
            row["peer_x_warm"] = round(peer_us / row["warm_us"], 1) if peer_us else None
    columns = ["backend", "tokens", "floor_us", "warm_us", "warm_x_floor", "cold_us", "cold_x_floor", "lookup_us"]
    columns += ["cold_x_lookup", "peer_us", "peer_x_floor", "peer_x_warm"]
    report("verify", columns, rows, rounds=options.rounds, peer=peer_name, target="warm_x_floor <= 3 at 10^6")


if __name__ == "__main__":
    main()
