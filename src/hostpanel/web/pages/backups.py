"""Files → Backups: start a full backup and follow its progress (our script polls a small JSON answer), list the
backups, download an archive, restore all files or one path. The BackupService does the work, as for the UAPI."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from hostpanel.domain.backups.model import BackupJob, BackupStatus
from hostpanel.domain.backups.record import status_record
from hostpanel.domain.backups.service import BackupEntry, BackupService
from hostpanel.domain.errors import HostpanelError, InvalidInput, NotFound
from hostpanel.domain.sizes import human_size
from hostpanel.http.files import file_response
from hostpanel.web.page import PageContext

RESTORE_FIELDS: dict[str, str | None] = {"backup": None}


@dataclass(frozen=True)
class BackupRow:
    """One row of the backups table: a job, an archive in the home, or both, as the page shows it."""

    entry: BackupEntry

    @property
    def file(self) -> str:
        return self.entry.file

    @property
    def job(self) -> BackupJob | None:
        return self.entry.job

    @property
    def status(self) -> str:
        return self.job.status.value if self.job else BackupStatus.COMPLETE.value

    @property
    def started(self) -> float | None:
        """When the job started, or (for an archive no job made) when the archive was written."""
        if self.job:
            return self.job.started_at
        return self.entry.archive.mtime if self.entry.archive else None

    @property
    def size_text(self) -> str:
        size = self.entry.archive.size if self.entry.archive else self.job.size if self.job else None
        return human_size(size) if size is not None else ""

    @property
    def in_home(self) -> bool:
        return self.entry.archive is not None


def _service(ctx: PageContext) -> BackupService:
    return ctx.services.backups


def _job_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) < 12 else None


def _listing(ctx: PageContext, service: BackupService) -> dict[str, Any]:
    """The table, and the job named by `?job=` (the one just started) for the progress panel."""
    watched = None
    if (job_id := _job_id(ctx.query.get("job", ""))) is not None:
        try:
            watched = service.job(job_id)
        except NotFound:
            watched = None
    return {"rows": [BackupRow(entry) for entry in service.overview()], "watched": watched}


def backups_page(ctx: PageContext) -> Response:
    return ctx.render("backups.html", **_listing(ctx, _service(ctx)))


def create(ctx: PageContext) -> Response:
    service = _service(ctx)
    values = _listing(ctx, service)
    try:
        prepared = service.start_in_background(include_home=True)
    except HostpanelError as error:
        return ctx.form_error(error, "backups.html", **values)
    return ctx.redirect("/backups", "backup-started", job=str(prepared.job.id))


def status(ctx: PageContext) -> Response:
    """A job's progress for the page's script: the UAPI's backup_status record plus the size as people read it."""
    job_id = _job_id(ctx.query.get("job", ""))
    try:
        if job_id is None:
            raise NotFound("Name a backup job.")
        job = _service(ctx).job(job_id)
    except NotFound as missing:
        ctx.failed = missing
        return JSONResponse({"error": missing.message}, status_code=404)
    size = human_size(job.size) if job.size is not None else ""
    return JSONResponse({**status_record(job), "size_text": size})


def download(ctx: PageContext) -> Response:
    service = _service(ctx)
    try:
        opened = service.download(ctx.query.get("file", ""))
    except HostpanelError as error:
        return ctx.form_error(error, "backups.html", fields=RESTORE_FIELDS, **_listing(ctx, service))
    return file_response(opened)


def _restore_values(form: dict[str, str]) -> dict[str, Any]:
    return {"file": form.get("file", ""), "what": form.get("what") or "all", "restore_path": form.get("path", "")}


def restore_form(ctx: PageContext) -> Response:
    service = _service(ctx)
    values = _restore_values({"file": ctx.query.get("file", "")})
    if values["file"] not in {archive.file for archive in service.archives()}:
        missing = NotFound(f"There is no backup named “{values['file']}” in your home folder.")
        return ctx.form_error(missing, "backup_restore.html", **values)
    return ctx.render("backup_restore.html", **values)


def restore(ctx: PageContext) -> Response:
    """Runs in a read-only transaction: the service records the restore in short transactions of its own."""
    form = {key: str(ctx.form.get(key, "")) for key in ("file", "what", "path")}
    values = _restore_values(form)
    path = form["path"].strip() if values["what"] == "path" else None
    try:
        if path == "":
            raise InvalidInput("path", "Enter the file or folder to restore, relative to your home folder.")
        summary = _service(ctx).restore(values["file"], path, lambda _count: None)
    except HostpanelError as error:
        return ctx.form_error(error, "backup_restore.html", fields=RESTORE_FIELDS, **values)
    return ctx.render(
        "backup_restored.html", summary=summary, file=values["file"], scope=path, size=human_size(summary.bytes)
    )
