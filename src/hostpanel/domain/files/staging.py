"""Scratch space for work in progress: uploads being received, archives being written, restores being unpacked.

It lives beside the homes (`<homes>/.staging/<user>/`), on the same filesystem, so finished work is moved into a
home with one rename and the home never holds a partial file. Each staged item is locked (flock) by the process
working on it for as long as it exists; the lock dies with the process. `sweep()` therefore removes exactly the items
whose owner is gone: what a crash left behind. A shared lock on the user's staging folder while an item is created
and locked keeps the sweep from mistaking a brand-new item for an orphan.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

STAGING_DIR = ".staging"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_RENAME_NOREPLACE = 1
_renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)


def rename_noreplace(source_fd: int, source: str, target_fd: int, target: str) -> None:
    """renameat2(RENAME_NOREPLACE): move an entry, failing with FileExistsError if the target name is taken.

    Where the C library or the filesystem lacks it, a hard link plus unlink gives the same guarantee for files.
    """
    if _renameat2 is not None:
        result = _renameat2(source_fd, os.fsencode(source), target_fd, os.fsencode(target), _RENAME_NOREPLACE)
        if result == 0:
            return
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
            raise OSError(code, os.strerror(code), target)
    os.link(source, target, src_dir_fd=source_fd, dst_dir_fd=target_fd, follow_symlinks=False)
    os.unlink(source, dir_fd=source_fd)


@dataclass
class StagedFile:
    """A locked file in the staging area, written through `fd`; placed into a home or discarded, once."""

    dir_fd: int
    name: str
    fd: int
    size: int = 0
    done: bool = field(default=False, init=False)

    def write(self, data: bytes | memoryview) -> None:
        view = memoryview(data)
        while view:
            written = os.write(self.fd, view)
            view = view[written:]
        self.size += len(data)

    def move_to(self, target_dir_fd: int, target_name: str, *, replace: bool) -> None:
        """Make the content durable, then give it its final name in one step; without `replace`, an existing
        entry makes it fail with FileExistsError, atomically (no check-then-act window)."""
        os.fsync(self.fd)
        if replace:
            os.rename(self.name, target_name, src_dir_fd=self.dir_fd, dst_dir_fd=target_dir_fd)
        else:
            rename_noreplace(self.dir_fd, self.name, target_dir_fd, target_name)
        os.fsync(target_dir_fd)
        self._close()

    def discard(self) -> None:
        if self.done:
            return
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.name, dir_fd=self.dir_fd)
        self._close()

    def _close(self) -> None:
        self.done = True
        os.close(self.fd)  # releases the lock
        os.close(self.dir_fd)


@dataclass
class StagedDir:
    """A locked folder in the staging area (a restore being unpacked); removed with `discard`."""

    parent_fd: int
    name: str
    fd: int
    done: bool = field(default=False, init=False)

    def discard(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            with contextlib.suppress(FileNotFoundError):
                remove_tree(self.parent_fd, self.name)
        finally:
            os.close(self.fd)
            os.close(self.parent_fd)


class Staging:
    """The staging area beside the homes: creates locked staged files and folders, and sweeps away orphans."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def user_dir(self, username: str) -> Path:
        return self.root / username

    def create_file(self, username: str, prefix: str) -> StagedFile:
        with self._creating(username) as dir_fd:
            name, fd = self._new_name(dir_fd, prefix, directory=False)
            return StagedFile(dir_fd=self._reopen(username), name=name, fd=fd)

    def create_named_file(self, username: str, name: str) -> StagedFile:
        """A staged file with a chosen name (a backup's `<archive>.partial`); FileExistsError if it exists."""
        with self._creating(username) as dir_fd:
            fd = os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
            fcntl.flock(fd, fcntl.LOCK_EX)
            return StagedFile(dir_fd=self._reopen(username), name=name, fd=fd)

    def create_dir(self, username: str, prefix: str) -> StagedDir:
        with self._creating(username) as dir_fd:
            name, fd = self._new_name(dir_fd, prefix, directory=True)
            return StagedDir(parent_fd=self._reopen(username), name=name, fd=fd)

    def is_in_use(self, username: str, name: str) -> bool:
        """True when a living process holds the staged item `name`."""
        try:
            dir_fd = os.open(self.user_dir(username), _DIR_FLAGS)
        except FileNotFoundError:
            return False
        try:
            return self._held(dir_fd, name)
        finally:
            os.close(dir_fd)

    def sweep(self) -> int:
        """Remove every staged item no living process holds; returns how many went."""
        removed = 0
        try:
            users = [entry.name for entry in os.scandir(self.root) if entry.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return 0
        for username in users:
            try:
                dir_fd = os.open(self.root / username, _DIR_FLAGS)
            except OSError:
                continue
            try:
                fcntl.flock(dir_fd, fcntl.LOCK_EX)
                for name in os.listdir(dir_fd):
                    if not self._held(dir_fd, name):
                        _remove_at(dir_fd, name)
                        removed += 1
            finally:
                os.close(dir_fd)
        return removed

    @contextmanager
    def _creating(self, username: str) -> Iterator[int]:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(self.user_dir(username), 0o700)
        dir_fd = os.open(self.user_dir(username), _DIR_FLAGS)
        try:
            fcntl.flock(dir_fd, fcntl.LOCK_SH)
            yield dir_fd
        finally:
            os.close(dir_fd)  # also drops the shared lock

    def _reopen(self, username: str) -> int:
        """A descriptor of the user's folder of its own: a dup would share, and so keep, the creation lock."""
        return os.open(self.user_dir(username), _DIR_FLAGS)

    @staticmethod
    def _new_name(dir_fd: int, prefix: str, directory: bool) -> tuple[str, int]:
        name = f"{prefix}-{secrets.token_hex(8)}"
        if directory:
            os.mkdir(name, 0o700, dir_fd=dir_fd)
            fd = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
        else:
            flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            fd = os.open(name, flags, 0o600, dir_fd=dir_fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        return name, fd

    @staticmethod
    def _held(dir_fd: int, name: str) -> bool:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
        except FileNotFoundError:
            return False
        except OSError:
            return False  # a link or something stranger: nobody's work in progress
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False


def _remove_at(dir_fd: int, name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        remove_tree(dir_fd, name)


def remove_path(path: Path) -> None:
    """`remove_tree` of a path the panel itself names (a home, a user's staging folder)."""
    parent = os.open(path.parent, _DIR_FLAGS)
    try:
        remove_tree(parent, path.name)
    finally:
        os.close(parent)


MAX_OPEN_FOLDERS = 32  # descriptors one removal holds at most, however deep the tree


def remove_tree(dir_fd: int, name: str) -> None:
    """Delete `name` in `dir_fd` (a file, a link, or a folder with everything below it), never following a link.

    shutil.rmtree recurses and holds a descriptor per level, so a tree a few thousand folders deep (easy to make)
    could never be removed: RecursionError, or EMFILE for every other request of the process meanwhile. Here a
    folder deeper than MAX_OPEN_FOLDERS levels is first moved up into the top folder (a rename within the tree being
    removed) and emptied from there: descriptors stay bounded and there is no recursion."""
    if not stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
        os.unlink(name, dir_fd=dir_fd)
        return
    top = os.open(name, _DIR_FLAGS, dir_fd=dir_fd)
    # One frame per open folder: its descriptor, its name in the folder above, the subfolders still to remove.
    frames: list[tuple[int, str, list[str]]] = [(top, name, _remove_files(top))]
    try:
        while frames:
            fd, folder, pending = frames[-1]
            if not pending:
                frames.pop()
                os.close(fd)
                os.rmdir(folder, dir_fd=frames[-1][0] if frames else dir_fd)
                continue
            child = pending.pop()
            if len(frames) >= MAX_OPEN_FOLDERS:
                moved = f".removing-{secrets.token_hex(8)}"
                rename_noreplace(fd, child, top, moved)
                frames[0][2].append(moved)
                continue
            try:
                child_fd = os.open(child, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                continue
            except OSError as error:
                if error.errno not in (errno.ENOTDIR, errno.ELOOP):
                    raise
                os.unlink(child, dir_fd=fd)  # no longer a folder (replaced by a file or a link meanwhile)
                continue
            frames.append((child_fd, child, _remove_files(child_fd)))
    finally:
        for fd, _, _ in frames:
            os.close(fd)


def _remove_files(fd: int) -> list[str]:
    """Unlink everything in the folder that is not a folder; the names of its subfolders."""
    folders = []
    with os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append(entry.name)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.name, dir_fd=fd)
    return folders
