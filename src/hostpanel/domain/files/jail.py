"""The one confinement point between a request and an account's files.

Every path is first parsed lexically (paths.py: no `..` above the home, no NUL or control characters). Then the
filesystem is walked one name at a time from a descriptor of the home, each step opened relative to the previous
directory with O_NOFOLLOW: a symbolic link anywhere in a path is refused, never followed, whether it was planted
before the call or swapped in during it (there is no check-then-use window, because what is checked is the very
descriptor that is used). Files are opened through an O_PATH descriptor first, so a device node, FIFO or socket is
recognised and refused without ever being opened. A token's `fileman_paths` restriction is checked here too, on
every path an operation touches.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hostpanel.domain.errors import InvalidInput, NotFound, RestrictionDenied
from hostpanel.domain.files.paths import HomePath, parse_in_home, validate_name
from hostpanel.domain.files.staging import StagedFile, remove_tree, rename_noreplace
from hostpanel.domain.tokens.restrictions import FilemanPaths

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_KINDS = {
    stat.S_IFDIR: "dir",
    stat.S_IFREG: "file",
    stat.S_IFLNK: "link",
    stat.S_IFCHR: "char",
    stat.S_IFBLK: "block",
    stat.S_IFIFO: "fifo",
    stat.S_IFSOCK: "socket",
}


def kind_of(mode: int) -> str:
    """cPanel's `type` words: file, dir, link, char, block, fifo, socket."""
    return _KINDS.get(stat.S_IFMT(mode), "unknown")


def open_regular_at(dir_fd: int, name: str, shown: str) -> int:
    """Open `name` in `dir_fd` for reading only if it is a regular file; the check and the open see one inode."""
    try:
        handle = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError as error:
        raise os_error(error, shown) from None
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            raise InvalidInput("file", f"“{shown}” is a {_describe(mode)}, not a regular file.")
        # Reopening the O_PATH descriptor through /proc opens exactly the inode that was checked.
        return os.open(f"/proc/self/fd/{handle}", os.O_RDONLY | os.O_CLOEXEC)
    finally:
        os.close(handle)


def _describe(mode: int) -> str:
    return {
        "dir": "directory",
        "link": "symbolic link",
        "char": "character device",
        "block": "block device",
        "fifo": "named pipe",
        "socket": "socket",
    }.get(kind_of(mode), "special file")


_ERRORS = {
    errno.ELOOP: "“{}” is a symbolic link; Fileman does not follow links.",
    errno.ENOTDIR: "“{}” is not a directory.",
    errno.EISDIR: "“{}” is a directory.",
    errno.EEXIST: "“{}” already exists.",
    errno.ENOTEMPTY: "“{}” is not empty.",
    errno.EACCES: "Permission denied for “{}”.",
    errno.EPERM: "Permission denied for “{}”.",
    errno.ENOSPC: "The disk is full (writing “{}”).",
    errno.EDQUOT: "The disk quota is exceeded (writing “{}”).",
}


def os_error(error: OSError, shown: str) -> Exception:
    """The one mapping of filesystem errors to messages a caller can act on."""
    if isinstance(error, FileNotFoundError):
        return NotFound(f"“{shown}” does not exist.")
    template = _ERRORS.get(error.errno or 0, "“{}”: " + (error.strerror or "error") + ".")
    return InvalidInput("path", template.format(shown))


class Jail:
    """An account's home, seen through one (optional) `fileman_paths` restriction."""

    def __init__(self, home: Path, username: str, allowed: FilemanPaths | None = None) -> None:
        self.home = home
        self.username = username
        self._allowed = allowed
        self._owner: tuple[int, int] | None = None

    # Paths -----------------------------------------------------------------------------------------------------

    def path(self, text: str, field: str) -> HomePath:
        """Parse an argument (relative, or absolute inside the home) and check it against the restriction."""
        return self.check(parse_in_home(text, field, str(self.home), self.username))

    def child(self, parent: HomePath, name: str, field: str, *, existing: bool = False) -> HomePath:
        """`parent/name`: a name to create follows cPanel's rules; one to look up (`existing`) need only be one
        level."""
        return self.check(parent.join(validate_name(name, field, existing=existing)))

    def destination(self, text: str, field: str) -> HomePath:
        """A path to create (where a rename or move goes): parsed as `path` parses, its last name held to the rules
        for new names."""
        target = self.path(text, field)
        return target if target.is_home else self.child(target.parent, target.name, field)

    def check(self, path: HomePath) -> HomePath:
        if self._allowed is not None and not self._allowed.allows(path):
            allowed = ", ".join(p.relative for p in self._allowed.paths)
            raise RestrictionDenied(
                f"This API token may only use the folders {allowed} (restriction “{FilemanPaths.key}”); "
                f"“{path}” is outside them.",
                FilemanPaths.key,
                detail=str(path),
            )
        return path

    def absolute(self, path: HomePath) -> str:
        """The path as the server sees it (for cPanel's `fullpath`/`absdir` fields; never opened by name)."""
        return str(self.home.joinpath(*path.parts))

    # Walking ---------------------------------------------------------------------------------------------------

    @contextmanager
    def directory(self, path: HomePath, *, create: bool = False, mode: int = 0o755) -> Iterator[int]:
        """A descriptor of the directory `path`, reached without following any link; `create` makes missing ones
        (with `mode`)."""
        self.check(path)
        try:
            fd = os.open(self.home, DIR_FLAGS)
        except FileNotFoundError:
            raise NotFound(f"The home directory of “{self.username}” does not exist.") from None
        try:
            for depth, name in enumerate(path.parts, start=1):
                fd = self._step(fd, name, HomePath(path.parts[:depth]), mode if create else None)
            yield fd
        finally:
            os.close(fd)

    def _step(self, fd: int, name: str, shown: HomePath, create_mode: int | None) -> int:
        """Open one level down; closes `fd` only on success (on failure the caller still owns it)."""
        try:
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if create_mode is None:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(name, create_mode, dir_fd=fd)
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
                try:
                    os.fchmod(child, create_mode)  # mkdir's mode is filtered by the umask
                    self.adopt(child)
                except OSError:
                    os.close(child)
                    raise
        except OSError as error:
            if error.errno == errno.ENOTDIR and _is_link(fd, name):
                error = OSError(errno.ELOOP, "symbolic link")  # O_DIRECTORY reports a link as "not a directory"
            raise os_error(error, str(shown)) from None
        os.close(fd)
        return child

    @contextmanager
    def parent(self, path: HomePath, *, create: bool = False) -> Iterator[int]:
        """The descriptor of `path`'s directory, for an operation on its last name."""
        if path.is_home:
            raise InvalidInput("path", "This operation needs a file or folder inside the home, not the home itself.")
        self.check(path)
        with self.directory(path.parent, create=create) as fd:
            yield fd

    # Operations ------------------------------------------------------------------------------------------------

    def lstat(self, path: HomePath) -> os.stat_result:
        if path.is_home:
            with self.directory(path) as fd:
                return os.fstat(fd)
        with self.parent(path) as fd:
            try:
                return os.stat(path.name, dir_fd=fd, follow_symlinks=False)
            except OSError as error:
                raise os_error(error, str(path)) from None

    def open_read(self, path: HomePath) -> int:
        """A read descriptor of the regular file `path` (the caller closes it)."""
        with self.parent(path) as fd:
            return open_regular_at(fd, path.name, str(path))

    def place(self, staged: StagedFile, path: HomePath, *, replace: bool, mode: int | None = None) -> bool:
        """Move a finished staged file to `path` in one step. Returns True if it replaced an existing file.

        Only a regular file is ever replaced; should a link or device be swapped in meanwhile, the rename replaces
        that directory entry itself and never writes through it.
        """
        with self.parent(path) as fd:
            existing = _lstat_or_none(fd, path.name)
            if existing is not None and not stat.S_ISREG(existing.st_mode):
                raise InvalidInput("file", f"“{path}” is a {_describe(existing.st_mode)}; it cannot be overwritten.")
            if existing is not None and not replace:
                raise InvalidInput("file", f"The file “{path.name}” already exists.")
            keep = stat.S_IMODE(existing.st_mode) & 0o777 if existing is not None else 0o644
            os.fchmod(staged.fd, mode if mode is not None else keep)
            self.adopt(staged.fd)
            try:
                staged.move_to(fd, path.name, replace=replace)
            except FileExistsError:
                raise InvalidInput("file", f"The file “{path.name}” already exists.") from None
            except OSError as error:
                raise os_error(error, str(path)) from None
            return existing is not None

    def mkdir(self, path: HomePath, mode: int) -> None:
        with self.parent(path) as fd:
            try:
                os.mkdir(path.name, mode, dir_fd=fd)
                child = os.open(path.name, DIR_FLAGS, dir_fd=fd)
            except OSError as error:
                raise os_error(error, str(path)) from None
            try:
                os.fchmod(child, mode)  # mkdir's mode is filtered by the umask
                self.adopt(child)
            finally:
                os.close(child)

    def rename(self, source: HomePath, target: HomePath) -> None:
        """Rename or move without replacing anything at `target`."""
        if target.is_within(source):
            raise InvalidInput("new_path", f"“{source}” cannot be moved into itself.")
        with self.parent(source) as source_fd, self.parent(target) as target_fd:
            try:
                os.stat(source.name, dir_fd=source_fd, follow_symlinks=False)
                rename_noreplace(source_fd, source.name, target_fd, target.name)
            except FileExistsError:
                raise InvalidInput("new_path", f"“{target}” already exists.") from None
            except OSError as error:
                raise os_error(error, str(source)) from None

    def remove(self, path: HomePath) -> None:
        """Delete a file, link or whole folder for good (descriptor-based, so no link inside is followed)."""
        with self.parent(path) as fd:
            try:
                remove_tree(fd, path.name)
            except OSError as error:
                raise os_error(error, str(path)) from None

    def walk(self, path: HomePath) -> Iterator[WalkEntry]:
        """Everything below the directory `path`, depth first, names sorted, links reported and never entered.

        Each entry comes with a descriptor of its directory, valid until the next entry is asked for, so the caller
        opens what it reads relative to it (never by path).
        """
        with self.directory(path) as fd:
            yield from walk_at(fd, path)

    def entries(self, path: HomePath) -> list[tuple[str, os.stat_result]]:
        """The names in a directory with their lstat, unsorted."""
        with self.directory(path) as fd:
            found = []
            for name in os.listdir(fd):
                with contextlib.suppress(FileNotFoundError):
                    found.append((name, os.stat(name, dir_fd=fd, follow_symlinks=False)))
            return found

    def adopt(self, fd: int) -> None:
        """Give what the panel creates to the home's owner (when the panel runs as root for per-user homes)."""
        if os.geteuid() != 0:
            return
        if self._owner is None:
            info = os.stat(self.home)
            self._owner = (info.st_uid, info.st_gid)
        uid, gid = self._owner
        if uid != 0:
            os.fchown(fd, uid, gid)

    def adopt_link(self, dir_fd: int, name: str) -> None:
        """`adopt` for a symbolic link (which has no descriptor of its own to change)."""
        if os.geteuid() != 0:
            return
        info = os.stat(self.home)
        if info.st_uid != 0:
            os.chown(name, info.st_uid, info.st_gid, dir_fd=dir_fd, follow_symlinks=False)


MAX_DEPTH = 256  # folders deeper than this are not descended into (each level holds a descriptor open)


@dataclass(frozen=True)
class WalkEntry:
    """One entry of a descriptor walk, with the descriptor of its directory to open it relative to."""

    path: HomePath
    dir_fd: int
    name: str
    stat: os.stat_result
    too_deep: bool = False  # a directory not descended into (MAX_DEPTH)


def walk_at(fd: int, path: HomePath, depth: int = 0) -> Iterator[WalkEntry]:
    """The descriptor walk below an open directory (see `Jail.walk`)."""
    for name in sorted(os.listdir(fd)):
        info = _lstat_or_none(fd, name)
        if info is None:
            continue  # gone since the listing
        is_dir = stat.S_ISDIR(info.st_mode)
        yield WalkEntry(path.join(name), fd, name, info, too_deep=is_dir and depth >= MAX_DEPTH)
        if not is_dir or depth >= MAX_DEPTH:
            continue
        try:
            child = os.open(name, DIR_FLAGS, dir_fd=fd)
        except OSError:
            continue  # replaced by a link or removed meanwhile: not followed
        try:
            yield from walk_at(child, path.join(name), depth + 1)
        finally:
            os.close(child)


def _lstat_or_none(dir_fd: int, name: str) -> os.stat_result | None:
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def _is_link(dir_fd: int, name: str) -> bool:
    info = _lstat_or_none(dir_fd, name)
    return info is not None and stat.S_ISLNK(info.st_mode)
