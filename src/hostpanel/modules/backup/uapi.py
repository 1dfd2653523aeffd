"""UAPI `Backup`: cPanel's fullbackup_to_homedir, list_backups and restore_files, plus our backup_status.

A backup runs in the background (a thread of the worker that took the call) and its progress lives in the database,
so any worker answers `backup_status`. The CLI's `hostpanel backup create|list|restore` run the same job code.
"""

from __future__ import annotations

from typing import Any

from hostpanel.api.uapi.call import Call
from hostpanel.api.uapi.registry import Param, UapiModule
from hostpanel.domain.backups.model import BackupJob, BackupStatus
from hostpanel.domain.backups.service import BackupEntry
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, ScopeModule

module = UapiModule("Backup", ScopeModule.BACKUP, "Full backups of the account into its home, and restores.")

JOB = Param("pid", "The backup job, as fullbackup_to_homedir returned it; default: the latest.", type="integer")


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


@module.function(
    "fullbackup_to_homedir",
    Access.WRITE,
    "Start a full backup into the home (backup-M.D.YYYY_HH-MM-SS_USER.tar.gz); returns at once with the job.",
    params=(
        Param("homedir", "`include` (the default) or `skip` the home's files (the metadata is always in)."),
        Param("email", "Mail a notice to this address when the backup ends (complete or failed)."),
    ),
)
def fullbackup_to_homedir(call: Call) -> dict[str, Any]:
    homedir = call.args.get("homedir") or "include"
    if homedir not in ("include", "skip"):
        raise InvalidInput("homedir", f"“{homedir}” is not a valid value of “homedir”. Use “skip” or “include”.")
    prepared = call.backups.start(include_home=homedir == "include", notify=call.args.get("email"))
    call.uow.on_commit(lambda: call.container.start_backup(prepared))
    return {"pid": str(prepared.job.id), "file": prepared.job.file}


@module.function(
    "list_backups",
    Access.READ,
    "The account's backups, newest first: jobs (running, complete, failed) and archives found in the home.",
    returns_list=True,
)
def list_backups(call: Call) -> list[dict[str, Any]]:
    records = [entry_record(entry) for entry in call.backups.overview()]
    call.metadata["cnt"] = len(records)
    return records


@module.function(
    "backup_status",
    Access.READ,
    "A backup job's state and progress: bytes and files done of the total, percent.",
    params=(JOB,),
)
def backup_status(call: Call) -> dict[str, Any]:
    return status_record(call.backups.job(call.args.integer("pid", minimum=1)))


@module.function(
    "restore_files",
    Access.WRITE,
    "Restore files from a backup in the home, all or one path, after checking the whole archive.",
    own_transactions=True,
    params=(
        Param("backup", "The archive's name in the home, e.g. backup-3.14.2027_09-30-00_alice.tar.gz.", True),
        Param("path", "Only this file or folder (relative to the home); default: everything."),
    ),
)
def restore_files(call: Call) -> dict[str, Any]:
    summary = call.backups.restore(call.args.require("backup"), call.args.get("path") or None, lambda _n: None)
    if summary.conflicts:
        shown = ", ".join(summary.conflicts[:10])
        call.warnings.append(f"{len(summary.conflicts)} path(s) were left as they are in the home: {shown}")
    return {
        "backup": call.args.require("backup"),
        "path": call.args.get("path") or None,
        "files": summary.files,
        "directories": summary.directories,
        "links": summary.links,
        "bytes": summary.bytes,
    }
