"""Fixtures of the end-to-end tests, which run hostpanel as real processes."""

from __future__ import annotations

import fcntl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.browser import ARGS, ensure_chromium
from tests.factories import backends, own_postgres_database


@pytest.fixture(params=backends())
def server_database_url(request: pytest.FixtureRequest, worker_id: str) -> Iterator[str | None]:
    """The database of the test's hostpanel processes, on each backend: None on SQLite (the data directory's own
    file), else the URL of an empty PostgreSQL database of the test's own."""
    if request.param == "sqlite":
        yield None
        return
    with own_postgres_database("e2e", worker_id) as url:
        yield url


ROOT = Path(__file__).parents[2]


@pytest.fixture(scope="session")
def certbot() -> Path:
    """certbot 1.32 with certbot-dns-cpanel 0.4.0, in a virtualenv of their own (made by scripts/setup-certbot-venv,
    under a lock: parallel workers wait for one another)."""
    with (ROOT / ".certbot-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        subprocess.run([ROOT / "scripts" / "setup-certbot-venv"], check=True, timeout=900, capture_output=True)
    return ROOT / ".certbot-venv" / "bin" / "certbot"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, one per test module (its tests open contexts of their own)."""
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), headless=True, args=ARGS)
        yield launched
        launched.close()
