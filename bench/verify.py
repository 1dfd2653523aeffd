"""Token verification inside the process, beside its floors and two well-known peers, in one run.

For each backend (SQLite; PostgreSQL when HOSTPANEL_BENCH_POSTGRES_URL or HOSTPANEL_TEST_POSTGRES_URL names a server:
the benchmark makes a database of its own there and drops it) and each store size N, N tokens are written straight
into a fresh installation, then, over `--rounds` timed verifications per row (tokens spread over the table), the
median µs of:

- **floor hit / miss**: HMAC-SHA256 under the server key (`hmac.digest`, the one-call form) and a lookup in a dict
  of all N digests (found / not);
- **floor pk**: HMAC-SHA256 and a primary-key lookup of the digest on a bare driver connection with a prepared
  statement (sqlite3; psycopg on PostgreSQL): what the database cannot do faster;
- **warm hit / miss / wrong**: what the API does per request (`TokenAuthenticator.authenticate` after parsing the
  `cpanel USER:TOKEN` header, over `Container.token_cache`) for a token in the process's memory, for a well-formed
  key never issued, and for a token in memory presented with a wrong secret;
- **cold hit / miss**: the same for a token not in memory (its first use by this process, or after its entry was
  dropped) and for a never-issued key, through a cache that keeps nothing;
- **peers**: djangorestframework-api-key's `APIKey.objects.is_valid(key)` and django-rest-knox's
  `TokenAuthentication().authenticate_credentials(token)`, each with N keys on SQLite (hit and miss), run in a
  virtual environment of the benchmark's own under `--peer-dir` (made on first use; never a project dependency).

Also: how long this process took to learn which keys exist (`load_s`), the memory that costs per stored token
(`bytes_per_key`), and the refusal timing of an unknown key against a wrong secret (`miss_x_wrong`).

Prints a table and one line of JSON; every ratio is to a figure measured in the same run.

    .venv/bin/python -m bench.verify [--sizes 1000,100000,1000000] [--rounds 20000] [--no-peer]
"""

from __future__ import annotations

import argparse
import hmac
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.common import (
    USER,
    add_account,
    add_tokens,
    install,
    median_us,
    own_postgres,
    postgres_base,
    quick_token,
    report,
)
from hostpanel.api.auth import parse_authorization
from hostpanel.container import Container
from hostpanel.domain.errors import AuthenticationFailed
from hostpanel.domain.tokens import secret
from hostpanel.domain.tokens.cache import TokenCache, all_keys
from hostpanel.storage.changes import Topic, changes_for

PEER_REQUIREMENTS = [
    "djangorestframework-api-key>=3,<4",
    "django-rest-knox>=5,<6",
    "djangorestframework>=3.14,<4",
    "django>=4.2,<7",
]
PEER_SCRIPT = Path(__file__).with_name("peers") / "django_peers.py"
DEFAULT_PEER_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hostpanel-bench" / "peer-venv"
KEY = slice(len(secret.PREFIX), len(secret.PREFIX) + secret.KEY_LENGTH)


def cold_cache(container: Container) -> TokenCache:
    """A cache in front of the same lookup that keeps nothing: every key that exists is read from the database."""
    feed = changes_for(container.engine)
    cold = TokenCache(container.key_lookup, feed, 0, 60, keys=all_keys(container.read))
    cold.load()
    return cold


def load_cache(container: Container) -> tuple[TokenCache, float, float]:
    """The process's cache, made as serving makes it: (cache, seconds, bytes per stored token it holds at start)."""
    tracemalloc.start()
    started = time.perf_counter()
    cache = container.token_cache
    warm_up = getattr(cache, "load", None)
    if warm_up is not None:
        warm_up()
    seconds = time.perf_counter() - started
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return cache, seconds, held


def measure(container: Container, backend: str, size: int, rounds: int, warm: int) -> dict[str, Any]:
    account_id = add_account(container)
    texts = add_tokens(container, account_id, size)
    probes = [texts[(n * size // rounds) % size] for n in range(rounds)] if rounds <= size else texts * (rounds // size)
    probes = probes[:rounds]
    rng = random.Random(7)
    unknown = [quick_token(rng) for _ in range(rounds)]
    wrong = [_wrong_secret(text, rng) for text in probes]
    changes = changes_for(container.engine)
    deadline = time.monotonic() + 30
    while changes.generation(Topic.TOKENS) is None:  # PostgreSQL: the listener must hold its lease first
        assert time.monotonic() < deadline, "the cache never became usable"
        time.sleep(0.05)
    cache, load_s, held = load_cache(container)
    authenticator = container.authenticator
    spread = max(1, size // warm)
    for text in [*texts[::spread], *probes]:  # the probes last: freshest, within the cache's capacity
        cache.find_by_key(text[KEY])
    cold = cold_cache(container)

    def verify(finder: Any, presented: list[str], accepted: bool) -> float:
        headers = [f"cpanel {USER}:{text}" for text in presented]

        def run(batch: list[str]) -> float:
            pending = iter(batch)

            def once() -> object:
                credentials = parse_authorization(next(pending))
                assert credentials is not None
                try:
                    authenticator.authenticate(finder, credentials[0], credentials[1], "127.0.0.1")
                except AuthenticationFailed:
                    assert not accepted
                    return None
                assert accepted
                return None

            return median_us(once, len(batch))

        run(headers[:200])  # warm-up
        return run(headers)

    row: dict[str, Any] = {"backend": backend, "tokens": size}
    row.update(floors(container, texts, probes, unknown))
    row["warm_hit_us"] = verify(cache, probes, True)
    row["warm_miss_us"] = verify(cache, unknown, False)
    row["warm_wrong_us"] = verify(cache, wrong, False)
    row["cold_hit_us"] = verify(cold, probes, True)
    row["cold_miss_us"] = verify(cold, unknown, False)
    row["load_s"] = round(load_s, 3)
    row["bytes_per_key"] = round(held / size, 1)  # what loading left allocated, over the stored tokens
    row["cached"] = len(cache)
    return row


def _wrong_secret(text: str, rng: random.Random) -> str:
    body = text[: len(secret.PREFIX) + secret.KEY_LENGTH + 1] + "".join(
        rng.choices(secret.ALPHABET, k=secret.SECRET_LENGTH)
    )
    return body + secret.checksum(body)


def floors(container: Container, texts: list[str], probes: list[str], unknown: list[str]) -> dict[str, float]:
    """HMAC + dict (hit, miss) and HMAC + a primary-key lookup on the bare driver, over the same probes."""
    pepper = container.keys.keyring.current
    table = {text[KEY]: hmac.digest(pepper, text.encode(), "sha256") for text in texts}
    missing = b"\0" * 32

    def dict_floor(presented: list[str]) -> float:
        pending = iter(presented)

        def once() -> bool:
            text = next(pending)
            computed = hmac.digest(pepper, text.encode(), "sha256")
            return hmac.compare_digest(computed, table.get(text[KEY], missing))

        return median_us(once, len(presented))

    ids = {text: n + 1 for n, text in enumerate(texts)}  # add_tokens writes them in order on a fresh table
    pk_floor = _pk_floor(container, pepper, [(text, ids[text]) for text in probes])
    return {
        "floor_hit_us": dict_floor(probes),
        "floor_miss_us": dict_floor(unknown),
        "floor_pk_us": pk_floor,
    }


def _pk_floor(container: Container, pepper: bytes, probes: list[tuple[str, int]]) -> float:
    engine = container.engine
    raw = engine.raw_connection()
    try:
        driver: Any = raw.driver_connection
        postgres = engine.dialect.name == "postgresql"
        if postgres:
            driver.autocommit = True
        query = "SELECT digest FROM api_tokens WHERE id = " + ("%s" if postgres else "?")
        pending = iter(probes)

        def once() -> bool:
            text, token_id = next(pending)
            if postgres:
                row = driver.execute(query, (token_id,), prepare=True).fetchone()
            else:
                row = driver.execute(query, (token_id,)).fetchone()
            computed = hmac.digest(pepper, text.encode(), "sha256")
            return hmac.compare_digest(computed, bytes(row[0]))

        for _ in range(200):
            once()
        pending = iter(probes)
        return median_us(once, len(probes))
    finally:
        raw.close()


def run_backend(backend: str, sizes: list[int], rounds: int, warm: int) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        with tempfile.TemporaryDirectory() as directory:
            if backend == "sqlite":
                rows.append(_measured(Path(directory) / "home", None, backend, size, rounds, warm))
            else:
                with own_postgres("verify") as url:
                    rows.append(_measured(Path(directory) / "home", url, backend, size, rounds, warm))
        print(f"  measured {backend} with {size} tokens", file=sys.stderr)
    return rows


def _measured(home: Path, url: str | None, backend: str, size: int, rounds: int, warm: int) -> dict[str, Any]:
    container = install(home, url)
    try:
        return measure(container, backend, size, rounds, warm)
    finally:
        container.close()


def peers(sizes: list[int], rounds: int, venv: Path) -> dict[str, Any]:
    """djangorestframework-api-key and django-rest-knox in their own virtual environment (made on first use)."""
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"  making the peers' environment in {venv}", file=sys.stderr)
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
            stdout=subprocess.PIPE,
            text=True,
        )
    found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return found


def ratios(row: dict[str, Any]) -> None:
    """Each target's ratio, from figures of the same run."""
    divide: Callable[[str, str], float | None] = lambda a, b: (  # noqa: E731
        round(row[a] / row[b], 2) if row.get(a) and row.get(b) else None
    )
    row["warm_hit_x_floor"] = divide("warm_hit_us", "floor_hit_us")
    row["warm_miss_x_floor"] = divide("warm_miss_us", "floor_hit_us")
    row["cold_miss_x_floor"] = divide("cold_miss_us", "floor_hit_us")
    row["cold_hit_x_pk"] = divide("cold_hit_us", "floor_pk_us")
    row["miss_x_wrong"] = divide("warm_miss_us", "warm_wrong_us")
    row["drf_x_cold_hit"] = divide("drf_hit_us", "cold_hit_us")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--rounds", type=int, default=20_000)
    parser.add_argument("--warm", type=int, default=100_000, help="tokens put in the cache before measuring")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--peer-dir", type=Path, default=DEFAULT_PEER_DIR)
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]
    rows = run_backend("sqlite", sizes, options.rounds, options.warm)
    if postgres_base() and not options.no_postgres:
        rows += run_backend("postgresql", sizes, options.rounds, options.warm)
    else:
        print("  PostgreSQL skipped: set HOSTPANEL_BENCH_POSTGRES_URL", file=sys.stderr)
    peer_labels = None
    if not options.no_peer:
        found = peers(sizes, options.rounds, options.peer_dir)
        peer_labels = {name: peer["label"] for name, peer in found["peers"].items()}
        for name, peer in found["peers"].items():
            by_size = {result["tokens"]: result for result in peer["results"]}
            for row in rows:
                measured = by_size.get(row["tokens"], {})
                row[f"{name}_hit_us"] = measured.get("hit_us")
                row[f"{name}_miss_us"] = measured.get("miss_us")
        for row in rows:
            row["drf_hit_us"] = row.get("drf_api_key_hit_us")
    for row in rows:
        ratios(row)
    columns = ["backend", "tokens", "floor_hit_us", "floor_miss_us", "floor_pk_us", "warm_hit_us", "warm_miss_us"]
    columns += ["warm_wrong_us", "cold_hit_us", "cold_miss_us", "drf_api_key_hit_us", "drf_api_key_miss_us"]
    columns += ["knox_hit_us", "knox_miss_us", "warm_hit_x_floor", "warm_miss_x_floor", "cold_hit_x_pk"]
    columns += ["miss_x_wrong", "drf_x_cold_hit", "load_s", "bytes_per_key"]
    report(
        "verify",
        columns,
        rows,
        rounds=options.rounds,
        peers=peer_labels,
        targets="warm_hit_x_floor <= 2.5; warm_miss_x_floor <= 3; cold_hit_x_pk <= 4; drf_x_cold_hit >= 5",
    )


if __name__ == "__main__":
    main()
