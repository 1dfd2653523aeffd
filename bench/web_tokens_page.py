"""The API Tokens page with 10,000 tokens: one page from the database beside the whole list, in one run.

10,000 tokens are written straight into a fresh SQLite database; then the median time to serve
`/security/tokens` (page 1, page 200 sorted by "last used", a name search) is measured through the real ASGI app
beside a baseline that loads every token and renders them all (what the page would cost without the repository's
paging). Prints a table and JSON.

    .venv/bin/python -m bench.web_tokens_page [--tokens 10000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import insert
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.tokens.model import TokenQuery
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade
from hostpanel.storage.tables import api_tokens
from hostpanel.web.pages.tokens import Listing, TokenRow
from hostpanel.web.render import render

PASSWORD = "Correct-Horse-Battery-9"


def _median_ms(action: Callable[[], object], rounds: int) -> float:
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        action()
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=30)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(
            home=Path(home),
            password_time_cost=1,
            password_memory_kib=8,
            password_parallelism=1,
            last_used_flush_seconds=3600,
        )
        create_key_file(settings.key_path)
        engine = make_engine(settings.database_url_or_default)
        upgrade(engine)
        engine.dispose()
        container = Container(settings)
        with container.uow() as uow:
            account = container.accounts(uow).create("bench", PASSWORD)
            uow.commit()
        now = int(time.time())
        rows = [
            {
                "account_id": account.id, "name": f"token-{n:05d}", "key": f"{n:012d}", "digest": bytes(32),
                "pepper_id": 1, "full_access": n % 2 == 0, "scopes": "" if n % 2 == 0 else "tokens:read",
                "created_at": now - n, "expires_at": None if n % 3 else now + n * 60,
                "last_used_at": None if n % 5 else now - n, "last_used_ip": None if n % 5 else "192.0.2.7",
            }
            for n in range(options.tokens)
        ]  # fmt: skip
        with container.uow() as uow:
            uow.connection.execute(insert(api_tokens), rows)  # type: ignore[attr-defined]
            uow.commit()
        with TestClient(create_app(container), base_url="https://bench") as client:
            page = client.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert token is not None
            client.post("/login", data={"username": "bench", "password": PASSWORD, "csrf_token": token.group(1)})

            def get(path: str) -> Callable[[], object]:
                def fetch() -> object:
                    response = client.get(path)
                    assert response.status_code == 200, response.status_code
                    return response

                return fetch

            def everything() -> object:
                """Every token loaded and rendered into the same table: the page without database paging."""
                with container.uow(write=False) as uow:
                    tokens, total = container.tokens(uow).page(account.id, TokenQuery())
                rows = [TokenRow(token, "active") for token in tokens]
                listing = Listing(rows, total, 1, 1, total, "name", "asc", "")
                values = {
                    "account": account, "csrf_token": "x", "navigation": [], "path": "/security/tokens",
                    "notice": None, "errors": {}, "message": None, "listing": listing, "rename_errors": {},
                }  # fmt: skip
                return render("tokens.html", values)

            figures = {
                "page 1 (25 by name)": _median_ms(get("/security/tokens"), options.rounds),
                "page 200 (50 by last used)": _median_ms(
                    get("/security/tokens?size=50&page=200&sort=last_used&dir=desc"), options.rounds
                ),
                "search 'token-099'": _median_ms(get("/security/tokens?q=token-099"), options.rounds),
                "baseline: all tokens rendered": _median_ms(everything, options.rounds),
            }
    baseline = figures["baseline: all tokens rendered"]
    print(f"{options.tokens} tokens, median of {options.rounds} rounds")
    for name, value in figures.items():
        print(f"  {name:32s} {value:8.2f} ms   ratio to baseline {value / baseline:6.3f}")
    print(json.dumps({"tokens": options.tokens, "median_ms": figures}))


if __name__ == "__main__":
    main()
