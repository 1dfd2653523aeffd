"""Starting backups, reviewing them, and restoring files from them (for the API and the CLI alike)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass

from hostpanel.domain.accounts.names import validate_email
from hostpanel.domain.audit.model import DetailValue
from hostpanel.domain.audit.service import AuditLog, AuditWriter
from hostpanel.domain.audit.tags import AuditAction, Outcome
from hostpanel.domain.backups.archive import CHUNK
from hostpanel.domain.backups.model import PARTIAL_SUFFIX, BackupJob, archive_name, is_archive_name
from hostpanel.domain.backups.restore import RestoreRefused, RestoreSummary, restore
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.errors import Conflict, HostpanelError, InvalidInput, NotFound, PermissionDenied
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.files.service import Download
from hostpanel.domain.files.staging import StagedFile, Staging
from hostpanel.domain.permissions import Access, Scope, ScopeModule, check_access
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import AuthMethod, Principal

RESTORE_LOCK = "restore.running"  # a staged file held while a restore of the account runs


@dataclass
class PreparedBackup:
    """A job recorded as running, with its locked staged file: what the runner (thread or CLI) completes."""

    job: BackupJob
    staged: StagedFile
    principal: Principal
    include_home: bool
    notify: str | None = None  # where to send a notice when the job ends, as cPanel's `email` argument


@dataclass(frozen=True)
class ArchiveOnDisk:
    """A backup archive found in the home's top folder: its name, size and modification time."""

    file: str
    size: int
    mtime: float


@dataclass(frozen=True)
class BackupEntry:
    """One line of the backup list: a job of this server (with its archive if that is still in the home), or an
    archive found in the home that no job made (copied in, or from before a database restore)."""

    job: BackupJob | None
    archive: ArchiveOnDisk | None

    @property
    def file(self) -> str:
        return self.job.file if self.job else self.archive.file if self.archive else ""


def action_for(principal: Principal, account_action: AuditAction, admin_action: AuditAction) -> AuditAction:
    return admin_action if principal.method == AuthMethod.ADMIN else account_action


class BackupService:
    """An account's backups for one principal: start, list, download, and restore files from them."""

    def __init__(
        self,
        uow: UnitOfWork,
        principal: Principal,
        *,
        home: Jail,
        target: Jail,
        staging: Staging,
        clock: Clock,
        audit: AuditLog,
        audit_now: AuditWriter,
        launch: Callable[[PreparedBackup], None] | None = None,
        dns: DnsService | None = None,
    ) -> None:
        """`home` reads archives (they live in the home's top folder); `target` writes restored files through the
        principal's own restrictions. `audit_now` records in a transaction of its own (what a failure must keep);
        `launch` runs a committed job in the background. `dns` puts the account's zones back after a whole
        restore."""
        self._uow = uow
        self._principal = principal
        self._account = principal.account
        self._home = home
        self._target = target
        self._staging = staging
        self._clock = clock
        self._audit = audit
        self._audit_now = audit_now
        self._launch = launch
        self._dns = dns

    def start_in_background(self, include_home: bool = True, notify: str | None = None) -> PreparedBackup:
        """Record a running job and have it run in the background once the transaction has committed."""
        assert self._launch is not None, "this service was built without a way to run jobs in the background"
        prepared = self.start(include_home, notify)
        launch = self._launch
        self._uow.on_commit(lambda: launch(prepared))
        return prepared

    def start(self, include_home: bool = True, notify: str | None = None) -> PreparedBackup:
        """Record a running job and lock its staged file; the caller runs it once this has committed."""
        username = self._account.username
        notify = validate_email(notify) if notify else None
        name = archive_name(username, self._clock.now())
        if any(entry == name for entry, _ in self._home.entries(HomePath())):
            raise Conflict(f"A backup named “{name}” already exists: try again in a second.")
        try:
            staged = self._staging.create_named_file(username, name + PARTIAL_SUFFIX)
        except FileExistsError:
            raise Conflict("A backup of this account is already running.") from None
        try:
            job = self._uow.backups.add(self._account.id, name, self._principal.actor, int(self._clock.now()))
        except BaseException:
            staged.discard()
            raise
        self._uow.on_rollback(staged.discard)
        action = action_for(self._principal, AuditAction.ACCOUNT_BACKUP_CREATE, AuditAction.ADMIN_BACKUP_CREATE)
        details = {
            "job": job.id,
            "homedir": "include" if include_home else "skip",
            **({"email": notify} if notify else {}),
        }
        self._audit.record_by(self._principal, action, target=name, details=dict(details))
        return PreparedBackup(job, staged, self._principal, include_home, notify)

    def jobs(self) -> list[BackupJob]:
        return self._uow.backups.all(self._account.id)

    def job(self, job_id: int | None) -> BackupJob:
        """The job with this id, or the latest one."""
        if job_id is None:
            jobs = self.jobs()
            if not jobs:
                raise NotFound("This account has no backups yet.")
            return jobs[0]
        found = self._uow.backups.get(self._account.id, job_id)
        if found is None:
            raise NotFound(f"There is no backup job {job_id} for this account.")
        return found

    def archives(self) -> list[ArchiveOnDisk]:
        """The finished archives in the home's top folder (regular files named like a backup of this account)."""
        return sorted(
            (
                ArchiveOnDisk(name, info.st_size, info.st_mtime)
                for name, info in self._home.entries(HomePath())
                if stat.S_ISREG(info.st_mode) and is_archive_name(name, self._account.username)
            ),
            key=lambda archive: archive.file,
        )

    def overview(self) -> list[BackupEntry]:
        """Jobs newest first, then archives no job made (newest name first)."""
        on_disk = {archive.file: archive for archive in self.archives()}
        entries = [BackupEntry(job, on_disk.pop(job.file, None)) for job in self.jobs()]
        return entries + [BackupEntry(None, archive) for _, archive in sorted(on_disk.items(), reverse=True)]

    def _archive(self, backup: str) -> HomePath:
        """The archive `backup` names: one of this account's backups in the home's top folder."""
        username = self._account.username
        if not is_archive_name(backup, username):
            raise InvalidInput(
                "backup",
                f"“{backup}” is not a backup of this account: give the name of a "
                f"backup-…_{username}.tar.gz file in the home directory (Backup::list_backups lists them).",
            )
        return HomePath((backup,))

    def download(self, backup: str) -> Download:
        """An archive opened for the caller to stream (and close), read through the home's confinement point."""
        path = self._archive(backup)
        fd = self._home.open_read(path)
        return Download(fd=fd, size=os.fstat(fd).st_size, name=path.name)

    def _put_back_zones(self, summary: RestoreSummary) -> None:
        """A whole restore puts back the zones the archive holds, each through the zone editor's own checks and
        publication; one that cannot be (not the account's, not allowed to this token, refused) is left as it is."""
        if not summary.zone_files:
            return
        principal = self._principal
        try:
            if self._dns is None:
                raise PermissionDenied("This restore does not put DNS zones back.", missing="dns")
            check_access(
                principal.permissions,
                principal.account.disabled_features,
                Scope(ScopeModule.DNS, Access.WRITE),
                None,
                principal.restrictions,
            )
        except PermissionDenied as denied:
            summary.zones_skipped = [f"{zone}: {denied.message}" for zone in sorted(summary.zone_files)]
            return
        owned = set(self._dns.zones())
        for zone, text in sorted(summary.zone_files.items()):
            try:
                if zone not in owned:
                    raise NotFound(f"“{zone[:253]}” is not one of this account's DNS zones.")
                self._dns.replace(zone, text)
            except HostpanelError as error:
                summary.zones_skipped.append(f"{zone[:253]}: {error.message}")
            else:
                summary.zones.append(zone)

    def restore(self, backup: str, path: str | None, on_bytes: Callable[[int], None]) -> RestoreSummary:
        """Restore files from `backup` (an archive in the home's top folder): all, or those at and below `path`; a
        whole restore puts the account's DNS zones back too.

        A restore can take minutes, so it is recorded through `audit_now`, and the caller must not hold the
        database's write lock meanwhile (a read-only unit of work)."""
        username = self._account.username
        source = self._archive(backup)
        scope = self._target.path(path, "path") if path else None
        try:
            # One at a time per account: a restore holds its worker thread until the whole archive is read.
            running = self._staging.create_named_file(username, RESTORE_LOCK)
        except FileExistsError:
            raise Conflict("A restore of this account is already running: try again when it has finished.") from None
        action = action_for(self._principal, AuditAction.ACCOUNT_BACKUP_RESTORE, AuditAction.ADMIN_BACKUP_RESTORE)
        shown = {"path": str(scope) if scope else "~"}
        try:
            with os.fdopen(self._home.open_read(source), "rb", buffering=CHUNK) as archive:
                staged = self._staging.create_dir(username, "restore")
                try:
                    summary = restore(
                        archive,
                        staged=staged,
                        jail=self._target,
                        scope=scope,
                        spool_dir=self._staging.user_dir(username),
                        on_bytes=on_bytes,
                    )
                finally:
                    staged.discard()
        except RestoreRefused as refused:
            with self._audit_now.log() as trail:
                trail.record_by(self._principal, action, backup, Outcome.FAILURE, {**shown, "reason": refused.message})
            raise
        finally:
            running.discard()
        self._put_back_zones(summary)
        details: dict[str, DetailValue] = {
            **shown,
            "files": summary.files,
            "bytes": summary.bytes,
            "conflicts": len(summary.conflicts),
            **({"zones": summary.zones} if summary.zones else {}),
            **({"zones_skipped": summary.zones_skipped} if summary.zones_skipped else {}),
        }
        with self._audit_now.log() as trail:
            trail.record_by(self._principal, action, backup, Outcome.SUCCESS, details)
        return summary
