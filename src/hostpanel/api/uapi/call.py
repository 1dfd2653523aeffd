"""What a UAPI function receives: who calls, the arguments, the transaction and the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from hostpanel.api.uapi.args import Args
from hostpanel.api.uapi.listing import ListOptions
from hostpanel.container import Container
from hostpanel.domain.audit.service import AuditLog
from hostpanel.domain.backups.service import BackupService
from hostpanel.domain.files.service import FileService, Upload
from hostpanel.domain.mail.service import MailService
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.tokens.service import TokenService


@dataclass
class Call:
    principal: Principal
    args: Args
    list_options: ListOptions
    uow: UnitOfWork
    container: Container
    uploads: list[Upload] = field(default_factory=list)  # file parts of a multipart request, in staging
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def now(self) -> float:
        return self.container.clock.now()

    # One service of each kind per call: a handler may reach for it several times.
    @cached_property
    def tokens(self) -> TokenService:
        return self.container.tokens(self.uow)

    @cached_property
    def audit(self) -> AuditLog:
        return self.container.audit(self.uow)

    @cached_property
    def files(self) -> FileService:
        return self.container.files(self.principal, self.uow)

    @cached_property
    def backups(self) -> BackupService:
        return self.container.backups(self.principal, self.uow)

    @cached_property
    def mail(self) -> MailService:
        return self.container.mail(self.principal, self.uow)


class NoDatabase:
    """The unit of work of a function declared `uses_database=False`: any use is a bug, and says so."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"this UAPI function declared that it uses no database, yet asked for `{name}`")
