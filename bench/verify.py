"""Token verification cost inside the process, beside its floor, in one run.

For each store size N: N tokens are written straight into a fresh SQLite database (the fast way to get there), then
the median time of `TokenAuthenticator.authenticate` for a real token (header already split) is measured beside the
floor: the same HMAC-SHA256 plus a dict lookup. Prints a table and JSON.

    .venv/bin/python -m bench.verify [--sizes 1000,100000] [--rounds 2000]
"""

from __future__ import annotations

import argparse
import hmac
import json
import statistics
import tempfile
import time
from hashlib import sha256
from pathlib import Path

from sqlalchemy import insert

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.tokens import secret
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade
from hostpanel.storage.tables import accounts, api_tokens


def _populate(container: Container, count: int) -> list[str]:
    pepper, pepper_id = container.keys.keyring.current, container.keys.keyring.current_id
    texts = [secret.generate() for _ in range(count)]
    rows = [
        {
            "account_id": 1,
            "name": f"t{n}",
            "key": text[5:17],
            "digest": secret.digest(pepper, text),
            "pepper_id": pepper_id,
            "full_access": True,
            "scopes": "",
            "created_at": 0,
        }
        for n, text in enumerate(texts)
    ]
    with container.engine.begin() as connection:
        connection.execute(
            insert(accounts).values(
                id=1, username="bench", password_hash="x", status="active", disabled_features="[]", created_at=0
            )
        )
        for start in range(0, count, 10_000):
            connection.execute(insert(api_tokens), rows[start : start + 10_000])
    return texts


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def measure(size: int, rounds: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as directory:
        home = Path(directory)
        settings = Settings(home=home)
        create_key_file(settings.key_path)
        engine = make_engine(settings.database_url_or_default)
        upgrade(engine)
        engine.dispose()
        container = Container(settings)
        texts = _populate(container, size)
        probes = [texts[n * size // rounds] for n in range(rounds)]
        authenticator = container.authenticator
        with container.uow(write=False) as uow:
            for text in probes[:100]:
                authenticator.authenticate(uow.tokens, "bench", text, "127.0.0.1")
            samples = []
            for text in probes:
                started = time.perf_counter()
                authenticator.authenticate(uow.tokens, "bench", text, "127.0.0.1")
                samples.append(time.perf_counter() - started)
        pepper = container.keys.keyring.current
        table = {text[5:17]: secret.digest(pepper, text) for text in texts}
        floor = []
        for text in probes:
            started = time.perf_counter()
            stored = table[text[5:17]]
            hmac.compare_digest(hmac.new(pepper, text.encode(), sha256).digest(), stored)
            floor.append(time.perf_counter() - started)
        container.close()
    verify, base = _median_us(samples), _median_us(floor)
    return {
        "tokens": size,
        "verify_median_us": round(verify, 2),
        "floor_median_us": round(base, 2),
        "ratio": round(verify / base, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--rounds", type=int, default=2000)
    options = parser.parse_args()
    results = [measure(int(size), options.rounds) for size in options.sizes.split(",")]
    print(f"{'tokens':>10} {'verify µs':>10} {'floor µs':>10} {'ratio':>7}")
    for row in results:
        print(f"{row['tokens']:>10} {row['verify_median_us']:>10} {row['floor_median_us']:>10} {row['ratio']:>7}")
    print(json.dumps({"benchmark": "verify", "backend": "sqlite", "results": results}))


if __name__ == "__main__":
    main()
