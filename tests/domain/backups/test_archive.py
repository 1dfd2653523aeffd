"""Writing archives: an abandoned one leaves nothing that writes later."""

from __future__ import annotations

import gc
import io
from pathlib import Path

from hostpanel.domain.backups.archive import ArchiveWriter


def test_an_abandoned_archive_writes_nothing_when_collected(tmp_path: Path) -> None:
    out = (tmp_path / "partial.tar.gz").open("wb")
    writer = ArchiveWriter(out, "backup", tmp_path, cancelled=lambda: False)
    writer.add_bytes("meta/account.json", b"{}" * 10_000)
    writer.abandon()
    out.close()
    size = (tmp_path / "partial.tar.gz").stat().st_size
    del writer
    gc.collect()  # an "Exception ignored ... write to closed file" here fails the test (warnings are errors)
    assert (tmp_path / "partial.tar.gz").stat().st_size == size


def test_a_finished_archive_still_closes_properly(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    writer = ArchiveWriter(buffer, "backup", tmp_path, cancelled=lambda: False)
    writer.add_bytes("meta/account.json", b"{}")
    writer.close()
    assert buffer.getvalue()[:2] == b"\x1f\x8b"
