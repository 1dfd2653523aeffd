"""Fixtures of the storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import backends, own_postgres_database


@pytest.fixture(params=backends())
def empty_database(request: pytest.FixtureRequest, tmp_path: Path, worker_id: str) -> Iterator[str]:
    """A database with no schema at all, on each backend (for tests that migrate from an older revision)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    with own_postgres_database("before", worker_id) as url:
        yield url
