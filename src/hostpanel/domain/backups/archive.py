"""Writing and verifying backup archives, streamed end to end so memory stays bounded whatever the home's size.

Layout, under one top folder named like the archive (`backup-M.D.YYYY_HH-MM-SS_USER/`):
    meta/account.json    the account (no password hash, no token digest or secret, never the server key)
    meta/email.json      mailboxes (address, quota) and forwarders (no password hashes)
    meta/zones/Z.db      each DNS zone of the account, as its zone file (BIND syntax)
    homedir/...          the home: folders, regular files, symbolic links (as links; never followed)
    manifest.jsonl       last: one line per member above, in archive order, with each file's size and SHA-256
The home is read through the confinement point's descriptor walk, so a link planted in the home never pulls
outside files into the archive; devices, FIFOs and sockets are skipped.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hostpanel.domain.backups.model import Progress, is_archive_name
from hostpanel.domain.errors import HostpanelError
from hostpanel.domain.files.jail import Jail, open_regular_at
from hostpanel.domain.files.paths import HomePath

HOME = "homedir"
ZONES = ("meta", "zones")  # where the zone files are: meta/zones/<zone>.db
ZONE_SUFFIX = ".db"
MANIFEST = "manifest.jsonl"
COMPRESS_LEVEL = 6  # gzip's (and `tar czf`'s) default: the usual trade of speed for size
CHUNK = 1 << 20


class BackupCancelled(HostpanelError):
    """The job was asked to stop (the server is shutting down, or the CLI was interrupted)."""


def manifest_line(entry: dict[str, Any]) -> bytes:
    """The one canonical form of a manifest line, written by backups and rebuilt by restores to compare."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":")).encode() + b"\n"


@dataclass
class WriteSummary:
    """What went into an archive being written, and how many home entries were left out."""

    files: int = 0
    directories: int = 0
    links: int = 0
    bytes: int = 0
    skipped: int = 0  # devices, FIFOs, sockets, unreadable or too deep


class _HashingReader(io.RawIOBase):
    """What tarfile copies from: exactly `size` bytes of the file (zeros if it shrank meanwhile), hashed on the way."""

    def __init__(self, fd: int, size: int, on_bytes: Callable[[int], None]) -> None:
        self._fd = fd
        self._left = size
        self._on_bytes = on_bytes
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        wanted = self._left if size < 0 else min(size, self._left)
        if wanted <= 0:
            return b""
        data = os.read(self._fd, wanted) or bytes(wanted)
        self._left -= len(data)
        self.sha256.update(data)
        self._on_bytes(len(data))
        return data


class ArchiveWriter:
    """One archive being written to an open file; `add_*` in order, then `close` adds the manifest."""

    def __init__(self, out: IO[bytes], top: str, spool_dir: Path, cancelled: Callable[[], bool]) -> None:
        self._gzip = gzip.GzipFile(fileobj=out, mode="wb", compresslevel=COMPRESS_LEVEL, mtime=0)
        self._tar = tarfile.open(fileobj=self._gzip, mode="w|", format=tarfile.PAX_FORMAT)  # noqa: SIM115
        self._tar.copybufsize = CHUNK  # type: ignore[attr-defined]  # documented since 3.8, missing from typeshed
        self._top = top
        self._manifest = tempfile.TemporaryFile(dir=spool_dir)  # noqa: SIM115  # unnamed: nothing left on a crash
        self._cancelled = cancelled
        self.summary = WriteSummary()

    def add_bytes(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(f"{self._top}/{name}")
        info.size, info.mode = len(data), 0o600
        self._tar.addfile(info, io.BytesIO(data))
        self._note({"path": name, "type": "file", "size": len(data), "sha256": hashlib.sha256(data).hexdigest()})

    def add_home(self, jail: Jail, on_bytes: Callable[[int], None], on_file: Callable[[], None]) -> None:
        self._directory(HOME, jail.lstat(HomePath()))
        for entry in jail.walk(HomePath()):
            if self._cancelled():
                raise BackupCancelled("The backup was stopped before it finished.")
            if _earlier_backup(entry.path, entry.stat, jail.username):
                continue
            name = f"{HOME}/{entry.path.relative}"
            mode = entry.stat.st_mode
            if stat.S_ISDIR(mode) and not entry.too_deep:
                self._directory(name, entry.stat)
            elif stat.S_ISREG(mode):
                self._file(name, entry.dir_fd, entry.name, on_bytes)
                on_file()
            elif stat.S_ISLNK(mode):
                self._link(name, os.readlink(entry.name, dir_fd=entry.dir_fd), entry.stat)
            else:
                self.summary.skipped += 1

    def close(self) -> None:
        """Append the manifest and finish the gzip stream (the caller makes the file durable and names it)."""
        size = self._manifest.tell()
        self._manifest.seek(0)
        info = tarfile.TarInfo(f"{self._top}/{MANIFEST}")
        info.size, info.mode = size, 0o600
        self._tar.addfile(info, self._manifest)
        self._tar.close()
        self._gzip.close()
        self._manifest.close()

    def abandon(self) -> None:
        """Drop an unfinished archive: no trailer is written now, and nothing writes to the (closed) file later when
        the tar and gzip streams are collected."""
        # Attributes the standard library checks before writing, missing from typeshed's stubs.
        setattr(self._tar, "closed", True)  # noqa: B010
        setattr(self._tar.fileobj, "closed", True)  # noqa: B010
        setattr(self._gzip, "fileobj", None)  # noqa: B010
        self._manifest.close()

    def _directory(self, name: str, info: os.stat_result | None) -> None:
        member = tarfile.TarInfo(f"{self._top}/{name}")
        member.type = tarfile.DIRTYPE
        member.mode = stat.S_IMODE(info.st_mode) if info else 0o700
        member.mtime = int(info.st_mtime) if info else 0
        self._tar.addfile(member)
        self.summary.directories += 1
        self._note({"path": name, "type": "dir"})

    def _file(self, name: str, dir_fd: int, entry: str, on_bytes: Callable[[int], None]) -> None:
        try:
            fd = open_regular_at(dir_fd, entry, name)
        except HostpanelError:
            self.summary.skipped += 1  # replaced by something else since the listing
            return
        try:
            info = os.fstat(fd)
            member = tarfile.TarInfo(f"{self._top}/{name}")
            member.size, member.mode, member.mtime = info.st_size, stat.S_IMODE(info.st_mode), int(info.st_mtime)
            reader = _HashingReader(fd, info.st_size, on_bytes)
            self._tar.addfile(member, reader)
        finally:
            os.close(fd)
        self.summary.files += 1
        self.summary.bytes += info.st_size
        self._note({"path": name, "type": "file", "size": info.st_size, "sha256": reader.sha256.hexdigest()})

    def _link(self, name: str, target: str, info: os.stat_result) -> None:
        member = tarfile.TarInfo(f"{self._top}/{name}")
        member.type, member.linkname, member.mtime = tarfile.SYMTYPE, target, int(info.st_mtime)
        self._tar.addfile(member)
        self.summary.links += 1
        self._note({"path": name, "type": "link", "target": target})

    def _note(self, entry: dict[str, Any]) -> None:
        self._manifest.write(manifest_line(entry))


def _earlier_backup(path: HomePath, info: os.stat_result, username: str) -> bool:
    """Archives in the home's top folder are not backed up again (each backup would contain all the previous)."""
    return len(path.parts) == 1 and stat.S_ISREG(info.st_mode) and is_archive_name(path.name, username)


def scan(jail: Jail) -> Progress:
    """What a backup of the home will read: files and bytes (links not followed), for its progress."""
    files = size = 0
    for entry in jail.walk(HomePath()):
        if stat.S_ISREG(entry.stat.st_mode) and not _earlier_backup(entry.path, entry.stat, jail.username):
            files += 1
            size += entry.stat.st_size
    return Progress(files_total=files, bytes_total=size)


def members(archive: IO[bytes]) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
    """The members of a gzip-compressed tar read as a stream (no seeking: a corrupt archive cannot make it loop)."""
    with tarfile.open(fileobj=archive, mode="r|gz") as tar:
        for member in tar:
            yield member, tar
