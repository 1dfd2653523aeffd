"""Backup jobs and archives as the API, the pages and the CLI report them (cPanel's `list_backups` fields, then
ours)."""

from __future__ import annotations

from typing import Any

from hostpanel.domain.backups.model import BackupJob, BackupStatus
from hostpanel.domain.backups.service import BackupEntry


def entry_record(entry: BackupEntry) -> dict[str, Any]:
    """A line of list_backups (and of `hostpanel backup list --json`)."""
    job, archive = entry.job, entry.archive
    if job is None:
        assert archive is not None
        return {
            "id": None,
            "pid": None,
            "file": archive.file,
            "status": BackupStatus.COMPLETE.value,
            "time": int(archive.mtime),
            "finished": int(archive.mtime),
            "size": archive.size,
            "exists": 1,
            "error": None,
        }
    return {
        "id": job.id,
        "pid": str(job.id),
        "file": job.file,
        "status": job.status.value,
        "time": job.started_at,
        "finished": job.finished_at,
        "size": job.size,
        "exists": 1 if archive is not None else 0,
        "error": job.error,
    }


def status_record(job: BackupJob) -> dict[str, Any]:
    """backup_status: the job (not whether its archive is still there) and its progress."""
    record = entry_record(BackupEntry(job, None))
    del record["exists"]
    return {
        **record,
        "bytes_done": job.bytes_done,
        "bytes_total": job.bytes_total,
        "files_done": job.files_done,
        "files_total": job.files_total,
        "percent": job.percent,
    }
