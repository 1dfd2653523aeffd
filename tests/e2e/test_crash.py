"""kill -9 under concurrent load, bounded for CI (`bench/crash.py` runs it longer); prints its figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.crash import report, run

pytestmark = pytest.mark.e2e
ROUNDS = int(os.environ.get("HOSTPANEL_CRASH_ROUNDS", "5"))


def test_nothing_acknowledged_is_lost_and_the_database_stays_consistent(
    server_database_url: str | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = run(ROUNDS, clients=3, root=tmp_path, database_url=server_database_url, seed=7)  # raises Lost on any loss
    assert figures.rounds == ROUNDS
    assert figures.ops["token create acknowledged"] > 0 and figures.ops["token revoke acknowledged"] > 0
    assert figures.ops["account changes acknowledged and held (create, token, delete)"] > 0
    with capsys.disabled():
        report(figures, 0)
