"""Fixtures build real objects: a migrated database (SQLite always, PostgreSQL when switched on), real services.

PostgreSQL runs are switched on by HOSTPANEL_TEST_POSTGRES_URL (the CI script sets it); when it is set the server
must be reachable, and the tests fail loudly if it is not. Without it the PostgreSQL variants are skipped.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
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

POSTGRES_ENV = "HOSTPANEL_TEST_POSTGRES_URL"
PASSWORD = "Correct-Horse-Battery-9"
START = 1_800_000_000.0


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


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A migrated database of this test worker's own on the PostgreSQL server named by the environment."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"set {POSTGRES_ENV} to run the PostgreSQL variant")
    url = make_url(normalise_url(base))
    # Per checkout and per test worker, so parallel runs (other checkouts, xdist workers) never share a database.
    checkout = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
    name = f"hostpanel_test_{checkout}_{worker_id}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # switched on but unreachable: fail, do not skip
        pytest.fail(f"{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}")
    own = url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(own)
    upgrade(engine)
    engine.dispose()
    yield own
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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
def settings(tmp_path: Path, database_url: str) -> Settings:
    home = tmp_path / "home"
    home.mkdir()
    built = Settings(
        home=home,
        database_url=database_url,
        password_time_cost=1,
        password_memory_kib=8,
        password_parallelism=1,
        last_used_flush_seconds=3600,  # tests flush by hand
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
) -> IssuedToken:
    with container.uow() as uow:
        issued = container.tokens(uow).create(
            Principal.admin(account), name, expires_at, permissions or Permissions.full(), restrictions
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
