"""Running a backup job: the same code for the API's background threads and the CLI's foreground run.

The archive is written to its staged `.partial` file (locked for as long as the job lives), made durable, then
renamed into the home under its final name: a crash at any moment leaves either no archive or a complete one.
Progress is written to the job's row about once a second, so any worker process (or the CLI) can report it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.backups.archive import CHUNK, ZONE_SUFFIX, ZONES, ArchiveWriter, scan
from hostpanel.domain.backups.model import PARTIAL_SUFFIX, SUFFIX, BackupJob, BackupStatus, Progress
from hostpanel.domain.backups.service import PreparedBackup, action_for
from hostpanel.domain.clock import Clock
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.files.staging import Staging
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.security.notices import Notice, Notifier, deliver
from hostpanel.domain.tokens.model import TokenQuery

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], None]
INTERRUPTED = "Interrupted: the server stopped before the backup finished."


class _Tracker:
    """Counts what has been read; tells the caller at every step and the database about once a second."""

    def __init__(self, total: Progress, save: Callable[[Progress], None], show: ProgressCallback | None) -> None:
        self.progress = total
        self._save = save
        self._show = show
        self._saved_at = time.monotonic()

    def bytes(self, count: int) -> None:
        self._advance(bytes_done=self.progress.bytes_done + count)

    def file(self) -> None:
        self._advance(files_done=self.progress.files_done + 1)

    def _advance(self, **changes: int) -> None:
        self.progress = Progress(**{**asdict(self.progress), **changes})
        if self._show is not None:
            self._show(self.progress)
        if time.monotonic() - self._saved_at >= 1.0:
            self._save(self.progress)
            self._saved_at = time.monotonic()


class BackupRunner:
    """Runs prepared backup jobs: in the foreground (the CLI) or on a thread of this process (`start`)."""

    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        staging: Staging,
        jail_for: Callable[[str], Jail],
        clock: Clock,
        notifier: Notifier | None = None,
        *,
        jobs: BackgroundJobs | None = None,
    ) -> None:
        self._uow_factory = uow_factory
        self._staging = staging
        self._jail_for = jail_for
        self._clock = clock
        self._notifier = notifier
        self._jobs = jobs or BackgroundJobs()

    def start(self, prepared: PreparedBackup) -> None:
        """Run a committed job on a thread of this process (stopped with the process's background jobs)."""
        self._jobs.start(f"backup-{prepared.job.id}", lambda cancelled: self.run(prepared, cancelled=cancelled))

    def run(
        self,
        prepared: PreparedBackup,
        show: ProgressCallback | None = None,
        cancelled: Callable[[], bool] = lambda: False,
    ) -> BackupJob:
        """Write the archive and end the job (complete or failed, with the reason); returns the ended job."""
        job, staged, account = prepared.job, prepared.staged, prepared.principal.account
        jail = self._jail_for(account.username)
        skipped = 0
        try:
            total = scan(jail) if prepared.include_home else Progress()
            self._save(job.id, total)
            tracker = _Tracker(total, lambda progress: self._save(job.id, progress), show)
            with os.fdopen(os.dup(staged.fd), "wb", buffering=CHUNK) as out:
                writer = ArchiveWriter(
                    out, job.file.removesuffix(SUFFIX), self._staging.user_dir(account.username), cancelled
                )
                try:
                    for name, content in self._metadata(account.id).items():
                        writer.add_bytes(name, content)
                    if prepared.include_home:
                        writer.add_home(jail, tracker.bytes, tracker.file)
                    writer.close()
                except BaseException:
                    writer.abandon()
                    raise
            size = os.fstat(staged.fd).st_size
            os.fchmod(staged.fd, 0o600)  # everything the account has: for its owner's eyes only
            jail.adopt(staged.fd)
            with jail.directory(HomePath()) as home_fd:
                staged.move_to(home_fd, job.file, replace=False)
            self._save(job.id, tracker.progress)
        except BaseException as error:
            staged.discard()
            self._end(prepared, BackupStatus.FAILED, None, _reason(error))
            if not isinstance(error, Exception):
                raise  # KeyboardInterrupt, SystemExit: after recording why the job ended
            log.warning("backup %s of %s failed: %s", job.file, account.username, _reason(error))
        else:
            skipped = writer.summary.skipped
            if skipped:
                log.warning(
                    "backup %s of %s left out %d entries (special files, unreadable, too deep)",
                    job.file,
                    account.username,
                    skipped,
                )
            self._end(prepared, BackupStatus.COMPLETE, size, None, skipped)
        ended = self._reload(job)
        if prepared.notify and self._notifier is not None:
            deliver(self._notifier, account, finished_notice(ended, skipped), to=prepared.notify)
        return ended

    def _metadata(self, account_id: int) -> dict[str, bytes]:
        """The account, its mail configuration and its DNS zones; no password hash, token digest or secret, nor any
        server key."""
        with self._uow_factory() as uow:
            account = uow.accounts.get(account_id)
            assert account is not None
            tokens, _ = uow.tokens.page(account_id, TokenQuery())
            account_data = {
                "username": account.username,
                "email": account.email,
                "status": account.status.value,
                "created_at": account.created_at,
                "domains": uow.accounts.domains(account_id),
                "disabled_features": sorted(account.disabled_features),
                "tokens": [
                    {
                        "name": token.name,
                        "created_at": token.created_at,
                        "expires_at": token.expires_at,
                        "full_access": token.permissions.full_access,
                        "scopes": token.permissions.scope_names(),
                        "restrictions": token.restrictions.describe(),
                    }
                    for token in tokens
                ],
            }
            email_data = {
                "mailboxes": [
                    {"address": m.address, "quota_mb": m.quota_mb, "created_at": m.created_at}
                    for m in uow.mail.mailboxes(account_id)
                ],
                "forwarders": [
                    {"address": f.address, "destination": f.destination} for f in uow.mail.forwarders(account_id)
                ],
            }
            zones = {}
            for name in uow.zones.names(account_id):
                zone = uow.zones.get(name)
                if zone is not None:
                    zones["/".join(ZONES) + f"/{name}{ZONE_SUFFIX}"] = zone.text().encode()
        return {"meta/account.json": _json(account_data), "meta/email.json": _json(email_data), **zones}

    def _save(self, job_id: int, progress: Progress) -> None:
        with self._uow_factory() as uow:
            uow.backups.progress(job_id, progress)
            uow.commit()

    def _end(
        self, prepared: PreparedBackup, status: BackupStatus, size: int | None, error: str | None, skipped: int = 0
    ) -> None:
        principal, job = prepared.principal, prepared.job
        now = self._clock.now()
        with self._uow_factory() as uow:
            uow.backups.finish(job.id, status, int(now), size, error)
            action = action_for(principal, AuditAction.ACCOUNT_BACKUP_FINISH, AuditAction.ADMIN_BACKUP_FINISH)
            AuditLog(uow.audit, self._clock).record(
                action,
                actor=job.actor,
                account_id=principal.account.id,
                username=principal.account.username,
                ip=principal.ip,
                target=job.file,
                outcome=Outcome.SUCCESS if status == BackupStatus.COMPLETE else Outcome.FAILURE,
                details={
                    "job": job.id,
                    "size": size,
                    "error": error,
                    "seconds": int(now) - job.started_at,
                    "skipped": skipped,
                },
            )
            uow.commit()

    def _reload(self, job: BackupJob) -> BackupJob:
        with self._uow_factory() as uow:
            found = uow.backups.get(job.account_id, job.id)
        return found or job

    def recover(self, homes_root: Path) -> int:
        """After a restart: end the jobs whose process died. A job whose archive made it into the home completed
        (the rename is the last step); any other was interrupted. Returns how many were ended."""
        ended = 0
        with self._uow_factory() as uow:
            for job, username in uow.backups.running():
                if self._staging.is_in_use(username, job.file + PARTIAL_SUFFIX):
                    continue  # a living process is still writing it
                try:
                    size: int | None = (homes_root / username / job.file).lstat().st_size
                except FileNotFoundError:
                    size = None
                status = BackupStatus.COMPLETE if size is not None else BackupStatus.FAILED
                uow.backups.finish(
                    job.id, status, int(self._clock.now()), size, None if size is not None else INTERRUPTED
                )
                ended += 1
            uow.commit()
        return ended


class BackgroundJobs:
    """Threads running jobs inside a server process; asked to stop (and waited for) when the server stops."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()

    def start(self, name: str, work: Callable[[Callable[[], bool]], object]) -> None:
        def target() -> None:
            try:
                work(self._stop.is_set)
            except Exception:
                log.exception("background job %s failed", name)
            finally:
                with self._lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=target, name=name, daemon=True)
        with self._lock:
            self._threads.add(thread)
        thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        with self._lock:
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stop.clear()  # a container serves one app after another in tests


def finished_notice(job: BackupJob, skipped: int = 0) -> Notice:
    """What cPanel mails to the `email` address of a backup: how it ended, and where the archive is."""
    if job.status == BackupStatus.COMPLETE:
        left_out = (
            f" It left out {skipped} entries that cannot be backed up (devices, FIFOs, sockets, unreadable files, or "
            "folders nested too deep)."
            if skipped
            else ""
        )
        return Notice(
            f"Backup {job.file} is complete",
            f"The backup {job.file} is complete ({job.size or 0} bytes).{left_out} It is in the account's home "
            "directory: download it, then delete it there if it should not take up the account's space.\n",
        )
    return Notice(f"Backup {job.file} failed", f"The backup {job.file} failed: {job.error}\n")


def _json(data: object) -> bytes:
    return json.dumps(data, indent=2, sort_keys=True).encode() + b"\n"


def _reason(error: BaseException) -> str:
    if isinstance(error, HostpanelError):
        return error.message
    if isinstance(error, OSError):
        return f"{error.strerror or error}."
    if isinstance(error, KeyboardInterrupt):
        return "Interrupted."
    return f"Internal error ({type(error).__name__})."
