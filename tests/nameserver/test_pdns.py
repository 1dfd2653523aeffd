"""PowerDNS as `hostpanel serve` runs it: its configuration (private, checked, put back when refused), a restart
after a crash, and a secondary that transfers the zones and is notified of every change."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import dns.query
import dns.zone
import pytest

from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.dns.records import Record
from hostpanel.domain.principal import Principal
from hostpanel.nameserver import pdns
from hostpanel.nameserver.pdns import NameserverFailed, PowerDns, backend
from hostpanel.nameserver.probe import DnsProbe
from tests.factories import served, served_serial
from tests.processes import free_dns_port

SQLITE_SCHEMA = Path("/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql")
BINARY = shutil.which("pdns_server", path=os.environ.get("PATH", "") + ":/usr/sbin") or "/usr/sbin/pdns_server"


def test_the_database_settings_come_from_the_panels_url() -> None:
    assert backend("sqlite:////srv/hostpanel/hostpanel.db") == [
        "launch=gsqlite3", "gsqlite3-database=/srv/hostpanel/hostpanel.db", "gsqlite3-dnssec=no"
    ]  # fmt: skip
    assert backend("postgresql+psycopg://panel:s3cret@db.internal:5433/hostpanel?sslmode=require") == [
        "launch=gpgsql", "gpgsql-dnssec=no", "gpgsql-dbname=hostpanel", "gpgsql-host=db.internal",
        "gpgsql-port=5433", "gpgsql-user=panel", "gpgsql-password=s3cret",
        "gpgsql-extra-connection-parameters=sslmode=require",
    ]  # fmt: skip
    assert "gpgsql-host=/run/postgresql" in backend("postgresql://panel@/hostpanel?host=/run/postgresql")
    with pytest.raises(NameserverFailed, match="line break"):
        backend("postgresql://panel:a%0Ab@db/hostpanel")


def test_the_configuration_is_private_and_the_password_is_only_there(settings: Settings, alice: Account) -> None:
    password = "not-on-the-command-line-42"
    url = settings.database_url_or_default
    if url.startswith("postgresql"):
        url = url.replace("postgres@", f"postgres:{password}@", 1)  # the test server trusts local connections
    server = PowerDns(settings.model_copy(update={"database_url": url}))
    server.start()
    try:
        conf = settings.home_dir / "dns" / "pdns.conf"
        assert stat.S_IMODE(conf.stat().st_mode) == 0o600 and stat.S_IMODE(conf.parent.stat().st_mode) == 0o700
        assert f"local-port={settings.dns_address[1]}" in conf.read_text()
        assert server.pid is not None
        assert password.encode() not in Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert served_serial(settings, "alice.test") > 0
    finally:
        server.stop()


def started_once(settings: Settings) -> tuple[Path, str]:
    """The configuration a first start left in place, and its text."""
    server = PowerDns(settings)
    server.start()
    server.stop()
    conf = settings.home_dir / "dns" / "pdns.conf"
    return conf, conf.read_text()


def test_a_configuration_powerdns_refuses_is_never_used(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf, good = started_once(settings)
    monkeypatch.setattr(pdns, "configuration", lambda *_: good + "no-such-setting=1\n")
    with pytest.raises(NameserverFailed, match="PowerDNS refused its configuration: .*no-such-setting"):
        PowerDns(settings).start()
    assert conf.read_text() == good


def test_a_nameserver_that_cannot_start_says_why_and_its_old_configuration_stays(
    settings: Settings, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf, good = started_once(settings)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(settings.dns_address)  # someone else holds the port
        monkeypatch.setattr(pdns, "START_WAIT", 3.0)
        monkeypatch.setattr(pdns, "configuration", lambda *_: good.replace("loglevel=4", "loglevel=5"))
        with pytest.raises(
            NameserverFailed, match="did not start on 127.0.0.1:[0-9]+: .*(bind|Address already in use)"
        ):
            PowerDns(settings).start()
    assert conf.read_text() == good


def test_it_is_started_again_after_a_crash(settings: Settings, alice: Account) -> None:
    server = PowerDns(settings)
    server.start()
    server.watch()
    try:
        crashed = server.pid
        assert crashed is not None
        os.kill(crashed, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while server.pid in (None, crashed) or DnsProbe(settings.dns_address).serial("alice.test") is None:
            assert time.monotonic() < deadline, "the nameserver was not started again"
            time.sleep(0.05)
    finally:
        server.stop()
    assert DnsProbe(settings.dns_address).serial("alice.test") is None  # and stopped for good


@pytest.fixture
def secondary(tmp_path: Path, settings: Settings) -> Iterator[tuple[str, int]]:
    """A second PowerDNS, a secondary for alice.test with the test's nameserver as its primary."""
    home = tmp_path / "secondary"
    home.mkdir()
    database = home / "pdns.sqlite3"
    with sqlite3.connect(database) as connection:
        connection.executescript(SQLITE_SCHEMA.read_text())
        primary = "{}:{}".format(*settings.dns_address)
        connection.execute("INSERT INTO domains (name, type, master) VALUES ('alice.test', 'SLAVE', ?)", (primary,))
    port = free_dns_port()
    (home / "pdns.conf").write_text(
        f"launch=gsqlite3\ngsqlite3-database={database}\nlocal-address=127.0.0.1\nlocal-port={port}\n"
        f"socket-dir={home}\ndaemon=no\nguardian=no\nwrite-pid=no\nsecurity-poll-suffix=\ncache-ttl=0\n"
        "query-cache-ttl=0\nnegquery-cache-ttl=0\nzone-cache-refresh-interval=0\nsecondary=yes\n"
        "allow-notify-from=127.0.0.0/8\nxfr-cycle-interval=1\n"
    )
    with (home / "pdns.log").open("wb") as log:
        process = subprocess.Popen([BINARY, f"--config-dir={home}"], stdout=log, stderr=subprocess.STDOUT)
    try:
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_for(check: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_secondary_transfers_the_zone_and_is_notified_of_each_change(
    settings: Settings, container: Container, alice: Account, secondary: tuple[str, int]
) -> None:
    host, port = secondary
    primary = PowerDns(settings.model_copy(update={"dns_secondaries": f"{host}:{port}"}))
    primary.start()
    try:
        on_secondary = settings.model_copy(update={"dns_listen": f"{host}:{port}"})
        # AXFR from the primary: the whole zone, as a secondary gets it.
        transferred = dns.zone.from_xfr(
            dns.query.xfr(*settings.dns_address[:1], "alice.test", port=settings.dns_address[1])
        )
        assert {name.to_text() for name in transferred.nodes} >= {"@", "www", "mail", "ns1", "ns2"}
        wait_for(
            lambda: DnsProbe((host, port)).serial("alice.test") == served_serial(settings, "alice.test"),
            "no first transfer",
        )
        with container.uow(write=False) as uow:
            dns_service = container.dns(Principal.admin(alice), uow)
            started = time.monotonic()
            new = dns_service.add("alice.test", Record.parse("alice.test", "_acme-challenge", 60, "TXT", ["notified"]))
        wait_for(lambda: DnsProbe((host, port)).serial("alice.test") == new, "the secondary was not notified")
        assert time.monotonic() - started < 10
        assert served(on_secondary, "_acme-challenge.alice.test", "TXT") == ["notified"]
    finally:
        primary.stop()
