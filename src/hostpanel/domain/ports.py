"""The contracts the domain needs from storage and the filesystem; implementations live outside the domain."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Protocol

from hostpanel.domain.accounts.model import Account, AccountKind, AccountStatus, Service
from hostpanel.domain.audit.chain import StoredEvent
from hostpanel.domain.audit.model import AuditEvent, AuditQuery
from hostpanel.domain.backups.model import BackupJob, BackupStatus, Progress
from hostpanel.domain.certificates.model import AutoSslStatus, Certificate, NewCertificate
from hostpanel.domain.dns.records import Record
from hostpanel.domain.dns.zone import Change, Zone
from hostpanel.domain.mail.model import Forwarder, Mailbox, PublishedMailbox
from hostpanel.domain.permissions import Permissions
from hostpanel.domain.sessions.model import LoginTicket, SessionStage, WebSession
from hostpanel.domain.sites.model import ServedSite, Site
from hostpanel.domain.tokens.model import ApiToken, PreviousSecret, TokenQuery
from hostpanel.domain.tokens.restrictions import Restrictions
from hostpanel.domain.twofactor.model import TwoFactorRecord
from hostpanel.domain.whm.packages import Package


class AccountRepository(Protocol):
    """Stored accounts and their domains."""

    def add(
        self,
        username: str,
        password_hash: str,
        email: str | None,
        created_at: int,
        *,
        kind: AccountKind = ...,
        owner: str = ...,
        acls: frozenset[str] | None = None,
    ) -> Account:
        """Insert a new account; raises Conflict if the username is taken."""
        ...

    def get(self, account_id: int) -> Account | None: ...

    def get_by_username(self, username: str) -> Account | None:
        """Any account by name, root included."""
        ...

    def all(self) -> list[Account]:
        """Every hosting account (never root), by name."""
        ...

    def owned_by(self, owner: str) -> list[Account]: ...

    def resellers(self) -> list[Account]: ...

    def by_domain(self, domain: str) -> Account | None: ...

    def main_domains(self) -> dict[int, str]:
        """Each account's first domain, by account id."""
        ...

    def set_plan(self, account_id: int, plan: str | None, limits: dict[str, str]) -> None: ...

    def set_acls(self, account_id: int, acls: frozenset[str] | None) -> None: ...

    def set_owner(self, account_id: int, owner: str) -> None: ...

    def set_email(self, account_id: int, email: str | None) -> None: ...

    def reseller_limits(self, account_id: int) -> dict[str, str]: ...

    def set_reseller_limits(self, account_id: int, limits: dict[str, str]) -> None: ...

    def domains(self, account_id: int) -> list[str]: ...

    def set_password_hash(self, account_id: int, password_hash: str) -> None: ...

    def set_status(
        self,
        account_id: int,
        status: AccountStatus,
        reason: str | None = None,
        at: int | None = None,
        locked: bool = False,
    ) -> None: ...

    def set_disabled_features(self, account_id: int, features: frozenset[str]) -> None: ...

    def set_notify_new_ip(self, account_id: int, on: bool) -> None: ...

    def add_domain(self, account_id: int, domain: str, created_at: int) -> None:
        """Attach a domain; raises Conflict if any account already has it."""
        ...

    def remove_domain(self, account_id: int, domain: str) -> bool:
        """Detach one of the account's domains (not its zone); False if it has no such domain."""
        ...

    def nested_domains(self, domain: str) -> list[tuple[str, int]]:
        """Domains of any account that contain `domain` or lie inside it, with their accounts' ids."""
        ...

    def delete(self, account_id: int) -> None:
        """Remove the account with its domains and tokens (audit events stay)."""
        ...


class TokenRepository(Protocol):
    """Stored API tokens: lookup by public key, pages for review, use records and revocation."""

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
        rate_limit: int | None = None,
        restrictions: Restrictions = ...,
        service: Service = ...,
        acls: frozenset[str] | None = None,
        max_uses: int | None = None,
        imported: bool = False,
    ) -> ApiToken:
        """Insert a token; raises Conflict if the account already has one of this service with this name."""
        ...

    def rotate(self, token_id: int, *, digest: bytes, pepper_id: int, previous: PreviousSecret | None, at: int) -> None:
        """Give the token a new secret; `previous` is the old one's grace (None: refused at once)."""
        ...

    def end_grace(self, token_id: int) -> bool:
        """Refuse the token's previous secret from now on; False when it had none."""
        ...

    def consume_use(self, token_id: int) -> int | None:
        """Count one use of a use-limited token atomically: the uses now, or None when none was left."""
        ...

    def get_by_name(self, account_id: int, name: str, service: Service = ...) -> ApiToken | None: ...

    def update(
        self, token_id: int, *, expires_at: int | None, restrictions: Restrictions, acls: frozenset[str] | None
    ) -> None: ...

    def find_by_key(self, key: str) -> tuple[ApiToken, Account] | None:
        """The token with this public key and its account, in one indexed lookup."""
        ...

    def all_keys(self) -> Iterator[str]:
        """Every stored token's lookup key (what a process loads to know which keys exist)."""
        ...

    def rename(self, token_id: int, new_name: str) -> None:
        """Raises Conflict if the account already has a token with `new_name`."""
        ...

    def delete(self, token_id: int) -> bool: ...

    def page(self, account_id: int, query: TokenQuery) -> tuple[list[ApiToken], int]:
        """One page of the account's tokens in the query's order, and the total count."""
        ...

    def page_after(self, account_id: int, after: str | None, limit: int, service: Service = ...) -> list[ApiToken]:
        """Up to `limit` of the account's tokens whose names sort after `after` (all when None), in name order: one
        range scan of the (account, name) index, as fast for the last page as for the first."""
        ...

    def record_use(self, token_id: int, at: int, ip: str | None) -> bool:
        """Move "last used" forward (never back); False if the token no longer exists."""
        ...

    def remember_ip(self, token_id: int, ip: str, at: int) -> bool:
        """Note that the token was used from `ip`; True if it had never been used from there before."""
        ...

    def record_old_secret_use(self, token_id: int, at: int) -> None:
        """Move the rotated-out secret's "last used" forward."""
        ...

    def add_calls(self, token_id: int, calls: dict[tuple[int, str], int]) -> None:
        """Add calls per (day, module) to the token's history."""
        ...

    def address_seen(self, token_id: int, seen: dict[str, int]) -> None:
        """Move each address's "last seen" forward (addresses already remembered)."""
        ...

    def trim_calls(self, before_day: int) -> int:
        """Forget the history of days before `before_day`; returns the rows removed."""
        ...

    def calls(self, token_ids: list[int], since_day: int) -> dict[int, list[tuple[int, str, int]]]:
        """Per token, (day, module, calls) since `since_day`, in day order."""
        ...

    def recent_addresses(self, token_ids: list[int], limit: int) -> dict[int, list[tuple[str, int, int]]]:
        """Per token, its `limit` most recent addresses: (address, first seen, last seen), newest first."""
        ...

    def delete_all(self, account_id: int, service: Service | None = ...) -> list[str]:
        """Delete every token of the account (of one service, or of both); returns their names."""
        ...

    def delete_expired(self, account_id: int, now: int, service: Service = ...) -> list[str]:
        """Delete the account's tokens that expired at or before `now`; returns their names."""
        ...

    def all_with_accounts(self, account_id: int | None = None) -> list[tuple[ApiToken, Account]]:
        """Every token (of one account, or of all) with its account, by account then name."""
        ...

    def expiring_unnoticed(self, before: int, now: int) -> list[tuple[ApiToken, Account]]:
        """Live tokens expiring before `before` whose owner has not been told yet."""
        ...

    def mark_expiry_noticed(self, token_id: int, at: int) -> None: ...


class MailRepository(Protocol):
    """Stored mailboxes and forwarders, and what the mail server is to serve of them."""

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

    def count_forwarders(self, account_id: int, address: str) -> tuple[int, int]:
        """How many destinations the address forwards to, and how many forwarders the account has."""
        ...

    def delete_forwarder(self, account_id: int, address: str, destination: str) -> bool: ...

    def published(self) -> tuple[list[PublishedMailbox], list[Forwarder]]:
        """Every mailbox and forwarder of every active account: what the mail server should serve."""
        ...


class BackupJobRepository(Protocol):
    """Stored backup jobs: at most one running per account, with its progress."""

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
    """The stored audit trail: hash-chained appends, queries, chain walks and export."""

    def add(self, event: AuditEvent) -> None:
        """Append to the account's hash chain (taking the chain's head lock until the transaction ends)."""
        ...

    def query(self, query: AuditQuery) -> list[AuditEvent]: ...

    def chains(self) -> dict[int, str | None]:
        """Every chain's recorded head hash (None if it has no head row), by chain (account id; 0: no account)."""
        ...

    def chain_events(self, chain: int) -> Iterator[StoredEvent]:
        """One chain's events as stored, oldest first."""
        ...

    def export(self, account_id: int | None = None, after_id: int = 0) -> Iterator[StoredEvent]:
        """Events (of one account, or all) oldest first, with their hashes."""
        ...


class SessionRepository(Protocol):
    """Stored web sessions, found by the keyed digest of their secret."""

    def add(
        self,
        *,
        account_id: int,
        digest: bytes,
        stage: SessionStage,
        created_at: int,
        elevated_at: int | None,
        ip: str | None,
        user_agent: str | None,
        service: Service = ...,
    ) -> WebSession: ...

    def find(self, digest: bytes) -> tuple[WebSession, Account] | None:
        """The session with this secret digest and its account, in one indexed lookup."""
        ...

    def touch(self, session_id: int, at: int) -> None: ...

    def elevate(self, session_id: int, at: int) -> None: ...

    def replace_secret(
        self, session_id: int, digest: bytes, stage: SessionStage, created_at: int, elevated_at: int | None
    ) -> WebSession: ...

    def delete(self, session_id: int) -> None: ...

    def delete_for_account(self, account_id: int, keep: int | None = None) -> int:
        """End the account's sessions, except `keep`; returns how many ended."""
        ...

    def count_live(self, account_id: int, created_since: int, seen_since: int) -> int: ...

    def add_ticket(self, ticket: LoginTicket, digest: bytes) -> None: ...

    def take_ticket(self, digest: bytes) -> LoginTicket | None:
        """Remove and return the ticket with this digest, in one statement (so it works once)."""
        ...

    def delete_tickets(self, account_id: int) -> int: ...


class PackageRepository(Protocol):
    """Stored hosting packages."""

    def add(self, package: Package) -> None:
        """Insert; raises Conflict (with cPanel's message) if the name is taken."""
        ...

    def get(self, name: str) -> Package | None: ...

    def all(self) -> list[Package]: ...

    def update(self, name: str, settings: dict[str, str]) -> None: ...

    def delete(self, name: str) -> bool: ...

    def users(self, name: str) -> int:
        """How many accounts are on the package."""
        ...


class TwoFactorRepository(Protocol):
    """Stored two-factor setups: the sealed TOTP secret, the last step used, and recovery codes."""

    def get(self, account_id: int) -> TwoFactorRecord | None: ...

    def put(self, account_id: int, sealed_secret: bytes, enabled_at: int, last_step: int | None) -> None:
        """Set up (or replace) the account's TOTP secret."""
        ...

    def delete(self, account_id: int) -> bool:
        """Remove the secret and the recovery codes; False if there was nothing."""
        ...

    def advance_step(self, account_id: int, step: int) -> bool:
        """Record `step` as used, only if it is later than the last one used (False otherwise): no replays."""
        ...

    def replace_recovery_codes(self, account_id: int, digests: list[bytes], created_at: int) -> None: ...

    def use_recovery_code(self, account_id: int, digest: bytes, at: int) -> bool:
        """Burn an unused code with this digest; False if there is none."""
        ...

    def recovery_codes_left(self, account_id: int) -> int: ...


class ZoneRepository(Protocol):
    """DNS zones where the nameserver reads them: each edit commits with the transaction that made it."""

    def create(self, name: str, soa: Record, records: Sequence[Record]) -> None:
        """Make a zone; raises Conflict if one of that name exists."""
        ...

    def delete(self, name: str) -> bool: ...

    def get(self, name: str, lock: bool = False) -> Zone | None:
        """The zone with its records in file order; `lock` holds it against other writers until the transaction
        ends (edits of one zone take turns)."""
        ...

    def names(self, account_id: int) -> list[str]:
        """The account's zones (those of its domains), by name."""
        ...

    def owner(self, name: str) -> int | None:
        """The id of the account whose domain the zone serves; None for no such zone."""
        ...

    def missing(self) -> list[str]:
        """Account domains that have no zone (made before zones existed, or by hand)."""
        ...

    def apply(self, zone: Zone, changes: Sequence[Change], soa: Record) -> None:
        """Write a batch's changes (added records after the last) and the zone's new SOA."""
        ...


class CertificateRepository(Protocol):
    """Sites' certificates (one per domain of an account, keys sealed) and AutoSSL's last result per domain."""

    def put(self, account_id: int, new: NewCertificate) -> Certificate:
        """Store the domain's certificate, replacing the one it had."""
        ...

    def get(self, account_id: int, domain: str) -> Certificate | None: ...

    def all(self, account_id: int) -> list[Certificate]:
        """By domain."""
        ...

    def delete(self, account_id: int, domain: str) -> bool: ...

    def record_attempt(self, account_id: int, domain: str, time: int, error: str | None) -> None: ...

    def statuses(self, account_id: int) -> list[AutoSslStatus]: ...

    def sites(self) -> set[str]:
        """Every site that has a certificate, whatever its account."""
        ...


class SiteRepository(Protocol):
    """The hosts accounts serve: their domains (with the document roots they were given) and subdomains."""

    def of_account(self, account_id: int) -> list[Site]:
        """The account's sites: its main domain first, then the others in the order they were added."""
        ...

    def served(self) -> list[ServedSite]:
        """Every site of every active (not suspended) hosting account, by host name."""
        ...

    def add(self, account_id: int, site: Site, created_at: int) -> None:
        """Record a subdomain, or the document root of an addon or parked domain; Conflict if the host is taken."""
        ...

    def remove(self, account_id: int, domain: str) -> None: ...

    def taken(self, domain: str) -> bool:
        """Whether any account serves this host (as a domain or a subdomain)."""
        ...


class UnitOfWork(Protocol):
    """One transaction per use case: repositories share it, and the caller commits once at the end."""

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
        """Make the account's home (and its skeleton) afresh; a directory left there by a crash is set aside."""
        ...

    def remove(self, username: str) -> None: ...

    def disk_used(self, username: str) -> int:
        """Bytes the home occupies on disk."""
        ...
