"""Backup jobs: their state and progress, shared by every worker process and the CLI."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from hostpanel.domain.backups.model import BackupJob, BackupStatus, Progress
from hostpanel.domain.errors import Conflict
from hostpanel.storage.repositories.errors import is_unique_violation
from hostpanel.storage.tables import accounts, backup_jobs


def _job(row: Any) -> BackupJob:
    return BackupJob(
        id=row.id,
        account_id=row.account_id,
        file=row.file,
        status=BackupStatus(row.status),
        actor=row.actor,
        started_at=row.started_at,
        finished_at=row.finished_at,
        bytes_total=row.bytes_total,
        bytes_done=row.bytes_done,
        files_total=row.files_total,
        files_done=row.files_done,
        size=row.size,
        error=row.error,
    )


class SqlBackupJobRepository:
    """The backup job repository on a database connection (see `ports.BackupJobRepository`)."""

    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def add(self, account_id: int, file: str, actor: str, started_at: int) -> BackupJob:
        values = {
            "account_id": account_id,
            "file": file,
            "status": BackupStatus.RUNNING.value,
            "actor": actor,
            "started_at": started_at,
            "bytes_total": 0,
            "bytes_done": 0,
            "files_total": 0,
            "files_done": 0,
        }
        try:
            row = self._c.execute(insert(backup_jobs).values(values).returning(*backup_jobs.c)).one()
        except IntegrityError as error:
            if is_unique_violation(error):
                raise Conflict("A backup of this account is already running.") from None
            raise
        return _job(row)

    def get(self, account_id: int, job_id: int) -> BackupJob | None:
        query = select(backup_jobs).where(backup_jobs.c.account_id == account_id, backup_jobs.c.id == job_id)
        row = self._c.execute(query).first()
        return _job(row) if row else None

    def all(self, account_id: int) -> list[BackupJob]:
        query = select(backup_jobs).where(backup_jobs.c.account_id == account_id).order_by(backup_jobs.c.id.desc())
        return [_job(row) for row in self._c.execute(query)]

    def progress(self, job_id: int, progress: Progress) -> None:
        values = {
            "bytes_done": progress.bytes_done,
            "bytes_total": progress.bytes_total,
            "files_done": progress.files_done,
            "files_total": progress.files_total,
        }
        self._c.execute(update(backup_jobs).where(backup_jobs.c.id == job_id).values(values))

    def finish(self, job_id: int, status: BackupStatus, finished_at: int, size: int | None, error: str | None) -> None:
        values = {"status": status.value, "finished_at": finished_at, "size": size, "error": error}
        running = backup_jobs.c.status == BackupStatus.RUNNING.value
        self._c.execute(update(backup_jobs).where(backup_jobs.c.id == job_id, running).values(values))

    def running(self) -> list[tuple[BackupJob, str]]:
        query = (
            select(backup_jobs, accounts.c.username)
            .join(accounts, accounts.c.id == backup_jobs.c.account_id)
            .where(backup_jobs.c.status == BackupStatus.RUNNING.value)
        )
        return [(_job(row), row.username) for row in self._c.execute(query)]
