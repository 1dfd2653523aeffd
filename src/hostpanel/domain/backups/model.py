"""Backup jobs as stored, and cPanel's archive names."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from enum import StrEnum

SUFFIX = ".tar.gz"
PARTIAL_SUFFIX = ".partial"  # the staged name while it is written: never mistaken for a finished archive
# cPanel's `backup-M.D.YYYY_HH-MM-SS_USER.tar.gz` (month and day without leading zeros, as cPanel writes them).
ARCHIVE_NAME = re.compile(
    r"backup-(\d{1,2})\.(\d{1,2})\.(\d{4})_(\d{1,2})-(\d{2})-(\d{2})_(?P<user>[a-z][a-z0-9]{0,15})\.tar\.gz"
)


class BackupStatus(StrEnum):
    """Where a backup job stands: still running, complete, or failed."""

    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


@dataclass(frozen=True)
class BackupJob:
    """A backup job as stored: its archive's name, who started it, its state and its progress."""

    id: int
    account_id: int
    file: str
    status: BackupStatus
    actor: str
    started_at: int
    finished_at: int | None = None
    bytes_total: int = 0
    bytes_done: int = 0
    files_total: int = 0
    files_done: int = 0
    size: int | None = None
    error: str | None = None

    @property
    def percent(self) -> float:
        if self.status == BackupStatus.COMPLETE:
            return 100.0
        if not self.bytes_total:
            return 0.0
        return round(min(100.0, 100 * self.bytes_done / self.bytes_total), 1)


@dataclass(frozen=True)
class Progress:
    """How far a backup has read the home: files and bytes done, out of the totals counted before it began."""

    files_done: int = 0
    files_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0


def archive_name(username: str, when: float) -> str:
    """The archive's name at `when`, in the server's local time as cPanel names it."""
    moment = time.localtime(when)
    day = f"{moment.tm_mon}.{moment.tm_mday}.{moment.tm_year}"
    clock = f"{moment.tm_hour:02d}-{moment.tm_min:02d}-{moment.tm_sec:02d}"
    return f"backup-{day}_{clock}_{username}{SUFFIX}"


def is_archive_name(name: str, username: str) -> bool:
    match = ARCHIVE_NAME.fullmatch(name)
    return match is not None and match.group("user") == username
