"""The composition root: builds the engine and the services every interface (API, web, CLI) asks for."""

from __future__ import annotations

from functools import cached_property

from sqlalchemy import Engine

from hostpanel.config import Settings
from hostpanel.domain.accounts.passwords import HashingCost, PasswordHasher
from hostpanel.domain.accounts.service import AccountService
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.clock import Clock, SystemClock
from hostpanel.domain.login.service import LoginService
from hostpanel.domain.login.throttle import LoginThrottle
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.sealing import SecretBox
from hostpanel.domain.sessions.model import SessionPolicy
from hostpanel.domain.sessions.service import SessionService
from hostpanel.domain.tokens.authenticate import TokenAuthenticator
from hostpanel.domain.tokens.service import TokenService
from hostpanel.domain.tokens.usage import UsageRecorder
from hostpanel.domain.twofactor.service import TwoFactorService
from hostpanel.keys import ServerKeys, load_key_file
from hostpanel.storage.engine import make_engine
from hostpanel.storage.homes import FilesystemHomes
from hostpanel.storage.migrate import check_schema
from hostpanel.storage.unit_of_work import SqlUnitOfWork


class Container:
    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.homes = FilesystemHomes(settings.homes_dir)
        self.usage = UsageRecorder(self.clock)
        self.login_throttle = LoginThrottle(self.clock, settings.login_failure_delay_seconds)
        self.session_policy = SessionPolicy(
            idle_seconds=settings.session_idle_seconds, lifetime_seconds=settings.session_lifetime_seconds
        )

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url_or_default)

    @cached_property
    def keys(self) -> ServerKeys:
        return load_key_file(self.settings.key_path)

    @cached_property
    def hasher(self) -> PasswordHasher:
        settings = self.settings
        return PasswordHasher(
            HashingCost(settings.password_time_cost, settings.password_memory_kib, settings.password_parallelism)
        )

    @cached_property
    def authenticator(self) -> TokenAuthenticator:
        return TokenAuthenticator(self.keys.keyring, self.clock)

    def check_ready(self) -> None:
        """Fail early, with the fix in the message, when keys or schema are not in place."""
        _ = self.keys
        check_schema(self.engine)

    def uow(self, write: bool = True) -> UnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)

    def audit(self, uow: UnitOfWork) -> AuditLog:
        return AuditLog(uow.audit, self.clock)

    def tokens(self, uow: UnitOfWork) -> TokenService:
        return TokenService(uow, self.keys.keyring, self.clock, self.audit(uow))

    def accounts(self, uow: UnitOfWork) -> AccountService:
        return AccountService(uow, self.hasher, self.clock, self.homes, self.audit(uow))

    @cached_property
    def _totp_box(self) -> SecretBox:
        return SecretBox(self.keys.derive("totp-secret"))

    def twofactor(self, uow: UnitOfWork) -> TwoFactorService:
        return TwoFactorService(
            uow,
            box=self._totp_box,
            recovery_key=self.keys.derive("recovery-code"),
            clock=self.clock,
            audit=self.audit(uow),
            issuer=self.settings.totp_issuer,
        )

    def sessions(self, uow: UnitOfWork) -> SessionService:
        return SessionService(uow, self.keys.derive("session-id"), self.clock, self.session_policy)

    def login(self, uow: UnitOfWork) -> LoginService:
        return LoginService(
            uow,
            hasher=self.hasher,
            audit=self.audit(uow),
            sessions=self.sessions(uow),
            twofactor=self.twofactor(uow),
            tokens=self.tokens(uow),
        )

    def flush_usage(self) -> int:
        return self.usage.flush(self.uow)

    def close(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
