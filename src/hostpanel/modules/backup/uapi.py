"""UAPI `Backup`: cPanel's fullbackup_to_homedir, list_backups and restore_files, plus our backup_status.

A backup runs in the background (a thread of the worker that took the call) and its progress lives in the database,
so any worker answers `backup_status`. The CLI's `hostpanel backup create|list|restore` run the same job code.
"""

from __future__ import annotations

from typing import Any

from hostpanel.domain.backups.record import entry_record, status_record
from hostpanel.domain.errors import InvalidInput
from hostpanel.domain.permissions import Access, ScopeModule
from hostpanel.functions.call import Call
from hostpanel.functions.registry import Module, Param

module = Module("Backup", ScopeModule.BACKUP, "Full backups of the account into its home, and restores.")

JOB = Param("pid", "The backup job, as fullbackup_to_homedir returned it; default: the latest.", type="integer")


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
    prepared = call.services.backups.start_in_background(
        include_home=homedir == "include", notify=call.args.get("email")
    )
    return {"pid": str(prepared.job.id), "file": prepared.job.file}


@module.function(
    "list_backups",
    Access.READ,
    "The account's backups, newest first: jobs (running, complete, failed) and archives found in the home.",
    returns_list=True,
)
def list_backups(call: Call) -> list[dict[str, Any]]:
    records = [entry_record(entry) for entry in call.services.backups.overview()]
    call.metadata["cnt"] = len(records)
    return records


@module.function(
    "backup_status",
    Access.READ,
    "A backup job's state and progress: bytes and files done of the total, percent.",
    params=(JOB,),
)
def backup_status(call: Call) -> dict[str, Any]:
    return status_record(call.services.backups.job(call.args.integer("pid", minimum=1)))


@module.function(
    "restore_files",
    Access.WRITE,
    "Restore files from a backup in the home, all or one path, after checking the whole archive; restoring "
    "everything also puts the account's DNS zones back (`zones` names them; a token needs dns:write for that).",
    own_transactions=True,
    params=(
        Param("backup", "The archive's name in the home, e.g. backup-3.14.2027_09-30-00_alice.tar.gz.", True),
        Param("path", "Only this file or folder (relative to the home); default: everything."),
    ),
)
def restore_files(call: Call) -> dict[str, Any]:
    summary = call.services.backups.restore(call.args.require("backup"), call.args.get("path") or None, lambda _n: None)
    if summary.conflicts:
        shown = ", ".join(summary.conflicts[:10])
        call.warnings.append(f"{len(summary.conflicts)} path(s) were left as they are in the home: {shown}")
    call.warnings.extend(f"The DNS zone {skipped}" for skipped in summary.zones_skipped[:10])
    return {
        "backup": call.args.require("backup"),
        "path": call.args.get("path") or None,
        "files": summary.files,
        "directories": summary.directories,
        "links": summary.links,
        "bytes": summary.bytes,
        "zones": summary.zones,
    }
