"""Fixtures build real objects: a migrated database (SQLite always, PostgreSQL when switched on), real services.

PostgreSQL runs are switched on by HOSTPANEL_TEST_POSTGRES_URL (the CI script sets it); when it is set the server
must be reachable, and the tests fail loudly if it is not. Without it the PostgreSQL variants are skipped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import redis
from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from hostpanel.app import create_app
from hostpanel.config import Settings
from hostpanel.container import Container
from hostpanel.domain.accounts.model import Account
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.model import IssuedToken
from hostpanel.domain.tokens.restrictions import NO_RESTRICTIONS, Restrictions
from hostpanel.keys import create_key_file
from hostpanel.storage.engine import make_engine, normalise_url
from hostpanel.storage.migrate import upgrade
from hostpanel.storage.tables import metadata
from tests.processes import free_port

POSTGRES_ENV = "HOSTPANEL_TEST_POSTGRES_URL"
REDIS_ENV = "HOSTPANEL_TEST_REDIS_URL"
PASSWORD = "Correct-Horse-Battery-9"
START = 1_800_000_000.0
# The documented fields of a token record (Tokens::list, token list --json): a contract with scripts.
TOKEN_RECORD_FIELDS = {
    "name",
    "create_time",
    "expires_at",
    "expired",
    "has_full_access",
    "features",
    "scopes",
    "whitelist_ips",
    "fileman_paths",
    "email_domains",
    "read_only",
    "last_used",
    "last_used_ip",
    "rate_limit",
    "flags",
}


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = START) -> None:
        self.value = now

    def now(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def _backends() -> list[object]:
    reason = f"PostgreSQL variant off: set {POSTGRES_ENV}=postgresql://USER@HOST/DB to run it"
    postgres = pytest.param(
        "postgresql",
        marks=[pytest.mark.postgres] + ([] if os.environ.get(POSTGRES_ENV) else [pytest.mark.skip(reason=reason)]),
    )
    return ["sqlite", postgres]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database made once; each test gets a copy."""
    path = tmp_path_factory.mktemp("template") / "hostpanel.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@contextmanager
def own_postgres_database(purpose: str, worker_id: str) -> Iterator[str]:
    """An empty database of this checkout's and this test worker's own on the PostgreSQL server named by the
    environment, dropped afterwards; skips when the environment does not name one."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL variant")
    url = make_url(normalise_url(base))
    # Per checkout and per test worker, so parallel runs (other checkouts, xdist workers) never share a database.
    checkout = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
    name = f"hostpanel_{purpose}_{checkout}_{worker_id}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # switched on but unreachable: fail, do not skip
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}")
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A migrated database of this test worker's own on the PostgreSQL server named by the environment."""
    with own_postgres_database("test", worker_id) as own:
        engine = make_engine(own)
        upgrade(engine)
        engine.dispose()
        yield own


@pytest.fixture(params=_backends())
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
        **(marker.kwargs if marker else {}),
    )
    create_key_file(built.key_path)
    return built


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
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), base_url="https://testserver") as test_client:
        yield test_client


def make_account(container: Container, username: str = "alice", **kwargs: object) -> Account:
    with container.uow() as uow:
        account = container.accounts(uow).create(username, PASSWORD, **kwargs)  # type: ignore[arg-type]
        uow.commit()
    return account


def make_token(
    container: Container,
    account: Account,
    name: str = "script",
    permissions: Permissions | None = None,
    expires_at: int | None = None,
    restrictions: Restrictions = NO_RESTRICTIONS,
    rate_limit: int | None = None,
) -> IssuedToken:
    with container.uow() as uow:
        issued = container.tokens(uow).create(
            Principal.admin(account),
            name,
            expires_at,
            permissions or Permissions.full(),
            restrictions,
            rate_limit=rate_limit,
        )
        uow.commit()
    return issued


def auth(username: str, token: str) -> dict[str, str]:
    return {"Authorization": f"cpanel {username}:{token}"}


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


class Inbox:
    """Messages received by a real SMTP server (aiosmtpd) listening on a free local port."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.url = ""

    async def handle_DATA(self, _server: object, _session: object, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, _class=EmailMessage, policy=default_policy))
        return "250 OK"

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return list(self.messages)


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
