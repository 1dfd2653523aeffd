"""Account home directories under the data directory."""

from __future__ import annotations

import contextlib
import logging
import os
import time
from pathlib import Path

from hostpanel.domain.files.staging import STAGING_DIR, remove_path

log = logging.getLogger(__name__)

HOME_MODE = 0o700
ORPHANED_DIR = ".orphaned"  # homes left behind by a crash, set aside when their name is reused
# cPanel's skeleton of a new home (names and modes).
SKELETON = {
    "etc": 0o750,
    "logs": 0o700,
    "mail": 0o751,
    "public_ftp": 0o755,
    "public_html": 0o755,
    "ssl": 0o755,
    "tmp": 0o755,
}


class FilesystemHomes:
    """Account homes as directories under one root, made with cPanel's skeleton."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def path_for(self, username: str) -> Path:
        return self._root / username

    def create(self, username: str) -> Path:
        self._root.mkdir(mode=0o711, parents=True, exist_ok=True)
        path = self.path_for(username)
        try:
            path.mkdir(mode=HOME_MODE)
        except FileExistsError:
            # No account has this name (the caller checked inside its transaction), so this is what a crash left
            # between a deletion's commit and its removal: kept aside, never handed to a newcomer.
            aside = self._set_aside(path)
            log.warning("moved the left-over home directory %s to %s", path, aside)
            path.mkdir(mode=HOME_MODE)
        path.chmod(HOME_MODE)  # mkdir's mode is filtered by the umask
        for name, mode in SKELETON.items():
            (path / name).mkdir()
            (path / name).chmod(mode)
        return path

    def disk_used(self, username: str) -> int:
        """Bytes the home occupies on disk (as `du` counts them), links never followed; 0 if it is gone."""
        total = 0
        for top, folders, files in os.walk(self.path_for(username), followlinks=False):
            for name in (*folders, *files):
                with contextlib.suppress(OSError):  # removed while walking
                    total += (Path(top) / name).lstat().st_blocks * 512
        return total

    def _set_aside(self, path: Path) -> Path:
        orphans = self._root / ORPHANED_DIR
        orphans.mkdir(mode=0o700, exist_ok=True)
        aside = orphans / f"{path.name}.{time.time_ns()}"
        path.rename(aside)
        return aside

    def remove(self, username: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            remove_path(self.path_for(username))  # a link in its place is removed, never followed
        with contextlib.suppress(OSError):
            remove_path(self._root / STAGING_DIR / username)
