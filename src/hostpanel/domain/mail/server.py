"""What the mail server reads: a Dovecot passwd-file for mailboxes and a virtual alias map for forwarders.

Both are regenerated whole from the database after each committed change, under an exclusive lock, and replaced by
rename: a reader never sees half a file, and whichever process writes last has read every committed change (it
reads after taking the lock), so concurrent changes from several workers cannot lose one another.

passwd-file line (Dovecot's `passwd-file` passdb and userdb):
    info@example.com:{ARGON2ID}$argon2id$...:UID:GID::/maildir/path::userdb_mail=maildir:/maildir/path
        userdb_quota_rule=*:storage=100M
The UID and GID are the owner of the account's home, so Dovecot runs as the account. Mailboxes of suspended
accounts are left out, so they cannot log in.

Alias map line, readable by Postfix (`virtual_alias_maps = texthash:PATH`) and Exim (`lsearch`):
    sales@example.com  alice@example.com, bob@example.net
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Callable
from pathlib import Path

from hostpanel.domain.mail.model import Forwarder, PublishedMailbox
from hostpanel.domain.ports import UnitOfWork

log = logging.getLogger(__name__)

PASSWD_FILE = "passwd"
ALIAS_FILE = "virtual"
SCHEME = "ARGON2ID"
MAILDIR_ROOT = "mail"  # cPanel's ~/mail/<domain>/<local part>
# A path in a passwd-file field cannot hold the separators of its format.
_UNSAFE_PATH = re.compile(r"[:\s]")


def maildir_parts(domain: str, local_part: str) -> tuple[str, str, str]:
    return (MAILDIR_ROOT, domain, local_part)


class MailServerFiles:
    """The passwd-file and alias map the mail server reads, rewritten whole from the database."""

    def __init__(self, directory: Path, homes_root: Path) -> None:
        self.directory = directory
        self._homes_root = homes_root

    @property
    def passwd_path(self) -> Path:
        return self.directory / PASSWD_FILE

    @property
    def alias_path(self) -> Path:
        return self.directory / ALIAS_FILE

    def publish(self, read_uow: Callable[[], UnitOfWork]) -> None:
        """Rewrite both files from the committed state."""
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        lock = os.open(self.directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            with read_uow() as uow:
                mailboxes, forwarders = uow.mail.published()
            self._replace(PASSWD_FILE, "".join(self._passwd_lines(mailboxes)), 0o640)
            self._replace(ALIAS_FILE, alias_map(forwarders), 0o644)
        finally:
            os.close(lock)

    def _passwd_lines(self, mailboxes: list[PublishedMailbox]) -> list[str]:
        lines = []
        for published in mailboxes:
            home = self._homes_root / published.username
            try:
                owner = home.stat()
            except FileNotFoundError:
                log.error("mailbox %s left out: the home %s does not exist", published.mailbox.address, home)
                continue
            maildir = home.joinpath(*maildir_parts(published.mailbox.domain, published.mailbox.local_part))
            if _UNSAFE_PATH.search(str(maildir)):
                log.error("mailbox %s left out: its path %s has a colon or a space", published.mailbox.address, maildir)
                continue
            lines.append(passwd_line(published, maildir, owner.st_uid, owner.st_gid))
        return lines

    def _replace(self, name: str, content: str, mode: int) -> None:
        target = self.directory / name
        temporary = self.directory / f".{name}.new"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, mode)
        try:
            os.write(fd, content.encode("utf-8"))
            os.fchmod(fd, mode)
            # Dovecot re-reads a passwd-file only when its mtime (in whole seconds) or size changes, and a new
            # password hash has the old one's length: make every version's mtime later than the last one's.
            stamp = max(int(time.time()), _mtime(target) + 1)
            os.utime(fd, (stamp, stamp))
            os.fsync(fd)
        finally:
            os.close(fd)
        temporary.replace(target)
        directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)


def _mtime(path: Path) -> int:
    try:
        return int(path.stat().st_mtime)
    except FileNotFoundError:
        return 0


def passwd_line(published: PublishedMailbox, maildir: Path, uid: int, gid: int) -> str:
    mailbox = published.mailbox
    quota = f"{mailbox.quota_mb}M" if mailbox.quota_mb else "0"  # 0: no limit
    extra = f"userdb_mail=maildir:{maildir} userdb_quota_rule=*:storage={quota}"
    return f"{mailbox.address}:{{{SCHEME}}}{mailbox.password_hash}:{uid}:{gid}::{maildir}::{extra}\n"


def alias_map(forwarders: list[Forwarder]) -> str:
    destinations: dict[str, list[str]] = {}
    for forwarder in sorted(forwarders, key=lambda f: (f.address, f.id)):
        destinations.setdefault(forwarder.address, []).append(forwarder.destination)
    return "".join(f"{address}  {', '.join(targets)}\n" for address, targets in destinations.items())
