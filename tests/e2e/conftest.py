"""Fixtures of the end-to-end tests, which run hostpanel as real processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

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
