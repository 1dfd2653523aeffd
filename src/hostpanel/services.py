"""The services of one request: what an API function or a page may use, and nothing more.

The composition root (`container.py`) knows how every service is built; a handler or a page sees only `Services`,
made for one unit of work and one principal, each service built once, on first use. Adding a service for a new
module means a method on `ServiceFactory` (built by the container) and a property here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

from hostpanel.domain.accounts.service import AccountService
from hostpanel.domain.audit.search import Activity
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.backups.service import BackupService
from hostpanel.domain.certificates.service import CertificateService
from hostpanel.domain.clock import Clock
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.files.service import FileService
from hostpanel.domain.login.service import LoginService
from hostpanel.domain.mail.service import MailService
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.sessions.service import SessionService
from hostpanel.domain.sessions.tickets import SingleSignOn
from hostpanel.domain.sites.certificates import SitePublisher
from hostpanel.domain.sites.service import SiteService
from hostpanel.domain.tokens.review import ReviewPolicy
from hostpanel.domain.tokens.service import TokenService
from hostpanel.domain.twofactor.service import TwoFactorService
from hostpanel.domain.whm.oversight import TokenOversight
from hostpanel.domain.whm.provisioning import Provisioning
from hostpanel.domain.whm.resellers import Resellers
from hostpanel.domain.whm.server import ServerInfo
from hostpanel.domain.whm.store import PackageStore


@dataclass(frozen=True)
class Limits:
    """The server's size limits that functions and pages report or enforce themselves."""

    max_request_bytes: int
    max_upload_bytes: int
    max_file_content_bytes: int


class ServiceFactory(Protocol):
    """Builds each service for a unit of work (and a principal, where the service acts for one)."""

    @property
    def clock(self) -> Clock: ...

    @property
    def limits(self) -> Limits: ...

    @property
    def review_policy(self) -> ReviewPolicy: ...

    def read(self) -> UnitOfWork: ...

    def audit(self, uow: UnitOfWork) -> AuditLog: ...

    def tokens(self, uow: UnitOfWork) -> TokenService: ...

    def files(self, principal: Principal, uow: UnitOfWork) -> FileService: ...

    def mail(self, principal: Principal, uow: UnitOfWork) -> MailService: ...

    def backups(self, principal: Principal, uow: UnitOfWork) -> BackupService: ...

    def dns(self, principal: Principal, uow: UnitOfWork) -> DnsService: ...

    def certificates(self, principal: Principal, uow: UnitOfWork) -> CertificateService: ...

    def sites(self, principal: Principal, uow: UnitOfWork) -> SiteService: ...

    @property
    def site_publisher(self) -> SitePublisher: ...

    def twofactor(self, uow: UnitOfWork) -> TwoFactorService: ...

    def sessions(self, uow: UnitOfWork) -> SessionService: ...

    def login(self, uow: UnitOfWork) -> LoginService: ...

    # WHM: the server's administration, for root and resellers.

    @property
    def server(self) -> ServerInfo: ...

    def accounts(self, uow: UnitOfWork) -> AccountService: ...

    def packages(self, uow: UnitOfWork) -> PackageStore: ...

    def provisioning(self, principal: Principal, uow: UnitOfWork) -> Provisioning: ...

    def resellers(self, principal: Principal, uow: UnitOfWork) -> Resellers: ...

    def oversight(self, principal: Principal, uow: UnitOfWork) -> TokenOversight: ...

    def single_sign_on(self, uow: UnitOfWork) -> SingleSignOn: ...


class Services:
    """The services of one request, for one unit of work; those acting for someone act for `principal()`, asked
    when the service is first used (a page knows its signed-in account only after reading the session)."""

    def __init__(self, factory: ServiceFactory, uow: UnitOfWork, principal: Callable[[], Principal]) -> None:
        self._factory = factory
        self._uow = uow
        self._principal = principal

    @property
    def clock(self) -> Clock:
        return self._factory.clock

    @property
    def limits(self) -> Limits:
        return self._factory.limits

    @property
    def review_policy(self) -> ReviewPolicy:
        return self._factory.review_policy

    @cached_property
    def audit(self) -> AuditLog:
        return self._factory.audit(self._uow)

    @cached_property
    def activity(self) -> Activity:
        return Activity(self._uow, self._factory.read)

    @cached_property
    def tokens(self) -> TokenService:
        return self._factory.tokens(self._uow)

    @cached_property
    def files(self) -> FileService:
        return self._factory.files(self._principal(), self._uow)

    @cached_property
    def mail(self) -> MailService:
        return self._factory.mail(self._principal(), self._uow)

    @cached_property
    def backups(self) -> BackupService:
        return self._factory.backups(self._principal(), self._uow)

    @cached_property
    def dns(self) -> DnsService:
        return self._factory.dns(self._principal(), self._uow)

    @cached_property
    def certificates(self) -> CertificateService:
        return self._factory.certificates(self._principal(), self._uow)

    @cached_property
    def sites(self) -> SiteService:
        return self._factory.sites(self._principal(), self._uow)

    @property
    def site_publisher(self) -> SitePublisher:
        """Serves the sites as committed (after a certificate's files changed)."""
        return self._factory.site_publisher

    @cached_property
    def twofactor(self) -> TwoFactorService:
        return self._factory.twofactor(self._uow)

    @cached_property
    def sessions(self) -> SessionService:
        return self._factory.sessions(self._uow)

    @cached_property
    def login(self) -> LoginService:
        return self._factory.login(self._uow)

    # WHM

    @property
    def server(self) -> ServerInfo:
        return self._factory.server

    @cached_property
    def accounts(self) -> AccountService:
        return self._factory.accounts(self._uow)

    @cached_property
    def packages(self) -> PackageStore:
        return self._factory.packages(self._uow)

    @cached_property
    def provisioning(self) -> Provisioning:
        return self._factory.provisioning(self._principal(), self._uow)

    @cached_property
    def resellers(self) -> Resellers:
        return self._factory.resellers(self._principal(), self._uow)

    @cached_property
    def oversight(self) -> TokenOversight:
        return self._factory.oversight(self._principal(), self._uow)

    @cached_property
    def single_sign_on(self) -> SingleSignOn:
        return self._factory.single_sign_on(self._uow)
