"""Fileman's operations on an account's home, every one through the confinement point (jail.py).

Writes never leave a partial file: content is written in the staging area and moved into place in one step once it
is complete and on disk.
"""

from __future__ import annotations

import codecs
import os
import time
from dataclasses import dataclass

from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.audit.tags import AuditAction
from hostpanel.domain.errors import HostpanelError, InvalidInput, PermissionDenied
from hostpanel.domain.files.jail import Jail, kind_of
from hostpanel.domain.files.paths import HomePath
from hostpanel.domain.files.staging import StagedFile, Staging
from hostpanel.domain.principal import Principal

TRASH = ".trash"
DETECT = "_DETECT_"
DEFAULT_CHARSET = "utf-8"
_READ_CHUNK = 1 << 16
# Files one upload request may carry. Each file part holds two descriptors (its staged file and its folder) until the
# request ends: a thousand of them would exhaust a worker's usual 1024, failing every other request it serves.
MAX_FILES = 100


@dataclass(frozen=True)
class FileInfo:
    """An entry of the home with its lstat result, as listings and file info report it."""

    path: HomePath
    stat: os.stat_result

    @property
    def kind(self) -> str:
        return kind_of(self.stat.st_mode)


@dataclass(frozen=True)
class Upload:
    """One file part of a multipart request, already received into the staging area."""

    filename: str
    staged: StagedFile


@dataclass(frozen=True)
class UploadOutcome:
    """How one uploaded file fared: its name, its size, and whether it was placed, with cPanel's reason."""

    file: str
    size: int
    ok: bool
    reason: str


@dataclass(frozen=True)
class Download:
    """An open regular file for the caller to stream and close."""

    fd: int
    size: int
    name: str


def charset(name: str | None, field: str) -> str:
    """A codec name Python knows (cPanel passes iconv names such as `ISO-8859-1`, which Python accepts too)."""
    if not name:
        return DEFAULT_CHARSET
    if name == DETECT:
        return name
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise InvalidInput(field, f"“{name}” is not a character set this server knows.") from None


def parse_permissions(text: str | None, default: int) -> int:
    """Octal `644` or `0644`; no setuid, setgid or sticky bits."""
    if text is None or text == "":
        return default
    if not text.isascii() or not text.isdigit() or any(c in "89" for c in text) or int(text, 8) > 0o777:
        raise InvalidInput("permissions", "The parameter ‘permissions’ must contain a valid file system permission.")
    return int(text, 8)


class FileService:
    """Fileman's operations for one principal: list, read, write, upload, move, trash and delete in the home."""

    def __init__(
        self, jail: Jail, staging: Staging, audit: AuditLog, principal: Principal, max_content_bytes: int
    ) -> None:
        self.jail = jail
        self._staging = staging
        self._audit = audit
        self._principal = principal
        self._max_content = max_content_bytes

    # Reading ---------------------------------------------------------------------------------------------------

    def listing(self, directory: HomePath, *, show_hidden: bool, types: frozenset[str] | None) -> list[FileInfo]:
        """Directories first, then the rest, each group by name without regard to case (as cPanel lists)."""
        found = [
            FileInfo(directory.join(name), info)
            for name, info in self.jail.entries(directory)
            if (show_hidden or not name.startswith(".")) and (types is None or kind_of(info.st_mode) in types)
        ]
        return sorted(found, key=lambda item: (item.kind != "dir", item.path.name.lower(), item.path.name))

    def info(self, path: HomePath) -> FileInfo:
        return FileInfo(path, self.jail.lstat(path))

    def read_text(self, path: HomePath, from_charset: str) -> tuple[str, str]:
        """The file's text and the charset it was read with; large files belong to the download endpoint."""
        fd = self.jail.open_read(path)
        try:
            size = os.fstat(fd).st_size
            if size > self._max_content:
                raise InvalidInput(
                    "file",
                    f"The file “{path}” is {size} bytes, more than the {self._max_content} bytes this call returns; "
                    "use Fileman::download for it.",
                )
            data = _read_all(fd, self._max_content)
        finally:
            os.close(fd)
        if from_charset == DETECT:
            try:
                return data.decode(DEFAULT_CHARSET), DEFAULT_CHARSET
            except UnicodeDecodeError:
                return data.decode("iso8859-1"), "iso8859-1"
        try:
            return data.decode(from_charset), from_charset
        except UnicodeDecodeError:
            raise InvalidInput(
                "from_charset",
                f"The file “{path}” is not valid {from_charset}: pass from_charset=ISO-8859-1 (or _DETECT_), or use "
                "Fileman::download.",
            ) from None

    def download(self, path: HomePath) -> Download:
        fd = self.jail.open_read(path)
        return Download(fd=fd, size=os.fstat(fd).st_size, name=path.name)

    # Writing ---------------------------------------------------------------------------------------------------

    def save(self, path: HomePath, content: str, to_charset: str, fallback: bool) -> str:
        """Create or overwrite a file with text; returns the charset written."""
        if to_charset == DETECT:
            raise InvalidInput("to_charset", "“to_charset” must name a character set.")
        try:
            data = content.encode(to_charset)
        except UnicodeEncodeError:
            if not fallback:
                raise InvalidInput(
                    "to_charset", f"The content cannot be written in {to_charset}: pass fallback=1 to save it as UTF-8."
                ) from None
            data, to_charset = content.encode(DEFAULT_CHARSET), DEFAULT_CHARSET
        if len(data) > self._max_content:
            raise InvalidInput("content", f"The content is more than {self._max_content} bytes.")
        staged = self._staging.create_file(self.jail.username, "save")
        try:
            staged.write(data)
            self.jail.place(staged, path, replace=True)
        finally:
            staged.discard()
        self._record(AuditAction.ACCOUNT_FILE_WRITE, path, operation="save", size=len(data))
        return to_charset

    def upload(self, directory: HomePath, uploads: list[Upload], *, overwrite: bool, mode: int) -> list[UploadOutcome]:
        """Place each received file; one failing does not stop the others (cPanel reports each)."""
        with self.jail.directory(directory, create=True):
            pass  # cPanel makes the target folder when it is missing
        outcomes = []
        for upload in uploads:
            try:
                path = self.jail.child(directory, upload.filename, "file")
                replaced = self.jail.place(upload.staged, path, replace=overwrite, mode=mode)
            except PermissionDenied:
                raise
            except HostpanelError as error:
                outcomes.append(UploadOutcome(upload.filename, upload.staged.size, False, error.message))
                upload.staged.discard()
                continue
            self._record(AuditAction.ACCOUNT_FILE_WRITE, path, operation="upload", size=upload.staged.size)
            reason = f"Upload of “{upload.filename}” succeeded" + (
                ", overwrote existing file with your upload." if replaced else "."
            )
            outcomes.append(UploadOutcome(upload.filename, upload.staged.size, True, reason))
        return outcomes

    def mkdir(self, path: HomePath, mode: int) -> None:
        self.jail.mkdir(path, mode)
        self._record(AuditAction.ACCOUNT_FILE_MKDIR, path)

    def rename(self, source: HomePath, target: HomePath) -> None:
        self.jail.rename(source, target)
        self._record(AuditAction.ACCOUNT_FILE_MOVE, source, to=target.relative)

    def trash(self, path: HomePath) -> HomePath:
        """Move to `~/.trash`, as cPanel's File Manager does; a name already there gets a numbered suffix."""
        trash = self.jail.check(HomePath((TRASH,)))
        if path.is_within(trash):
            raise InvalidInput("path", f"“{path}” is already in the trash.")
        self.jail.lstat(path)  # a clear "does not exist" before the trash folder is made
        with self.jail.directory(trash, create=True, mode=0o700):
            pass
        taken = {name for name, _ in self.jail.entries(trash)}
        name, n = path.name, 1
        while name in taken:
            name, n = f"{path.name}.{n}", n + 1
        target = trash.join(name)
        self.jail.rename(path, target)
        self._record(AuditAction.ACCOUNT_FILE_TRASH, path, to=target.relative)
        return target

    def empty_trash(self, older_than_days: int) -> int:
        """Delete what was trashed more than `older_than_days` days ago (0: everything); returns how many."""
        trash = self.jail.check(HomePath((TRASH,)))
        try:
            entries = self.jail.entries(trash)
        except HostpanelError:
            return 0  # no trash yet
        cutoff = time.time() - older_than_days * 86400
        removed = 0
        for name, info in entries:
            # A move into the trash updates the entry's ctime, so ctime is when it was trashed.
            if older_than_days == 0 or info.st_ctime < cutoff:
                self.jail.remove(trash.join(name))
                removed += 1
        self._record(AuditAction.ACCOUNT_FILE_TRASH, trash, operation="empty", removed=removed)
        return removed

    def delete(self, path: HomePath) -> str:
        kind = kind_of(self.jail.lstat(path).st_mode)
        self.jail.remove(path)
        self._record(AuditAction.ACCOUNT_FILE_DELETE, path, type=kind)
        return kind

    def _record(self, action: AuditAction, path: HomePath, **details: str | int) -> None:
        self._audit.record_by(self._principal, action, target=str(path), details=dict(details))


def _read_all(fd: int, limit: int) -> bytes:
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(fd, _READ_CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    if total > limit:
        raise InvalidInput("file", f"The file grew past {limit} bytes while it was read.")
    return b"".join(chunks)
