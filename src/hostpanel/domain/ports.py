"""The contracts the domain needs from storage and the filesystem; implementations live outside the domain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Protocol

from hostpanel.domain.accounts.model import Account, AccountStatus
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.backups.model import BackupJob, BackupStatus, Progress
from hostpanel.domain.mail.model import Forwarder, Mailbox, PublishedMailbox
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.tokens.model import ApiToken, TokenQuery
from hostpanel.domain.tokens.restrictions import Restrictions


class AccountRepository(Protocol):
    def add(self, username: str, password_hash: str, email: str | None, created_at: int) -> Account:
        """Insert a new account; raises Conflict if the username is taken."""
        ...

    def get(self, account_id: int) -> Account | None: ...

    def get_by_username(self, username: str) -> Account | None: ...

    def all(self) -> list[Account]: ...

    def domains(self, account_id: int) -> list[str]: ...

    def set_password_hash(self, account_id: int, password_hash: str) -> None: ...

    def set_status(self, account_id: int, status: AccountStatus) -> None: ...

    def set_disabled_features(self, account_id: int, features: frozenset[str]) -> None: ...

    def add_domain(self, account_id: int, domain: str, created_at: int) -> None:
        """Attach a domain; raises Conflict if any account already has it."""
        ...

    def delete(self, account_id: int) -> None:
        """Remove the account with its domains and tokens (audit events stay)."""
        ...


class TokenRepository(Protocol):
    def add(
        self,
        *,
        account_id: int,
        name: str,
        key: str,
        digest: bytes,
        pepper_id: int,
        permissions: Permissions,
        created_at: int,
        expires_at: int | None,
        restrictions: Restrictions = ...,
    ) -> ApiToken:
        """Insert a token; raises Conflict if the account already has one with this name."""
        ...

    def get_by_name(self, account_id: int, name: str) -> ApiToken | None: ...

    def find_by_key(self, key: str) -> tuple[ApiToken, Account] | None:
        """The token with this public key and its account, in one indexed lookup."""
        ...

    def rename(self, token_id: int, new_name: str) -> None:
        """Raises Conflict if the account already has a token with `new_name`."""
        ...

    def delete(self, token_id: int) -> bool: ...

    def page(self, account_id: int, query: TokenQuery) -> tuple[list[ApiToken], int]:
        """One page of the account's tokens in the query's order, and the total count."""
        ...

    def record_use(self, token_id: int, at: int, ip: str | None) -> bool:
        """Move "last used" forward (never back); False if the token no longer exists."""
        ...

    def remember_ip(self, token_id: int, ip: str, at: int) -> bool:
        """Note that the token was used from `ip`; True if it had never been used from there before."""
        ...


class MailRepository(Protocol):
    def add_mailbox(
        self, *, account_id: int, domain: str, local_part: str, password_hash: str, quota_mb: int, created_at: int
    ) -> Mailbox:
        """Insert a mailbox; raises Conflict if the address exists (on any account)."""
        ...

    def get_mailbox(self, account_id: int, domain: str, local_part: str) -> Mailbox | None: ...

    def mailboxes(self, account_id: int) -> list[Mailbox]: ...

    def set_mailbox_password(self, mailbox_id: int, password_hash: str) -> None: ...

    def set_mailbox_quota(self, mailbox_id: int, quota_mb: int) -> None: ...

    def delete_mailbox(self, mailbox_id: int) -> bool: ...

    def add_forwarder(self, account_id: int, domain: str, address: str, destination: str, created_at: int) -> Forwarder:
        """Insert a forwarder; raises Conflict if the same address already forwards to the same destination."""
        ...

    def forwarders(self, account_id: int) -> list[Forwarder]: ...

    def delete_forwarder(self, account_id: int, address: str, destination: str) -> bool: ...

    def published(self) -> tuple[list[PublishedMailbox], list[Forwarder]]:
        """Every mailbox and forwarder of every active account: what the mail server should serve."""
        ...


class BackupJobRepository(Protocol):
    def add(self, account_id: int, file: str, actor: str, started_at: int) -> BackupJob:
        """Insert a running job; raises Conflict if the account already has one running."""
        ...

    def get(self, account_id: int, job_id: int) -> BackupJob | None: ...

    def all(self, account_id: int) -> list[BackupJob]:
        """Newest first."""
        ...

    def progress(self, job_id: int, progress: Progress) -> None: ...

    def finish(self, job_id: int, status: BackupStatus, finished_at: int, size: int | None, error: str | None) -> None:
        """End a running job (a job already ended is left as it is)."""
        ...

    def running(self) -> list[tuple[BackupJob, str]]:
        """Every running job of every account, with the account's username."""
        ...


class AuditRepository(Protocol):
    def add(self, event: AuditEvent) -> None: ...

    def query(self, query: AuditQuery) -> list[AuditEvent]: ...


class UnitOfWork(Protocol):
    """One transaction per use case: repositories share it, and the caller commits once at the end."""

    accounts: AccountRepository
    tokens: TokenRepository
    audit: AuditRepository
    mail: MailRepository
    backups: BackupJobRepository

    def commit(self) -> None: ...

    def on_commit(self, action: Callable[[], None]) -> None:
        """Run `action` after a successful commit (e.g. remove files of a deleted account)."""
        ...

    def on_rollback(self, action: Callable[[], None]) -> None:
        """Run `action` if the transaction does not commit (e.g. undo a directory made inside it)."""
        ...

    def __enter__(self) -> UnitOfWork: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class HomeDirectories(Protocol):
    """Where accounts' files live."""

    def path_for(self, username: str) -> Path: ...

    def create(self, username: str) -> Path:
        """Make the account's home (and its skeleton); refuses to reuse an existing directory."""
        ...

    def remove(self, username: str) -> None: ...
