"""Fixtures build real objects: a migrated database (SQLite always, PostgreSQL when switched on), real services.

PostgreSQL runs are switched on by HOSTPANEL_TEST_POSTGRES_URL (the CI script sets it); when it is set the server
must be reachable, and the tests fail loudly if it is not. Without it the PostgreSQL variants are skipped.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import text
from starlette.testclient import TestClient

from hostpanel.app import create_app, create_whm_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.keys import create_key_file
from hostpanel.nameserver.pdns import PowerDns
from hostpanel.storage.engine import make_engine
from hostpanel.storage.migrate import upgrade
from hostpanel.storage.tables import metadata
from hostpanel.webserver.nginx import NginxProcess
from tests.factories import (
    REDIS_ENV,
    FakeClock,
    Inbox,
    backends,
    make_account,
    make_root,
    make_token,
    own_postgres_database,
)
from tests.processes import free_dns_port, free_port


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "hostpanel.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A migrated database of this test worker's own on the PostgreSQL server named by the environment."""
    with own_postgres_database("test", worker_id) as own:
        engine = make_engine(own)
        upgrade(engine)
        engine.dispose()
        yield own


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "hostpanel.db"
        shutil.copyfile(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(table.name for table in metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> Settings:
    """The test's settings: cheap hashing, hand-flushed usage, no sign-in slow-down, and whatever the test's
    `@pytest.mark.settings(name=value, ...)` asks for."""
    home = tmp_path / "home"
    home.mkdir()
    marker = request.node.get_closest_marker("settings")
    built = Settings(
        home=home,
        database_url=database_url,
        password_time_cost=1,
        password_memory_kib=8,
        password_parallelism=1,
        last_used_flush_seconds=3600,  # tests flush by hand
        login_failure_delay_seconds=0,  # tests of the slow-down set their own
        dns_listen=f"127.0.0.1:{free_dns_port()}",  # where the test's `nameserver` answers, if it starts one
        http_listen=f"127.0.0.1:{free_dns_port()}",  # where the test's `webserver` serves the sites, if it starts one
        https_listen=f"127.0.0.1:{free_dns_port()}",
        **(marker.kwargs if marker else {}),
    )
    create_key_file(built.key_path)
    return built


@pytest.fixture
def nameserver(settings: Settings) -> Iterator[PowerDns]:
    """PowerDNS on the test's database and its own port (as `hostpanel serve` runs it), stopped afterwards."""
    server = PowerDns(settings)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webserver(container: Container) -> Iterator[NginxProcess]:
    """nginx on the test's own ports, serving the sites of the test's database (as `hostpanel serve` runs it)."""
    server = NginxProcess(container.nginx_sites)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = Container(settings, clock=clock)
    built.check_ready()
    yield built
    built.close()


@pytest.fixture
def other(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    """A second container on the test's database: another serving process, as far as caches can tell."""
    built = Container(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def whm_client(container: Container, root: Account) -> Iterator[TestClient]:
    """WHM's interface (what port 2087 serves), with root made."""
    with TestClient(create_whm_app(container), base_url="https://testserver") as test_client:
        yield test_client


@pytest.fixture
def root(container: Container) -> Account:
    """The server's administrator, as `hostpanel init` makes it (password: factories.PASSWORD)."""
    return make_root(container)


@pytest.fixture
def alice(container: Container) -> Account:
    return make_account(container, "alice", domains=("alice.test",))


@pytest.fixture
def alice_token(container: Container, alice: Account) -> IssuedToken:
    return make_token(container, alice, "bar")


@pytest.fixture
def redis_settings(settings: Settings) -> Iterator[Settings]:
    """The test's settings with Redis switched on under a key prefix of this test's own; its keys go afterwards.

    Redis is shared with other users: only keys under the test's prefix are touched, never the rest."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"Redis variant off: set {REDIS_ENV}=redis://HOST:PORT/DB to run it")
    prefix = f"hostpanel-test:{uuid.uuid4().hex}:"
    yield settings.model_copy(update={"redis_url": url, "redis_prefix": prefix})
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def smtp_inbox() -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.url = f"smtp://127.0.0.1:{port}"
    yield inbox
    controller.stop()


@pytest.fixture
def mailing(settings: Settings, clock: FakeClock, smtp_inbox: Inbox) -> Iterator[Container]:
    """A container that mails its notices to the test's SMTP server."""
    built = Container(settings.model_copy(update={"smtp_url": smtp_inbox.url, "smtp_from": "panel@host.test"}), clock)
    built.check_ready()
    yield built
    built.close()
