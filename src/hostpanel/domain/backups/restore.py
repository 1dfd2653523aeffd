"""Restoring files from a backup: check every member, unpack what is asked for into the staging area while hashing
it, compare the whole archive with its manifest, and only then move the files into the home.

Refused, with nothing restored: members whose names leave the archive's folder (absolute, `..`: "zip-slip"),
links pointing outside the home (absolute, climbing above it, or through another link), hard links, sparse files,
devices and FIFOs, members twice, members missing from the manifest or differing from it (size or SHA-256), and
archives without a manifest. The target is written through the confinement point, so a token's `fileman_paths`
apply and links in the home are never written through.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import json
import os
import stat
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from hostpanel.domain.backups.archive import CHUNK, HOME, MANIFEST, ZONE_SUFFIX, ZONES, manifest_line, members
from hostpanel.domain.dns.zone import MAX_ZONE_TEXT
from hostpanel.domain.errors import HostpanelError, InvalidInput
from hostpanel.domain.files.jail import DIR_FLAGS, Jail, walk_at
from hostpanel.domain.files.paths import HomePath, has_control_characters
from hostpanel.domain.files.staging import StagedDir

MAX_MANIFEST_LINE = 1 << 16
SECTIONS = (HOME, "meta")


class RestoreRefused(HostpanelError):
    """The archive failed a check; nothing was restored."""


@dataclass
class RestoreSummary:
    """What a restore wrote into the home, and the paths it left alone."""

    files: int = 0
    directories: int = 0
    links: int = 0
    bytes: int = 0
    conflicts: list[str] = field(default_factory=list)  # paths left alone (a folder where a file was, ...)
    zone_files: dict[str, str] = field(default_factory=dict)  # the archive's zone files (a whole restore), by zone
    zones: list[str] = field(default_factory=list)  # the zones put back
    zones_skipped: list[str] = field(default_factory=list)  # the zones left as they are, each with why


class _CountingReader(io.RawIOBase):
    def __init__(self, raw: IO[bytes], on_bytes: Callable[[int], None]) -> None:
        self._raw = raw
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        buffer[: len(data)] = data
        self._on_bytes(len(data))
        return len(data)


def restore(
    archive: IO[bytes],
    *,
    staged: StagedDir,
    jail: Jail,
    scope: HomePath | None,
    spool_dir: Path,
    on_bytes: Callable[[int], None],
) -> RestoreSummary:
    """Restore the home's files (all, or those at and below `scope`) from `archive`."""
    unpacker = _Unpacker(staged.fd, jail, scope)
    with tempfile.TemporaryFile(dir=spool_dir) as computed:
        top: str | None = None
        verified = False
        try:
            for member, tar in members(io.BufferedReader(_CountingReader(archive, on_bytes), CHUNK)):
                if verified:
                    raise RestoreRefused(f"The backup has a member after its manifest: “{member.name}”.")
                parts = _member_parts(member.name)
                top = top or parts[0]
                if parts[0] != top:
                    raise RestoreRefused(f"The backup's members are not all in one folder: “{member.name}”.")
                if parts[1:] == (MANIFEST,) and member.isreg():
                    _compare(tar.extractfile(member), computed)
                    verified = True
                    continue
                computed.write(manifest_line(unpacker.add(parts[1:], member, tar)))
        except (tarfile.TarError, EOFError, OSError) as error:
            if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise RestoreRefused("The disk is full: nothing was restored.") from None
            raise RestoreRefused(f"The backup is damaged or not a .tar.gz archive ({error}).") from None
    if not verified:
        raise RestoreRefused("The backup has no manifest, so its content cannot be verified: nothing was restored.")
    summary = unpacker.apply()
    summary.zone_files = unpacker.zone_files
    return summary


def _member_parts(name: str) -> tuple[str, ...]:
    """The member's path as names, refusing anything that could land outside the archive's own folder."""
    if name.startswith("/") or "\\" in name:
        raise RestoreRefused(f"The backup has a member with an absolute path: “{name}”.")
    if "\0" in name or has_control_characters(name):
        raise RestoreRefused(f"The backup has a member whose name holds control characters: {name!r}.")
    parts = tuple(name.split("/"))
    if any(part in ("", ".", "..") for part in parts):
        raise RestoreRefused(f"The backup has a member that would escape its folder: “{name}”.")
    if len(parts) < 2 or parts[1] not in (*SECTIONS, MANIFEST):
        raise RestoreRefused(f"The backup has a member this server did not write: “{name}”.")
    return parts


def _kind(member: tarfile.TarInfo) -> str:
    if member.isdir():
        return "dir"
    if member.issparse():
        what = "a sparse file"  # a few stored bytes that unpack to any size it claims; backups never write one
    elif member.isreg():
        return "file"
    elif member.issym():
        return "link"
    elif member.islnk():
        what = "a hard link"
    elif member.ischr() or member.isblk():
        what = "a device"
    elif member.isfifo():
        what = "a FIFO"
    else:
        what = "a special file"
    raise RestoreRefused(f"The backup holds {what} (“{member.name}”), which is never restored.")


def _link_stays_inside(path: HomePath, target: str, name: str) -> None:
    """The target must climb (`..`) only at its start, no higher than the link's own folder, then descend.

    The kernel resolves `x/..` as the parent of wherever `x` leads, which is not `.` when `x` is itself a link, so a
    `..` after a name could climb out through another link however the path reads. Leading `..` climb through the
    real folders the link is restored in; the names after them lead into the home (links among them are checked
    the same way)."""
    names = [part for part in target.split("/") if part not in ("", ".")]
    climbs = next((index for index, part in enumerate(names) if part != ".."), len(names))
    if (
        target.startswith("/")
        or "\0" in target
        or has_control_characters(target)
        or ".." in names[climbs:]
        or climbs > len(path.parent.parts)
    ):
        raise RestoreRefused(f"The link “{name}” points outside the home (“{target}”).")


class _Unpacker:
    def __init__(self, root_fd: int, jail: Jail, scope: HomePath | None) -> None:
        self._root = root_fd
        self._jail = jail
        self._scope = scope
        self._folders: set[HomePath] = set()  # folders that are members (the others are only on the way)
        self.zone_files: dict[str, str] = {}  # kept for a whole restore; used only once the manifest agrees

    def add(self, rest: tuple[str, ...], member: tarfile.TarInfo, tar: tarfile.TarFile) -> dict[str, Any]:
        """Check one member, unpack it if it is wanted, and return its manifest entry as computed from the data."""
        kind = _kind(member)
        entry: dict[str, Any] = {"path": "/".join(rest), "type": kind}
        path = HomePath(rest[1:])
        wanted = rest[0] == HOME and not path.is_home and (self._scope is None or path.is_within(self._scope))
        if kind == "link":
            if rest[0] != HOME:
                raise RestoreRefused(f"The backup has a link outside its home folder: “{member.name}”.")
            _link_stays_inside(path, member.linkname, member.name)
            entry["target"] = member.linkname
        if wanted:
            # A token's fileman_paths, checked as the writes will be, before anything is written.
            self._jail.check(path)
            if kind == "dir":
                self._folders.add(path)
            elif not path.parent.is_home:
                self._jail.check(path.parent)
            with self._parent(path, member.name) as fd:
                self._unpack(fd, path.name, member, tar, entry)
        elif kind == "file" and self._scope is None and self._is_zone_file(rest, member):
            data = (tar.extractfile(member) or io.BytesIO()).read(MAX_ZONE_TEXT + 1)
            entry["sha256"] = hashlib.sha256(data).hexdigest()
            self.zone_files[rest[-1].removesuffix(ZONE_SUFFIX)] = data.decode("utf-8", "replace")
        elif kind == "file":
            entry["sha256"] = _digest(tar.extractfile(member), None)
        if kind == "file":
            entry["size"] = member.size
        return entry

    @staticmethod
    def _is_zone_file(rest: tuple[str, ...], member: tarfile.TarInfo) -> bool:
        return rest[:-1] == ZONES and rest[-1].endswith(ZONE_SUFFIX) and member.size <= MAX_ZONE_TEXT

    def _unpack(self, fd: int, name: str, member: tarfile.TarInfo, tar: tarfile.TarFile, entry: dict[str, Any]) -> None:
        kind = entry["type"]
        try:
            if kind == "dir":
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=fd)
                folder = os.open(name, DIR_FLAGS, dir_fd=fd)
                try:
                    os.fchmod(folder, stat.S_IMODE(member.mode) | 0o700)  # the owner must write inside meanwhile
                finally:
                    os.close(folder)
            elif kind == "link":
                os.symlink(member.linkname, name, dir_fd=fd)
            else:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
                out = os.open(name, flags, 0o600, dir_fd=fd)
                try:
                    entry["sha256"] = _digest(tar.extractfile(member), out)
                    os.fchmod(out, stat.S_IMODE(member.mode) & 0o777)
                    os.utime(out, (member.mtime, member.mtime))
                finally:
                    os.close(out)
        except FileExistsError:
            raise RestoreRefused(f"The backup holds “{member.name}” twice.") from None

    @contextlib.contextmanager
    def _parent(self, path: HomePath, shown: str) -> Any:
        """The staged folder for `path`'s parent, made as needed, never through a link (one unpacked earlier)."""
        fd = os.dup(self._root)
        try:
            for name in path.parent.parts:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, 0o700, dir_fd=fd)
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError:
                    raise RestoreRefused(f"The backup's member “{shown}” would be written through a link.") from None
                os.close(fd)
                fd = child
            yield fd
        finally:
            os.close(fd)

    def apply(self) -> RestoreSummary:
        """Move the verified files into the home, folders first; a path the home has as something else is left."""
        summary = RestoreSummary()
        for entry in walk_at(self._root, HomePath()):
            mode = entry.stat.st_mode
            try:
                if stat.S_ISDIR(mode):
                    if entry.path in self._folders:
                        with self._jail.directory(entry.path, create=True, mode=stat.S_IMODE(mode)):
                            summary.directories += 1
                    continue
                with self._jail.parent(entry.path, create=True) as home_fd:
                    existing = _lstat(home_fd, entry.name)
                    if existing is not None and stat.S_ISDIR(existing.st_mode):
                        summary.conflicts.append(str(entry.path))
                        continue
                    self._adopt(entry.dir_fd, entry.name, mode)
                    os.rename(entry.name, entry.name, src_dir_fd=entry.dir_fd, dst_dir_fd=home_fd)
            except InvalidInput:
                summary.conflicts.append(str(entry.path))
                continue
            if stat.S_ISLNK(mode):
                summary.links += 1
            else:
                summary.files += 1
                summary.bytes += entry.stat.st_size
        return summary

    def _adopt(self, dir_fd: int, name: str, mode: int) -> None:
        if stat.S_ISLNK(mode):
            self._jail.adopt_link(dir_fd, name)
            return
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
        try:
            self._jail.adopt(fd)
        finally:
            os.close(fd)


def _digest(source: IO[bytes] | None, out: int | None) -> str:
    digest = hashlib.sha256()
    while source is not None and (chunk := source.read(CHUNK)):
        digest.update(chunk)
        if out is not None:
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view) :]
    return digest.hexdigest()


def _lstat(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _compare(manifest: IO[bytes] | None, computed: IO[bytes]) -> None:
    """The manifest must list exactly the members read, in order, with the same sizes and checksums."""
    computed.seek(0)
    while manifest is not None and (expected := manifest.readline(MAX_MANIFEST_LINE + 1)):
        if len(expected) > MAX_MANIFEST_LINE:
            raise RestoreRefused("The backup's manifest is malformed.")
        got = computed.readline()
        if got != expected:
            path = _path_of(got or expected)
            if not got:
                raise RestoreRefused(f"The backup's manifest lists “{path}”, which the archive lacks.")
            raise RestoreRefused(
                f"The checksum of “{path}” does not match the backup's manifest; nothing was restored."
            )
    if extra := computed.readline():
        raise RestoreRefused(f"The backup holds “{_path_of(extra)}”, which its manifest does not list.")


def _path_of(line: bytes) -> str:
    try:
        return str(json.loads(line)["path"])
    except (ValueError, KeyError, TypeError):
        return "a member"
