"""One account with 100,000 tokens: create them, list the first and the last page, revoke one; with times, in one run.

On a fresh installation (SQLite, or PostgreSQL with `--postgres`: a database of its own on the server named by
HOSTPANEL_BENCH_POSTGRES_URL or HOSTPANEL_TEST_POSTGRES_URL):

- **create**: `--tokens` tokens through `TokenService.create` (name check, secret, HMAC, insert, audit event with its
  hash chain), `--batch` per transaction; the median time of one create, early (the first batch) and late (the last
  batch), and the total;
- **single create** over the UAPI (`Tokens::create_full_access`, one transaction, in-process ASGI client) at the end,
  beside the same call on an account with 200 tokens (the baseline);
- **list**: `Tokens::list` pages of 100 by `after` (first page, and the page after the 99,900th name) beside cPanel's
  offset paging (`api.paginate_start`) of the same pages; baselines: the same pages of the 200-token account;
- **revoke**: `Tokens::revoke` of one token in the middle, beside the same on the 200-token account.

Prints a table (median ms, ratio to its baseline) and one line of JSON.

    .venv/bin/python -m bench.scale [--tokens 100000] [--batch 1000] [--postgres]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack, nullcontext
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bench.common import PASSWORD, install, median_us, own_postgres, report
from hostpanel.app import create_app
from hostpanel.container import Container
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal

PAGE = 100
SMALL = 2 * PAGE  # tokens of the baseline account


def median_ms(action: Callable[[], object], rounds: int) -> float:
    return median_us(action, rounds) / 1000


def create_many(container: Container, username: str, count: int, batch: int) -> tuple[list[float], float]:
    """Per-token times of each batch, and the total seconds."""
    with container.uow() as uow:
        account = container.accounts(uow).get(username)
    principal = Principal.admin(account)
    per_token: list[float] = []
    started = time.perf_counter()
    for start in range(0, count, batch):
        batch_started = time.perf_counter()
        with container.uow() as uow:
            tokens = container.tokens(uow)
            for n in range(start, min(count, start + batch)):
                tokens.create(principal, f"t{n:07d}", None, Permissions.full())
            uow.commit()
        per_token.append((time.perf_counter() - batch_started) / batch * 1000)
        if start and start % (count // 10 or 1) < batch:
            print(f"  created {start + batch} tokens", file=sys.stderr)
    return per_token, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tokens", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--postgres", action="store_true")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory, ExitStack() as stack:
        url = stack.enter_context(own_postgres("scale") if options.postgres else nullcontext(None))
        container = install(Path(directory) / "home", url, token_rate_limit=0)
        stack.callback(container.close)
        secrets = {}
        with container.uow() as uow:
            for username in ("big", "small"):
                account = container.accounts(uow).create(username, PASSWORD)
                issued = container.tokens(uow).create(Principal.admin(account), "admin", None, Permissions.full())
                secrets[username] = issued.secret
            uow.commit()
        create_many(container, "small", SMALL, SMALL)  # two full pages: baselines list pages of the same size
        per_token, total = create_many(container, "big", options.tokens, options.batch)
        client = stack.enter_context(TestClient(create_app(container)))
        rows = measure_calls(client, secrets, options)
        early, late = per_token[0], per_token[-1]
        rows[:0] = [
            {"step": "create (per token, first batch)", "median_ms": early, "baseline_ms": early, "ratio": 1.0},
            {"step": "create (per token, last batch)", "median_ms": late, "baseline_ms": early, "ratio": late / early},
            {"step": f"create {options.tokens} (total s)", "median_ms": total * 1000, "baseline_ms": None},
        ]
    for row in rows:
        for key in ("median_ms", "baseline_ms"):
            if row.get(key) is not None:
                row[key] = round(row[key], 3)
        if row.get("baseline_ms") and "ratio" not in row:
            row["ratio"] = row["median_ms"] / row["baseline_ms"]
        if row.get("ratio") is not None:
            row["ratio"] = round(row["ratio"], 2)
    report(
        "scale",
        ["step", "median_ms", "baseline_ms", "ratio"],
        rows,
        backend="postgresql" if options.postgres else "sqlite",
        tokens=options.tokens,
        batch=options.batch,
        baseline=f"the same call on an account with {SMALL} tokens (create: the first batch)",
    )


def measure_calls(client: TestClient, secrets: dict[str, str], options: Any) -> list[dict[str, Any]]:
    def call(user: str, function: str, method: str = "get", **args: str) -> dict[str, Any]:
        headers = {"Authorization": f"cpanel {user}:{secrets[user]}"}
        if method == "post":
            response = client.post(f"/execute/Tokens/{function}", data=args, headers=headers)
        else:
            response = client.get(f"/execute/Tokens/{function}", params=args, headers=headers)
        body: dict[str, Any] = response.json()
        assert response.status_code == 200 and body["status"] == 1, body
        return body

    rounds = options.rounds
    last_after = f"t{options.tokens - PAGE - 1:07d}"
    assert len(call("big", "list", after=last_after, limit=str(PAGE))["data"]) == PAGE
    start_of_last = options.tokens - PAGE + 2  # 1-based; "admin" sorts before the t-names
    offset_last = {"api.paginate_start": str(start_of_last), "api.paginate_size": str(PAGE)}
    counter = iter(range(10**9))
    small_after = f"t{SMALL - PAGE - 1:07d}"
    small_offset = {"api.paginate_start": str(SMALL - PAGE + 2), "api.paginate_size": str(PAGE)}
    rows = [
        {
            "step": "list first page (after/limit)",
            "median_ms": median_ms(lambda: call("big", "list", limit=str(PAGE)), rounds),
            "baseline_ms": median_ms(lambda: call("small", "list", limit=str(PAGE)), rounds),
        },
        {
            "step": "list last page (after/limit)",
            "median_ms": median_ms(lambda: call("big", "list", after=last_after, limit=str(PAGE)), rounds),
            "baseline_ms": median_ms(lambda: call("small", "list", after=small_after, limit=str(PAGE)), rounds),
        },
        {
            "step": "list last page (api.paginate, offset)",
            "median_ms": median_ms(lambda: call("big", "list", **offset_last), rounds),
            "baseline_ms": median_ms(lambda: call("small", "list", **small_offset), rounds),
        },
        {
            "step": "create one (UAPI)",
            "median_ms": median_ms(lambda: call("big", "create_full_access", "post", name=f"u{next(counter)}"), rounds),
            "baseline_ms": median_ms(
                lambda: call("small", "create_full_access", "post", name=f"u{next(counter)}"), rounds
            ),
        },
    ]
    victims = iter(range(options.tokens // 2, options.tokens))
    small_victims = iter(range(10**9))

    def revoke_big() -> object:
        return call("big", "revoke", "post", name=f"t{next(victims):07d}")

    def revoke_small() -> object:
        name = f"v{next(small_victims)}"
        call("small", "create_full_access", "post", name=name)
        started = time.perf_counter()
        call("small", "revoke", "post", name=name)
        return time.perf_counter() - started

    small = [float(revoke_small()) * 1000 for _ in range(rounds)]  # type: ignore[arg-type]
    rows.append(
        {
            "step": "revoke one (UAPI)",
            "median_ms": median_ms(revoke_big, rounds),
            "baseline_ms": statistics.median(small),
        }
    )
    return rows


if __name__ == "__main__":
    main()
