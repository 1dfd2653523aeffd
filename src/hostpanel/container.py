"""The composition root: builds the engine, the keys and the services every interface (API, web, CLI) asks for.

Wiring only: what to construct from the settings, and closing it. Behaviour lives in the services it builds; the
interfaces receive those (a request's `Services`, the admission gate's parts), never the container itself.
"""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property, partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from hostpanel.config import Settings
from hostpanel.domain.accounts.model import Account, Service
from hostpanel.domain.accounts.passwords import HashingCost, PasswordHasher
from hostpanel.domain.accounts.service import AccountService
from hostpanel.domain.audit.service import AuditLog, AuditWriter
from hostpanel.domain.backups.runner import BackgroundJobs, BackupRunner
from hostpanel.domain.backups.service import BackupService
from hostpanel.domain.certificates.autossl import AutoSsl
from hostpanel.domain.certificates.files import CertificateFiles
from hostpanel.domain.certificates.service import CertificateService, forget_orphans
from hostpanel.domain.clock import Clock, SystemClock
from hostpanel.domain.dns.service import DnsService
from hostpanel.domain.dns.zone import ZoneTemplate
from hostpanel.domain.files.jail import Jail
from hostpanel.domain.files.service import FileService
from hostpanel.domain.files.staging import STAGING_DIR, Staging
from hostpanel.domain.login.service import LoginService
from hostpanel.domain.login.throttle import LoginThrottle
from hostpanel.domain.mail.server import MailServerFiles
from hostpanel.domain.mail.service import MailService
from hostpanel.domain.ports import UnitOfWork
from hostpanel.domain.principal import Principal
from hostpanel.domain.sealing import SecretBox
from hostpanel.domain.security.expiry import ExpiryNotices
from hostpanel.domain.security.lockout import DAY, FailureStore, LockoutPolicy, LoginGuard, Tier
from hostpanel.domain.security.notices import Notifier
from hostpanel.domain.security.ratelimit import MemoryRateCounter, RateCounter, RateLimiter
from hostpanel.domain.sessions.model import SessionPolicy
from hostpanel.domain.sessions.service import SessionService
from hostpanel.domain.sessions.tickets import SingleSignOn
from hostpanel.domain.sites.certificates import SitesLayout
from hostpanel.domain.sites.service import SiteService
from hostpanel.domain.tokens.authenticate import TokenAuthenticator
from hostpanel.domain.tokens.cache import TokenCache, all_keys, lookup
from hostpanel.domain.tokens.leaks import LeakResponse
from hostpanel.domain.tokens.restrictions import FilemanPaths
from hostpanel.domain.tokens.review import ReviewPolicy
from hostpanel.domain.tokens.service import TokenService
from hostpanel.domain.tokens.usage import NewAddressNotices, UsageRecorder
from hostpanel.domain.twofactor.service import TwoFactorService
from hostpanel.domain.whm.oversight import TokenOversight
from hostpanel.domain.whm.provisioning import Provisioning
from hostpanel.domain.whm.resellers import ResellerRules, Resellers
from hostpanel.domain.whm.server import ServerInfo
from hostpanel.domain.whm.store import PackageStore
from hostpanel.keys import ServerKeys, load_key_file
from hostpanel.nameserver.probe import DnsProbe
from hostpanel.services import Limits
from hostpanel.smtp import LogNotifier, SmtpNotifier
from hostpanel.storage.changes import changes_for, close_changes
from hostpanel.storage.engine import make_engine
from hostpanel.storage.homes import FilesystemHomes
from hostpanel.storage.migrate import check_schema
from hostpanel.storage.throttle import SqlFailureStore, SqlTrustedNetworks
from hostpanel.storage.token_lookup import KeyLookup
from hostpanel.storage.unit_of_work import SqlUnitOfWork
from hostpanel.webserver.nginx import NginxSites, setup_from

if TYPE_CHECKING:  # imported when used: a CLI command needs neither (a quarter of a second each)
    from redis import Redis

    from hostpanel.acme_client.issuer import AcmeIssuer


class Container:
    """Builds everything once per process (engine, keys, caches, guards) and each service per unit of work."""

    def __init__(self, settings: Settings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.clock: Clock = clock or SystemClock()
        self.homes = FilesystemHomes(settings.homes_dir)
        self.login_throttle = LoginThrottle(self.clock, settings.login_failure_delay_seconds)
        self.session_policy = SessionPolicy(
            idle_seconds=settings.session_idle_seconds, lifetime_seconds=settings.session_lifetime_seconds
        )
        self.usage = UsageRecorder(self.clock, on_new_addresses=NewAddressNotices(self.read, self.notifier))
        self.staging = Staging(settings.homes_dir / STAGING_DIR)
        self.jobs = BackgroundJobs()

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
    def mail_hasher(self) -> PasswordHasher:
        """argon2id for mailbox passwords, with one lane: the form Dovecot (libsodium) verifies."""
        settings = self.settings
        return PasswordHasher(HashingCost(settings.password_time_cost, settings.password_memory_kib, 1))

    @cached_property
    def mail_files(self) -> MailServerFiles:
        return MailServerFiles(self.settings.mail_path, self.settings.homes_dir)

    @cached_property
    def mail_publisher(self) -> Callable[[], None]:
        """Rewrites the mail server's files from the committed state (after each mail or account change)."""
        return partial(self.mail_files.publish, self.read)

    @cached_property
    def authenticator(self) -> TokenAuthenticator:
        return TokenAuthenticator(self.keys.keyring, self.clock)

    @cached_property
    def whm_authenticator(self) -> TokenAuthenticator:
        """WHM's: WHM tokens of root and resellers only."""
        return TokenAuthenticator(self.keys.keyring, self.clock, Service.WHM)

    @cached_property
    def token_cache(self) -> TokenCache:
        """What the API authenticates against: verified tokens in memory, kept current across processes."""
        return TokenCache(
            self.key_lookup,
            changes_for(self.engine),
            self.settings.token_cache_size,
            self.settings.token_cache_seconds,
            keys=all_keys(self.read),
        )

    @cached_property
    def key_lookup(self) -> KeyLookup:
        """The token cache's database lookup: one prepared statement on connections of its own."""
        return KeyLookup(self.engine, lookup(self.read))

    @cached_property
    def redis(self) -> Redis | None:
        if not self.settings.redis_url:
            return None
        from hostpanel.storage import redis_store  # noqa: PLC0415 - only with Redis configured

        return redis_store.connect(self.settings.redis_url)

    @cached_property
    def login_guard(self) -> LoginGuard:
        """Brute-force protection; the web login calls `check` before and `record_failure` after a bad password."""
        settings = self.settings
        policy = lockout_policy(settings)
        store: FailureStore = SqlFailureStore(self.engine, policy.windows)
        if self.redis is not None:
            from hostpanel.storage import redis_store  # noqa: PLC0415 - only with Redis configured

            store = redis_store.RedisFailureStore(self.redis, settings.redis_prefix)
        return LoginGuard(store, SqlTrustedNetworks(self.engine), policy, self.clock, self.uow)

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        counter: RateCounter = MemoryRateCounter()
        if self.redis is not None:
            from hostpanel.storage import redis_store  # noqa: PLC0415 - only with Redis configured

            counter = redis_store.RedisRateCounter(self.redis, self.settings.redis_prefix)
        return RateLimiter(counter, self.clock, self.settings.token_rate_window_seconds)

    @cached_property
    def notifier(self) -> Notifier:
        settings = self.settings
        return SmtpNotifier(settings.smtp_url, settings.smtp_from) if settings.smtp_url else LogNotifier()

    @cached_property
    def review_policy(self) -> ReviewPolicy:
        return ReviewPolicy(self.settings.review_unused_days, self.settings.expiry_notice_days)

    @cached_property
    def limits(self) -> Limits:
        settings = self.settings
        return Limits(settings.max_request_bytes, settings.max_upload_bytes, settings.max_file_content_bytes)

    def check_ready(self) -> None:
        """Fail early, with the fix in the message, when keys or schema are not in place."""
        _ = self.keys
        check_schema(self.engine)

    def uow(self, write: bool = True) -> UnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)

    def read(self) -> UnitOfWork:
        """A read-only unit of work."""
        return self.uow(write=False)

    def audit(self, uow: UnitOfWork) -> AuditLog:
        return AuditLog(uow.audit, self.clock)

    @cached_property
    def audit_writer(self) -> AuditWriter:
        return AuditWriter(self.uow, self.clock)

    def tokens(self, uow: UnitOfWork) -> TokenService:
        return TokenService(uow, self.keys.keyring, self.clock, self.audit(uow), self.settings.token_rate_limit)

    def accounts(self, uow: UnitOfWork) -> AccountService:
        return AccountService(
            uow,
            self.hasher,
            self.clock,
            self.homes,
            self.audit(uow),
            zone_template=self.zone_template,
            after_change=self.mail_publisher,
        )

    @cached_property
    def zone_template(self) -> ZoneTemplate:
        settings = self.settings
        return ZoneTemplate(settings.dns_nameserver_names, settings.dns_ipv4, settings.dns_ipv6 or None)

    @cached_property
    def nameserver(self) -> DnsProbe:
        return DnsProbe(self.settings.dns_address)

    def dns(self, principal: Principal, uow: UnitOfWork, *, offline: bool = False) -> DnsService:
        """`offline`: edits are not checked against the nameserver (for the CLI, with the server stopped)."""
        return DnsService(
            uow,
            principal,
            begin=self.uow,
            audit=self.audit,
            clock=self.clock,
            nameserver=None if offline else self.nameserver,
            max_records=self.settings.dns_max_records,
        )

    @cached_property
    def certificate_files(self) -> CertificateFiles:
        return CertificateFiles(SitesLayout(self.settings.home_dir))

    def certificates(self, principal: Principal, uow: UnitOfWork) -> CertificateService:
        return CertificateService(
            uow,
            principal,
            box=SecretBox(self.keys.derive("certificate-key")),
            files=self.certificate_files,
            publisher=self.site_publisher,
            clock=self.clock,
            audit=self.audit(uow),
        )

    @cached_property
    def acme_issuer(self) -> AcmeIssuer:
        from hostpanel.acme_client.issuer import AcmeIssuer  # noqa: PLC0415 - only when certificates are issued

        settings = self.settings
        # One ACME account per directory: a key registered with one CA means nothing to another.
        name = hashlib.sha256(settings.acme_directory.encode()).hexdigest()[:16]
        return AcmeIssuer(
            settings.acme_directory,
            settings.home_dir / "autossl" / f"account-{name}.json",
            ca_bundle=settings.acme_ca_bundle,
            email=settings.acme_email,
        )

    def forget_orphan_certificates(self) -> list[str]:
        with self.read() as uow:
            return forget_orphans(uow, self.certificate_files, self.site_publisher)

    def autossl(self, account: Account) -> AutoSsl:
        """AutoSSL for one account: its services opened in a transaction of their own for each step."""
        principal = Principal.autossl(account)

        @contextmanager
        def session(write: bool) -> Iterator[tuple[CertificateService, DnsService]]:
            with self.uow(write) as uow:
                yield self.certificates(principal, uow), self.dns(principal, uow)
                uow.commit()

        return AutoSsl(session, self.acme_issuer, self.clock)

    @cached_property
    def nginx_sites(self) -> NginxSites:
        return NginxSites(setup_from(self.settings), self.read)

    @property
    def site_publisher(self) -> NginxSites:
        return self.nginx_sites

    def sites(self, principal: Principal, uow: UnitOfWork) -> SiteService:
        return SiteService(
            uow,
            principal,
            begin=self.uow,
            audit=self.audit,
            clock=self.clock,
            dns=lambda own: self.dns(principal, own),
            jail=self.jail(principal),
            server=self.nginx_sites,
            template=self.zone_template,
        )

    def jail(self, principal: Principal) -> Jail:
        """The account's home as the principal may see it (a token's `fileman_paths` apply)."""
        account = principal.account.username
        return Jail(self.homes.path_for(account), account, principal.restrictions.get(FilemanPaths))

    def home_jail(self, username: str) -> Jail:
        """The whole home, for the modules' own files (Maildirs, backup archives), whatever a token's paths."""
        return Jail(self.homes.path_for(username), username)

    @cached_property
    def backup_runner(self) -> BackupRunner:
        return BackupRunner(self.uow, self.staging, self.home_jail, self.clock, self.notifier, jobs=self.jobs)

    def backups(self, principal: Principal, uow: UnitOfWork) -> BackupService:
        return BackupService(
            uow,
            principal,
            home=self.home_jail(principal.account.username),
            target=self.jail(principal),
            staging=self.staging,
            clock=self.clock,
            audit=self.audit(uow),
            audit_now=self.audit_writer,
            launch=self.backup_runner.start,
            dns=self.dns(principal, uow),
        )

    def files(self, principal: Principal, uow: UnitOfWork) -> FileService:
        return FileService(
            self.jail(principal), self.staging, self.audit(uow), principal, self.settings.max_file_content_bytes
        )

    def mail(self, principal: Principal, uow: UnitOfWork) -> MailService:
        return MailService(
            uow,
            principal,
            jail=self.home_jail(
                principal.account.username
            ),  # Maildirs are the mail module's, whatever fileman_paths say
            hasher=self.mail_hasher,
            clock=self.clock,
            audit=self.audit(uow),
            publish=self.mail_publisher,
        )

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

    # WHM

    @cached_property
    def server(self) -> ServerInfo:
        settings = self.settings
        hostname = settings.hostname or socket.gethostname() or "localhost"
        try:
            address = settings.shared_ip or socket.gethostbyname(hostname)
        except OSError:
            address = "127.0.0.1"
        names = settings.dns_nameserver_names  # what new zones' NS records name, reported as WHM reports them
        return ServerInfo(
            hostname=hostname,
            shared_ip=address,
            nameservers=names,
            port=settings.port,
            whm_port=settings.whm_port,
            scheme="http" if settings.plain_http else "https",
            sso_host=settings.sso_host,
        )

    def packages(self, uow: UnitOfWork) -> PackageStore:
        return PackageStore(uow, self.clock, self.audit(uow))

    def provisioning(self, principal: Principal, uow: UnitOfWork) -> Provisioning:
        return Provisioning(
            uow,
            principal,
            accounts=self.accounts(uow),
            packages=self.packages(uow),
            resellers=ResellerRules(uow),
            clock=self.clock,
            server=self.server,
        )

    def resellers(self, principal: Principal, uow: UnitOfWork) -> Resellers:
        return Resellers(uow, principal, self.accounts(uow))

    def oversight(self, principal: Principal, uow: UnitOfWork) -> TokenOversight:
        return TokenOversight(uow, principal, self.clock, self.audit(uow), self.notifier)

    def single_sign_on(self, uow: UnitOfWork) -> SingleSignOn:
        return SingleSignOn(uow, self.keys.derive("login-ticket"), self.clock, self.audit(uow), self.sessions(uow))

    def leaks(self, uow: UnitOfWork) -> LeakResponse:
        return LeakResponse(uow, self.keys.keyring, self.audit(uow), self.notifier, self.clock)

    def expiry_notices(self, uow: UnitOfWork) -> ExpiryNotices:
        return ExpiryNotices(uow, self.clock, self.notifier)

    def close(self) -> None:
        if "key_lookup" in self.__dict__:
            self.key_lookup.close()
        if "engine" in self.__dict__:
            close_changes(self.engine)
            self.engine.dispose()
        redis = self.__dict__.get("redis")  # only if it was made
        if redis is not None:
            redis.close()


def lockout_policy(settings: Settings) -> LockoutPolicy:
    return LockoutPolicy(
        ip=(
            Tier(settings.lockout_ip_failures, settings.lockout_ip_seconds, settings.lockout_ip_seconds),
            Tier(settings.lockout_ip_day_failures, DAY, DAY),
        ),
        account=(
            Tier(settings.lockout_account_failures, settings.lockout_account_seconds, settings.lockout_account_seconds),
        ),
        token_ip=(
            Tier(settings.lockout_token_failures, settings.lockout_token_seconds, settings.lockout_token_seconds),
        ),
        growth=settings.lockout_growth,
        max_lockout=settings.lockout_max_seconds,
    )
