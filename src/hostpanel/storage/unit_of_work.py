"""One database transaction per use case, with hooks for work outside the database."""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import TracebackType

from sqlalchemy import Engine
from sqlalchemy.engine import Connection, RootTransaction

from hostpanel.domain.ports import (
    AccountRepository,
    AuditRepository,
    BackupJobRepository,
    CertificateRepository,
    MailRepository,
    PackageRepository,
    SessionRepository,
    SiteRepository,
    TokenRepository,
    TwoFactorRepository,
    ZoneRepository,
)
from hostpanel.storage.changes import settle
from hostpanel.storage.engine import WRITE_OPTION
from hostpanel.storage.repositories.accounts import SqlAccountRepository
from hostpanel.storage.repositories.audit import SqlAuditRepository
from hostpanel.storage.repositories.backups import SqlBackupJobRepository
from hostpanel.storage.repositories.certificates import SqlCertificateRepository
from hostpanel.storage.repositories.mail import SqlMailRepository
from hostpanel.storage.repositories.packages import SqlPackageRepository
from hostpanel.storage.repositories.sessions import SqlSessionRepository
from hostpanel.storage.repositories.sites import SqlSiteRepository
from hostpanel.storage.repositories.tokens import SqlTokenRepository
from hostpanel.storage.repositories.twofactor import SqlTwoFactorRepository
from hostpanel.storage.repositories.zones import SqlZoneRepository

log = logging.getLogger(__name__)


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back on exit unless `commit()` was called."""

    accounts: AccountRepository
    tokens: TokenRepository
    audit: AuditRepository
    sessions: SessionRepository
    twofactor: TwoFactorRepository
    mail: MailRepository
    backups: BackupJobRepository
    zones: ZoneRepository
    packages: PackageRepository
    certificates: CertificateRepository
    sites: SiteRepository

    def __init__(self, engine: Engine, write: bool = True) -> None:
        self._engine = engine
        self._write = write
        self._connection: Connection | None = None
        self._transaction: RootTransaction | None = None
        self._committed = False
        self._on_commit: list[Callable[[], None]] = []
        self._on_rollback: list[Callable[[], None]] = []

    def __enter__(self) -> SqlUnitOfWork:
        connection = self._engine.connect()
        if self._write:
            connection.execution_options(**{WRITE_OPTION: True})
        self._connection = connection
        self._transaction = connection.begin()
        self.accounts = SqlAccountRepository(connection)
        self.tokens = SqlTokenRepository(connection)
        self.audit = SqlAuditRepository(connection)
        self.sessions = SqlSessionRepository(connection)
        self.twofactor = SqlTwoFactorRepository(connection)
        self.mail = SqlMailRepository(connection)
        self.backups = SqlBackupJobRepository(connection)
        self.zones = SqlZoneRepository(connection)
        self.packages = SqlPackageRepository(connection)
        self.certificates = SqlCertificateRepository(connection)
        self.sites = SqlSiteRepository(connection)
        return self

    @property
    def connection(self) -> Connection:
        assert self._connection is not None, "unit of work used outside its `with` block"
        return self._connection

    def commit(self) -> None:
        assert self._transaction is not None and self._connection is not None
        self._transaction.commit()
        self._committed = True
        settle(self._connection, committed=True)  # before anything else: a revocation is in force everywhere now
        for action in self._on_commit:
            _run_quietly(action, "after commit")

    def on_commit(self, action: Callable[[], None]) -> None:
        self._on_commit.append(action)

    def on_rollback(self, action: Callable[[], None]) -> None:
        self._on_rollback.append(action)

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if not self._committed:
                if self._transaction is not None and self._transaction.is_active:
                    self._transaction.rollback()
                for action in reversed(self._on_rollback):
                    _run_quietly(action, "after rollback")
        finally:
            if self._connection is not None:
                settle(self._connection, committed=False)  # no-op once settled by commit()
                self._connection.close()


def _run_quietly(action: Callable[[], None], when: str) -> None:
    """Follow-up work must not turn a finished transaction into an error; it is logged instead."""
    try:
        action()
    except Exception:
        log.exception("follow-up action %s failed", when)
