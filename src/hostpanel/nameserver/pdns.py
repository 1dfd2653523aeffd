"""PowerDNS Authoritative, run by `hostpanel serve` on HOSTPANEL_DNS_LISTEN over the panel's own database.

PowerDNS reads its tables in the panel's database (SQLite file or PostgreSQL) with every cache off, so a committed
edit is answered by the very next query, and a new zone at once. Its configuration lives in `<home>/dns/pdns.conf`
(mode 0600: it may hold the database password): written from the settings, checked by `pdns_server --config=check`
before use, and put back as it was if the new one does not start. The process is watched: if it exits it is started
again (with a growing pause), so the panel recovers by itself after a crash of its nameserver.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

from sqlalchemy.engine import make_url

from hostpanel.config import Settings
from hostpanel.nameserver.probe import DnsProbe

log = logging.getLogger(__name__)

BINARY = "pdns_server"
START_WAIT = 15.0  # seconds for a new process to answer
RESTART_PAUSES = (0.5, 1, 2, 5, 10, 30)
LOG_TAIL = 1500
_PR_SET_PDEATHSIG = 1


class NameserverFailed(Exception):
    """PowerDNS could not be configured or started; the message says why (and what it logged)."""


def _quote(value: str) -> str:
    if any(char in value for char in "\n\r\0"):
        raise NameserverFailed("a setting for PowerDNS holds a line break or NUL")
    return value


def backend(database_url: str) -> list[str]:
    """The settings that point PowerDNS at the panel's database (its password, if any, only in the 0600 file)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return ["launch=gsqlite3", f"gsqlite3-database={_quote(str(url.database))}", "gsqlite3-dnssec=no"]
    if url.get_backend_name() != "postgresql":
        raise NameserverFailed(f"PowerDNS cannot read a {url.get_backend_name()} database")
    settings = ["launch=gpgsql", "gpgsql-dnssec=no", f"gpgsql-dbname={_quote(url.database or '')}"]
    query = dict(url.query)
    host = url.host or str(query.pop("host", "") or "")
    for key, value in (("host", host), ("port", url.port), ("user", url.username), ("password", url.password)):
        if value:
            settings.append(f"gpgsql-{key}={_quote(str(value))}")
    extra = " ".join(f"{key}={value}" for key, value in sorted(query.items()) if isinstance(value, str))
    if extra:
        settings.append(f"gpgsql-extra-connection-parameters={_quote(extra)}")
    return settings


def configuration(settings: Settings, directory: Path) -> str:
    """pdns.conf: the database, the address, caches off, a primary for the configured secondaries."""
    host, port = settings.dns_address
    secondaries = settings.dns_secondary_addresses
    notify = ",".join(f"[{h}]:{p}" if ":" in h else f"{h}:{p}" for h, p in secondaries)
    transfer = ",".join(["127.0.0.0/8", "::1", *sorted({h for h, _ in secondaries})])
    lines = [
        *backend(settings.database_url_or_default),
        f"local-address={host}",
        f"local-port={port}",
        f"socket-dir={directory}",
        "daemon=no",
        "guardian=no",
        "write-pid=no",
        "disable-syslog=yes",
        "loglevel=4",
        "security-poll-suffix=",  # no lookup of PowerDNS's security status (and none offline)
        "version-string=anonymous",
        # Caches off: an edit is served by the next query, a new zone at once (the panel's edits wait for it).
        "cache-ttl=0",
        "query-cache-ttl=0",
        "negquery-cache-ttl=0",
        "zone-cache-refresh-interval=0",
        # A primary: the secondaries may transfer, and are notified (only they: not the zones' NS addresses).
        "primary=yes",
        f"allow-axfr-ips={transfer}",
        "only-notify=",
        f"also-notify={notify}",
        f"xfr-cycle-interval={1 if secondaries else 60}",
    ]
    return "\n".join(lines) + "\n"


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """The nameserver ends with the server that started it, even one killed without a chance to stop it."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class PowerDns:
    """One PowerDNS process for this server: configured, started, watched and stopped."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._directory = settings.home_dir / "dns"
        self._probe = DnsProbe(settings.dns_address, timeout=0.3)
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._watcher: threading.Thread | None = None

    @property
    def log_path(self) -> Path:
        return self._directory / "pdns.log"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Configure and start; raises NameserverFailed with the reason (and PowerDNS's last words)."""
        binary = _binary()
        if binary is None:
            raise NameserverFailed(
                "PowerDNS is not installed (pdns_server): apt-get install pdns-server pdns-backend-sqlite3 "
                "pdns-backend-pgsql"
            )
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        previous = self._install(binary, configuration(self._settings, self._directory))
        try:
            self._launch(binary)
        except NameserverFailed:
            if previous is not None:
                (self._directory / "pdns.conf").write_text(previous)
            raise

    def _install(self, binary: str, text: str) -> str | None:
        """Check the new configuration with PowerDNS itself, then put it in place; the old one is returned."""
        trial = self._directory / "check"
        trial.mkdir(mode=0o700, exist_ok=True)
        _write_private(trial / "pdns.conf", text)
        try:
            checked = subprocess.run(  # noqa: S603 - PowerDNS itself, with our own arguments
                [binary, f"--config-dir={trial}", "--config=check"],
                capture_output=True,
                text=True,
                timeout=30,
                check=False,
            )
        finally:
            (trial / "pdns.conf").unlink(missing_ok=True)
        if checked.returncode != 0:
            reason = (checked.stderr or checked.stdout).strip().splitlines()[-1:] or ["no reason given"]
            raise NameserverFailed(f"PowerDNS refused its configuration: {reason[0]}")
        current = self._directory / "pdns.conf"
        previous = current.read_text() if current.exists() else None
        _write_private(current, text)
        return previous

    def _launch(self, binary: str) -> None:
        try:
            with self.log_path.open("ab") as output:
                process = subprocess.Popen(  # noqa: S603 - PowerDNS itself, with our own arguments
                    [binary, f"--config-dir={self._directory}"],
                    stdin=subprocess.DEVNULL,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # the terminal's Ctrl-C is for the server, which stops it in order
                    preexec_fn=_die_with_parent,  # noqa: PLW1509 - only prctl, before exec
                )
        except OSError as error:
            raise NameserverFailed(f"PowerDNS could not be run ({binary}): {error.strerror}") from None
        deadline = time.monotonic() + START_WAIT
        while not self._probe.answers():
            if process.poll() is not None or time.monotonic() > deadline:
                _end(process)
                raise NameserverFailed(f"PowerDNS did not start on {self._probe.address}: {self._tail()}")
            time.sleep(0.05)
        with self._lock:
            self._process = process

    def watch(self) -> None:
        """Start it again whenever it exits, until `stop` (a thread of the server)."""
        self._watcher = threading.Thread(target=self._watch, name="nameserver watch", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            process = self._process
            if process is not None and process.poll() is None:
                failures = 0
                self._stopping.wait(0.2)
                continue
            if process is not None:
                log.warning("the nameserver (PowerDNS) exited with status %s; starting it again", process.returncode)
                self._process = None
            pause = RESTART_PAUSES[min(failures, len(RESTART_PAUSES) - 1)]
            if failures and self._stopping.wait(pause):
                return
            try:
                self._launch(_binary() or BINARY)
            except NameserverFailed as error:
                failures += 1
                log.error("the nameserver could not be started again: %s", error)

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher is not None:
            self._watcher.join(timeout=10)
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            _end(process)

    def _tail(self) -> str:
        try:
            text = self.log_path.read_bytes()[-LOG_TAIL:].decode("utf-8", "replace")
        except OSError:
            return "no log"
        lines = [line for line in text.splitlines() if line.strip()]
        return " | ".join(lines[-4:]) or "no output"


def _binary() -> str | None:
    """pdns_server, where Debian puts it (/usr/sbin is not on every user's PATH)."""
    return shutil.which(BINARY, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _write_private(path: Path, text: str) -> None:
    """Written whole and private (it may hold the database password), replacing any earlier file atomically."""
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    temporary.replace(path)
