"""The nginx of one data directory: its configuration published from the database, and its process for `serve`.

Publishing (`NginxSites`) is one critical section across every process of the installation (a `flock` on
`<home>/nginx/publish.lock`): render the whole configuration, check it with `nginx -t` as a candidate in a staging
directory, put it in place (keeping the previous one), signal the running master (SIGHUP: a graceful reload, open
connections are finished by the old workers), and wait until it is served: the default server answers the new
generation number, and no worker of the old generation still listens. A refused candidate changes nothing; a reload
that does not take (the master keeps its old workers) puts the previous file back and signals again. Either way the
caller gets `SitesUnavailable` with nginx's reason.

Who publishes: a site change (inside its transaction, holding the lock until it commits, so the configuration is
served before the call returns), the certificate side after a change of files, and `serve`'s refresh (every
second), which serves whatever other processes (the CLI, another node on the same database) committed.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import http.client
import logging
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy.exc import OperationalError

from hostpanel.config import Settings, host_port
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.sites.certificates import CertificateFiles, CertificateSource, SitesLayout, SitesUnavailable
from hostpanel.domain.sites.model import ServedSite
from hostpanel.webserver.config import GENERATION_PATH, Listen, ServerSetup, UnsafePath, render

log = logging.getLogger(__name__)

BINARY = "nginx"
LIVE_WAIT = 10.0  # seconds a reload may take to be served
START_WAIT = 15.0
RESTART_PAUSES = (0.5, 1, 2, 5, 10, 30)
_PR_SET_PDEATHSIG = 1
_GENERATION_LINE = re.compile(r'return 200 "\d+";')


def binary() -> str | None:
    """nginx, where Debian puts it (/usr/sbin is not on every user's PATH)."""
    return shutil.which(BINARY, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def setup_from(settings: Settings) -> ServerSetup:
    http_host, http_port = host_port(settings.http_listen, "HOSTPANEL_HTTP_LISTEN")
    https_host, https_port = host_port(settings.https_listen, "HOSTPANEL_HTTPS_LISTEN")
    # Started as root, nginx would run its workers as `nobody`, who cannot read the homes (0700, the panel's):
    # they run as the panel's own user, as nginx does when it is started unprivileged.
    user = "root" if os.geteuid() == 0 else None
    return ServerSetup(
        Listen(http_host, http_port),
        Listen(https_host, https_port),
        SitesLayout(settings.home_dir),
        settings.homes_dir,
        user,
    )


class NginxSites:
    """Publishes the sites to this installation's nginx (`SitePublisher`, and the service's `SiteServer`)."""

    def __init__(
        self, setup: ServerSetup, read: Callable[[], UnitOfWork], certificates: CertificateSource | None = None
    ) -> None:
        self.setup = setup
        self._read = read
        self._certificates = certificates or CertificateFiles(setup.layout)
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._lock_fd: int | None = None

    @property
    def root(self) -> Path:
        return self.setup.layout.root

    @property
    def config_path(self) -> Path:
        return self.root / "nginx.conf"

    @property
    def log_path(self) -> Path:
        return self.root / "error.log"

    # The critical section

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """Held while a configuration is made and served (and, for a site change, until its commit)."""
        with self._thread_lock:
            if self._depth == 0:
                self._prepare()
                fd = os.open(self.root / "publish.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX)
                self._lock_fd = fd
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0 and self._lock_fd is not None:
                    os.close(self._lock_fd)  # closing releases the flock
                    self._lock_fd = None

    def _prepare(self) -> None:
        for directory in (self.root, self.root / "tmp", self.root / "staging", self.setup.layout.certificates):
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # nginx's workers read the HTTP-01 answers; nothing there is secret once served.
        self.setup.layout.challenges.mkdir(mode=0o755, parents=True, exist_ok=True)

    # Publishing

    def publish(self) -> None:
        """Serve what the database holds now (and certificate files as they are now): always reloads."""
        with self.exclusive():
            self.serve(self._committed())

    def refresh(self) -> bool:
        """Serve what the database holds if it differs from what is served; True if it did."""
        with self.exclusive():
            sites = self._committed()
            if self._unchanged(sites) and self.running() is not None:
                return False
            self.serve(sites)
            return True

    def _committed(self) -> list[ServedSite]:
        with self._read() as uow:
            return uow.sites.served()

    def _unchanged(self, sites: Sequence[ServedSite]) -> bool:
        try:
            live = self.config_path.read_text()
        except OSError:
            return False
        candidate = self._render(sites, self._generation())
        return _GENERATION_LINE.sub("", live) == _GENERATION_LINE.sub("", candidate)

    def serve(self, sites: Sequence[ServedSite]) -> None:
        """Check, install and (if nginx runs) serve the configuration of `sites`; raises SitesUnavailable and
        keeps the previous configuration if nginx refuses it."""
        with self.exclusive():
            nginx = _require_binary()
            generation = self._generation() + 1
            text = self._render(sites, generation)
            self._check(nginx, text)
            previous = self.config_path.read_text() if self.config_path.exists() else None
            _write(self.config_path, text)
            (self.root / "generation").write_text(str(generation))
            master = self.running()
            if master is None:
                return
            try:
                self._reload(master, generation)
            except SitesUnavailable:
                if previous is not None:
                    _write(self.config_path, previous)
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(master, signal.SIGHUP)
                raise

    def _render(self, sites: Sequence[ServedSite], generation: int) -> str:
        try:
            return render(self.setup, sites, self._certificates, generation)
        except UnsafePath as error:
            raise SitesUnavailable(str(error)) from None

    def _generation(self) -> int:
        try:
            return int((self.root / "generation").read_text().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _check(self, nginx: str, text: str) -> None:
        candidate = self.root / "staging" / "nginx.conf"
        _write(candidate, text)
        checked = subprocess.run(  # noqa: S603 - nginx itself, with our own arguments
            [
                nginx,
                "-t",
                "-q",
                "-p",
                f"{self.root}/",
                "-c",
                str(candidate),
                "-e",
                str(self.root / "staging" / "check.log"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if checked.returncode != 0:
            raise SitesUnavailable(
                f"nginx refused the new configuration, which was not used: {_reason(checked.stderr)}"
            )

    def _reload(self, master: int, generation: int) -> None:
        old = _workers(master)
        os.kill(master, signal.SIGHUP)
        deadline = time.monotonic() + LIVE_WAIT
        delay = 0.002
        while not (self.generation_served() == generation and _stopped_listening(old)):
            if time.monotonic() > deadline:
                raise SitesUnavailable(
                    f"nginx did not take the new configuration (its log: {_tail(self.log_path)}); the previous one "
                    "is served"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.005)

    def generation_served(self) -> int | None:
        """The generation the default HTTP server answers with now (a new connection each time)."""
        host, port = self.setup.http.host, self.setup.http.port
        if host in ("0.0.0.0", ""):  # noqa: S104 - a wildcard is asked on the loopback
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        connection = http.client.HTTPConnection(host, port, timeout=1)
        try:
            connection.request("GET", GENERATION_PATH, headers={"Host": "hostpanel-generation.invalid"})
            answer = connection.getresponse()
            body = answer.read()
        except OSError:
            return None
        finally:
            connection.close()
        return int(body) if answer.status == 200 and body.isdigit() else None

    def running(self) -> int | None:
        """The pid of this installation's nginx master, if it runs."""
        try:
            pid = int((self.root / "nginx.pid").read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        return pid if b"nginx" in cmdline and str(self.config_path).encode() in cmdline else None


class NginxProcess:
    """The nginx `hostpanel serve` runs: started on the published configuration, restarted if it exits, stopped
    (gracefully) with the server."""

    def __init__(self, sites: NginxSites) -> None:
        self._sites = sites
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        nginx = _require_binary()
        if self._sites.running() is not None:
            raise SitesUnavailable(f"an nginx already runs on {self._sites.config_path} (another server?)")
        self._sites.publish()
        with self._sites.log_path.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - nginx itself, with our own arguments
                [
                    nginx,
                    "-p",
                    f"{self._sites.root}/",
                    "-c",
                    str(self._sites.config_path),
                    "-e",
                    str(self._sites.log_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
            )
        deadline = time.monotonic() + START_WAIT
        while self._sites.generation_served() != self._sites._generation():
            if process.poll() is not None or time.monotonic() > deadline:
                _end(process)
                raise SitesUnavailable(
                    f"nginx did not start on {self._sites.setup.http}: {_tail(self._sites.log_path)}"
                )
            time.sleep(0.02)
        self._process = process

    def watch(self, refresh_seconds: float = 1.0) -> None:
        """Threads: start nginx again when it exits; serve what other processes committed."""
        for target, name in ((self._watch, "nginx watch"), (lambda: self._refresh(refresh_seconds), "sites refresh")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.wait(0.2 if not failures else RESTART_PAUSES[min(failures, 5)]):
            process = self._process
            if process is not None and process.poll() is None:
                failures = 0
                continue
            if process is not None:
                log.warning("nginx exited with status %s; starting it again", process.returncode)
                self._process = None
            try:
                self.start()
                failures = 0
            except SitesUnavailable as error:
                failures += 1
                log.error("nginx could not be started again: %s", error.message)

    def _refresh(self, every: float) -> None:
        while not self._stopping.wait(every):
            if self._process is None:
                continue
            try:
                self._sites.refresh()
            except SitesUnavailable as error:
                log.error("the sites could not be served: %s", error.message)
            except OperationalError:
                # Expected while the database restarts: one line, and the next refresh tries again.
                log.warning("the sites could not be read: the database is unreachable; retrying every %s s", every)
            except Exception:
                log.exception("the sites could not be read")

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=10)
        process, self._process = self._process, None
        if process is not None:
            _end(process)


def _require_binary() -> str:
    nginx = binary()
    if nginx is None:
        raise SitesUnavailable("nginx is not installed: apt-get install nginx")
    return nginx


def _reason(text: str) -> str:
    lines = [line.removeprefix("nginx: ") for line in text.strip().splitlines() if "test failed" not in line]
    return (lines[-1] if lines else "no reason given")[:300]


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines()[-3:] if line.strip()]
    except OSError:
        return "no log"
    return " | ".join(lines) or "empty"


def _workers(master: int) -> list[int]:
    """The master's worker processes now."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == master:
                found.append(int(entry.name))
    return found


def _listening_inodes() -> set[str]:
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    return inodes


def _stopped_listening(workers: Sequence[int]) -> bool:
    """Whether each old worker has exited or closed its listening sockets (as it does at once when told to quit),
    so no new connection can reach the old configuration."""
    listening = _listening_inodes()
    for pid in workers:
        try:
            links = [str(fd.readlink()) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:
            continue  # gone
        if any(link.startswith("socket:[") and link[8:-1] in listening for link in links):
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _end(process: subprocess.Popen[bytes]) -> None:
    """A graceful stop (SIGQUIT: requests in flight are finished), then a firm one."""
    if process.poll() is None:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temporary.replace(path)
