"""What the benchmarks share: medians, fresh installations (SQLite or a PostgreSQL database of their own), many
tokens written fast, and the table + JSON report."""

from __future__ import annotations

import json
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.tokens import secret
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine, normalise_url
from hostpanel.storage.migrate import upgrade
from hostpanel.storage.tables import accounts, api_tokens

POSTGRES_ENV = "HOSTPANEL_BENCH_POSTGRES_URL"  # falls back to the tests' HOSTPANEL_TEST_POSTGRES_URL
USER = "bench"
PASSWORD = "Correct-Horse-Battery-9"
CHEAP_HASHING: dict[str, Any] = {"password_time_cost": 1, "password_memory_kib": 8, "password_parallelism": 1}


def median_us(action: Callable[[], object], rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1e6


def postgres_base() -> str | None:
    return os.environ.get(POSTGRES_ENV) or os.environ.get("HOSTPANEL_TEST_POSTGRES_URL")


@contextmanager
def own_postgres(purpose: str) -> Iterator[str]:
    """A new database on the PostgreSQL server named by the environment, dropped afterwards (never anyone else's)."""
    base = postgres_base()
    assert base, f"set {POSTGRES_ENV}"
    url = make_url(normalise_url(base))
    name = f"hostpanel_bench_{purpose}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def install(home: Path, database_url: str | None = None, **settings: Any) -> Container:
    """A migrated installation under `home` (SQLite there unless a URL is given) and its container."""
    home.mkdir(parents=True, exist_ok=True)
    built = Settings(home=home, database_url=database_url, **{**CHEAP_HASHING, **settings})
    create_key_file(built.key_path)
    engine = make_engine(built.database_url_or_default)
    upgrade(engine)
    engine.dispose()
    container = Container(built)
    container.check_ready()
    return container


def quick_token(rng: random.Random) -> str:
    """A well-formed token (valid checksum) from a seeded generator: fast to make by the million. Only for
    benchmarks: real tokens come from `secret.generate()` (the `secrets` module)."""
    body = f"{secret.PREFIX}{''.join(rng.choices(secret.ALPHABET, k=secret.KEY_LENGTH))}_" + "".join(
        rng.choices(secret.ALPHABET, k=secret.SECRET_LENGTH)
    )
    return body + secret.checksum(body)


def add_tokens(container: Container, account_id: int, count: int, seed: int = 1) -> list[str]:
    """`count` full-access tokens for the account, written straight into the table (COPY on PostgreSQL); their
    secrets, in creation order (names t0000000, t0000001, ...)."""
    pepper, pepper_id = container.keys.keyring.current, container.keys.keyring.current_id
    rng = random.Random(seed)
    texts = [quick_token(rng) for _ in range(count)]
    columns = ("account_id", "name", "key", "digest", "pepper_id", "full_access", "scopes", "created_at")
    rows = [
        (account_id, f"t{n:07d}", text_[5:17], secret.digest(pepper, text_), pepper_id, True, "", 1_700_000_000 + n)
        for n, text_ in enumerate(texts)
    ]
    engine = container.engine
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY api_tokens ({', '.join(columns)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        with engine.connect() as connection:
            connection.execute(text("ANALYZE api_tokens"))
            connection.commit()
    else:
        with engine.begin() as connection:
            for start in range(0, count, 20_000):
                connection.execute(
                    insert(api_tokens), [dict(zip(columns, row, strict=True)) for row in rows[start : start + 20_000]]
                )
    return texts


def add_account(container: Container, username: str = USER) -> int:
    with container.engine.begin() as connection:
        return int(
            connection.execute(
                insert(accounts)
                .values(username=username, password_hash="-", status="active", disabled_features="[]", created_at=0)
                .returning(accounts.c.id)
            ).scalar_one()
        )


def report(name: str, columns: list[str], rows: list[dict[str, Any]], **extra: Any) -> None:
    """A fixed-width table, then one line of JSON with every figure."""
    widths = [max(len(column), *(len(_cell(row.get(column))) for row in rows)) for column in columns]
    print("  ".join(column.rjust(width) for column, width in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(_cell(row.get(column)).rjust(width) for column, width in zip(columns, widths, strict=True)))
    print(json.dumps({"benchmark": name, **extra, "results": rows}))


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 100 else f"{value:.0f}"
    return str(value)
