"""A real Dovecot serves the mailboxes the panel writes: IMAP login after add_pop, refusal of the old password after
passwd_pop and of any password after delete_pop or a suspension, the quota, and mail stored in the Maildir.

The test installs Debian's dovecot-imapd when it is missing and runs a private instance (its own configuration,
sockets and port in a temporary folder), never the system's.
"""

from __future__ import annotations

import fcntl
import getpass
import grp
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.keys import create_key_file
from tests.factories import auth, uapi
from tests.processes import free_port

PASSWORD = "Str0ng-Mailbox-Pass!"
NEW_PASSWORD = "Changed-Mailbox-Pass-77"
CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
instance_name = hostpanel-test-{port}
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
default_login_user = {login_user}
default_internal_user = {internal_user}
mail_plugins = quota
passdb {{
  driver = passwd-file
  args = scheme=ARGON2ID username_format=%u {mail}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {mail}/passwd
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
protocol imap {{
  mail_plugins = $mail_plugins imap_quota
}}
plugin {{
  quota = maildir:User quota
}}
"""


def dovecot_binary() -> str:
    """Debian's dovecot, installed (once, under a lock) if this machine lacks it."""
    with Path(tempfile.gettempdir(), "hostpanel-dovecot-install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shutil.which("dovecot") is None and not Path("/usr/sbin/dovecot").exists():
            sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
            env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
            install = [*sudo, "apt-get", "install", "-y", "-qq", "dovecot-imapd"]
            done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                subprocess.run([*sudo, "apt-get", "update", "-qq"], env=env, capture_output=True, check=False)
                done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                pytest.fail(f"could not install dovecot-imapd: {done.stderr[-2000:]}")
    return shutil.which("dovecot") or "/usr/sbin/dovecot"


@dataclass
class Dovecot:
    """A running Dovecot that reads the panel's passwd-file and maildirs: logs in over IMAP and reads its log."""

    root: Path
    mail: Path
    port: int

    def login(self, user: str, password: str) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            imap.login(user, password)
        except imaplib.IMAP4.error as error:
            raise imaplib.IMAP4.error(f"{error}; dovecot.log ends: {self.log()[-1500:]}") from None
        return imap

    def refuses(self, user: str, password: str) -> bool:
        """True once Dovecot answers "wrong credentials". It looks at the passwd-file at most once a second, so a
        change shows within about a second: ask again for up to three. Its passdb and userdb re-read the file at
        their own moments, so just after a deletion a login may also fail as "user not found from userdb" (the
        connection is dropped): refused too, but not yet the final answer."""
        deadline = time.monotonic() + 3
        while True:
            try:
                self.login(user, password).logout()
            except imaplib.IMAP4.error as error:
                if "AUTHENTICATIONFAILED" in str(error):
                    return True
                assert "Internal login failure" in str(error), error
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def accepts(self, user: str, password: str) -> bool:
        deadline = time.monotonic() + 3
        while True:
            try:
                self.login(user, password).logout()
            except imaplib.IMAP4.error:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
            else:
                return True

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    binary = dovecot_binary()
    # Dovecot's mail processes run as the account's user, who must be able to reach the Maildirs: no 0700 parents.
    root = Path(tempfile.mkdtemp(prefix="hostpanel-dovecot-"))
    root.chmod(0o711)
    server = Dovecot(root=root, mail=root / "mail", port=free_port())
    me = getpass.getuser()
    privileged = os.geteuid() == 0
    config = CONFIG.format(
        root=root,
        mail=server.mail,
        port=server.port,
        login_user="dovenull" if privileged else me,
        internal_user="dovecot" if privileged else me,
    )
    (root / "dovecot.conf").write_text(config)
    if privileged:
        # The deployment the README describes: Dovecot's auth process (user dovecot) reads the passwd-file through
        # the group of a setgid mail folder, whose new files inherit that group.
        server.mail.mkdir()
        os.chown(server.mail, 0, grp.getgrnam("dovecot").gr_gid)
        server.mail.chmod(0o2750)
    process = subprocess.Popen(
        [binary, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", server.port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                log = (root / "dovecot.log").read_text() if (root / "dovecot.log").exists() else ""
                stderr = process.stderr.read().decode() if process.stderr and process.poll() is not None else ""
                pytest.fail(f"dovecot did not start: {stderr} {log[-2000:]}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        process.wait(timeout=20)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def settings(dovecot: Dovecot, database_url: str) -> Settings:
    """The panel's data directory where Dovecot can reach it, writing the files this Dovecot reads."""
    home = Path(tempfile.mkdtemp(prefix="data-", dir=dovecot.root))
    home.chmod(0o711)
    built = Settings(
        home=home,
        database_url=database_url,
        mail_dir=dovecot.mail,
        password_time_cost=1,
        password_memory_kib=8,
        password_parallelism=1,
        last_used_flush_seconds=3600,
    )
    create_key_file(built.key_path)
    return built


@pytest.fixture
def home(container: Container, alice: Account) -> Path:
    """As a root-run panel would have it: the account's files belong to an unprivileged user (Dovecot refuses
    uid 0), and the panel gives what it creates there to that user."""
    path = container.homes.path_for(alice.username)
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        for directory, subdirectories, files in os.walk(path):
            for name in [directory, *(os.path.join(directory, n) for n in subdirectories + files)]:
                os.chown(name, nobody.pw_uid, nobody.pw_gid)
    return path


def email(client: TestClient, secret: str, function: str, **args: str) -> object:
    return uapi(client.post(f"/execute/Email/{function}", data=args, headers=auth("alice", secret)), status=1)["data"]


def test_imap_login_follows_the_panel(
    client: TestClient, container: Container, alice_token: IssuedToken, home: Path, dovecot: Dovecot
) -> None:
    secret = alice_token.secret
    email(client, secret, "add_pop", email="info", password=PASSWORD, quota="100")
    assert dovecot.accepts("info@alice.test", PASSWORD)
    imap = dovecot.login("info@alice.test", PASSWORD)
    try:
        assert imap.getquotaroot("INBOX")[1][1] == [b'"User quota" (STORAGE 0 102400)']
        imap.append("INBOX", None, None, b"Subject: hello\r\n\r\nstored where the panel said\r\n")
    finally:
        imap.logout()
    maildir = home / "mail" / "alice.test" / "info"
    stored = [p for sub in ("new", "cur") for p in (maildir / sub).iterdir()]
    assert len(stored) == 1 and b"stored where the panel said" in stored[0].read_bytes()
    if os.geteuid() == 0:
        assert stored[0].stat().st_uid == pwd.getpwnam("nobody").pw_uid  # Dovecot ran as the account's user

    email(client, secret, "passwd_pop", email="info", password=NEW_PASSWORD)
    assert dovecot.refuses("info@alice.test", PASSWORD)
    assert dovecot.accepts("info@alice.test", NEW_PASSWORD)

    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", True)
        uow.commit()
    assert dovecot.refuses("info@alice.test", NEW_PASSWORD)
    with container.uow() as uow:
        container.accounts(uow).set_suspended("alice", False)
        uow.commit()
    assert dovecot.accepts("info@alice.test", NEW_PASSWORD)

    email(client, secret, "delete_pop", email="info")
    assert dovecot.refuses("info@alice.test", NEW_PASSWORD)
    assert not maildir.exists()
