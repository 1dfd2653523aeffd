"""Settings, read from HOSTPANEL_* environment variables; every path derives from the data directory by default."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The server's configuration: HOSTPANEL_* environment variables, checked, with the paths they default to."""

    model_config = SettingsConfigDict(env_prefix="HOSTPANEL_", extra="ignore")

    home: Path = Field(default=Path("var"), description="Data directory: database, server key, TLS, homes.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default SQLite `<home>/hostpanel.db`. PostgreSQL: postgresql://..."
    )
    key_file: Path | None = Field(default=None, description="Server key file (0600); default `<home>/server.key`.")
    tls_cert: Path | None = Field(default=None, description="TLS certificate (PEM); default `<home>/tls/cert.pem`.")
    tls_key: Path | None = Field(default=None, description="TLS private key (PEM); default `<home>/tls/key.pem`.")
    last_used_flush_seconds: float = Field(
        default=5.0, gt=0, description="How often batched token use (last used, new addresses) is written."
    )
    password_time_cost: int = Field(default=3, ge=1, description="argon2id passes for account passwords.")
    password_memory_kib: int = Field(default=65536, ge=8, description="argon2id memory for account passwords.")
    password_parallelism: int = Field(default=4, ge=1, description="argon2id lanes for account passwords.")
    max_request_bytes: int = Field(default=1_048_576, ge=1024, description="Largest API request body accepted.")
    session_idle_seconds: float = Field(
        default=1800, gt=0, description="A web session ends after this long without a request."
    )
    session_lifetime_seconds: float = Field(
        default=43200, gt=0, description="A web session ends this long after sign-in, however active."
    )
    login_failure_delay_seconds: float = Field(
        default=1.0, ge=0, description="The wait before answering a failed sign-in; it doubles with each repeat."
    )
    totp_issuer: str = Field(
        default="hostpanel", min_length=1, max_length=64, description="The name authenticator apps show for codes."
    )
    max_upload_bytes: int = Field(
        default=104_857_600, ge=1024, description="Largest multipart upload request (all its files together)."
    )
    max_file_content_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest file Fileman's get_file_content and save_file_content handle."
    )
    mail_dir: Path | None = Field(
        default=None, description="Where the Dovecot passwd-file and the virtual alias map are written."
    )
    forwarded_allow_ips: str | None = Field(
        default=None, description="Proxies whose X-Forwarded-For is trusted (comma-separated), as in uvicorn."
    )
    redis_url: str | None = Field(
        default=None, description="Redis for login failure counters and rate counts shared by every process."
    )
    redis_prefix: str = Field(default="hostpanel:", description="Prefix of every Redis key hostpanel writes.")
    lockout_ip_failures: int = Field(default=5, ge=0, description="Password failures from an address before a block.")
    lockout_ip_seconds: float = Field(default=900, gt=0, description="Window and length of an address block.")
    lockout_ip_day_failures: int = Field(default=30, ge=0, description="Failures in a day blocking an address a day.")
    lockout_account_failures: int = Field(default=15, ge=0, description="Password failures before an account lock.")
    lockout_account_seconds: float = Field(default=300, gt=0, description="Window and length of an account lock.")
    lockout_token_failures: int = Field(default=20, ge=0, description="Token failures from an address before a block.")
    lockout_token_seconds: float = Field(default=600, gt=0, description="Window and length of a token-failure block.")
    lockout_growth: float = Field(
        default=2.0, ge=1, description="Each repeat block within a day lasts this much longer."
    )
    lockout_max_seconds: float = Field(default=86400, gt=0, description="Longest block.")
    token_rate_limit: int = Field(default=600, ge=0, description="Requests per window per token by default (0: none).")
    token_rate_window_seconds: int = Field(default=60, ge=1, description="The rate limit window.")
    leak_report_rate_limit: int = Field(default=10, ge=1, description="Leaked-token reports per window per address.")
    smtp_url: str | None = Field(
        default=None, description="smtp://[user:password@]host[:port] (smtps:// for TLS, ?starttls=1) for notices."
    )
    smtp_from: str = Field(default="hostpanel@localhost", description="The From address of notifications.")
    expiry_notice_days: int = Field(
        default=7, ge=1, description="Warn owners of tokens expiring within this many days."
    )
    expiry_check_seconds: float = Field(
        default=3600, ge=0, description="How often the server sends expiry notices (0: only `token remind-expiring`)."
    )
    token_cache_size: int = Field(
        default=100_000, ge=0, description="Verified tokens each process keeps in memory (0: look up every request)."
    )
    token_cache_seconds: float = Field(
        default=86_400,
        gt=0,
        description="Longest a token is kept in memory before it is read again (changes drop it at once anyway).",
    )
    review_unused_days: int = Field(default=90, ge=1, description="A token unused this long is flagged by reviews.")
    # DNS: the nameserver that serves the accounts' zones, and what a new zone holds.
    dns_listen: str = Field(
        default="127.0.0.1:5300", description="host:port where the nameserver answers (UDP and TCP); 53 by setting."
    )
    dns_managed: bool = Field(
        default=True, description="`hostpanel serve` starts PowerDNS on dns_listen (else it only checks it answers)."
    )
    dns_nameservers: str = Field(
        default="", description="Comma-separated NS names for new zones; default ns1.<zone>,ns2.<zone> (with glue)."
    )
    dns_ipv4: str = Field(default="127.0.0.1", description="IPv4 address of a new zone's apex, www, mail and glue.")
    dns_ipv6: str | None = Field(default="::1", description="IPv6 address of the same names (empty: no AAAA).")
    dns_secondaries: str = Field(
        default="", description="Comma-separated ip[:port] of secondaries: allowed to transfer, notified on change."
    )
    dns_max_records: int = Field(default=1000, ge=10, le=100_000, description="Most records a zone may hold.")
    http_listen: str = Field(
        default="127.0.0.1:8080", description="host:port where nginx serves the sites over HTTP; 0.0.0.0:80 by setting."
    )
    https_listen: str = Field(
        default="127.0.0.1:8443",
        description="host:port where nginx serves the sites over HTTPS; 0.0.0.0:443 by setting.",
    )
    sites_managed: bool = Field(
        default=True, description="`hostpanel serve` starts nginx on http_listen/https_listen (else it only publishes)."
    )
    # WHM: how the server describes itself to provisioning clients.
    acme_directory: str = Field(
        default="https://acme-v02.api.letsencrypt.org/directory",
        description="The ACME directory AutoSSL orders certificates from (Let's Encrypt by default).",
    )
    acme_ca_bundle: Path | None = Field(
        default=None, description="CA certificates trusted for the ACME server's HTTPS (default: the system's)."
    )
    acme_email: str | None = Field(default=None, description="Contact address of AutoSSL's ACME account.")
    autossl_interval_seconds: float = Field(
        default=86400, ge=0, description="How often `serve` runs AutoSSL over every account (0: never)."
    )
    hostname: str | None = Field(default=None, description="The server's host name (default: the system's).")
    shared_ip: str | None = Field(
        default=None, description="The address accounts share, as WHM reports it (default: the host name's)."
    )
    sso_host: str | None = Field(
        default=None, description="The host name single sign-on links use (default: the server's host name)."
    )
    port: int = Field(default=2083, ge=1, le=65535, description="The account port (set by `serve --port`).")
    whm_port: int = Field(default=2087, ge=1, le=65535, description="The WHM port (set by `serve --whm-port`).")
    plain_http: bool = Field(default=False, description="Both ports speak plain HTTP (set by `serve --http`).")

    @model_validator(mode="after")
    def _argon2_memory_fits_its_lanes(self) -> Settings:
        if self.password_memory_kib < 8 * self.password_parallelism:
            raise ValueError("HOSTPANEL_PASSWORD_MEMORY_KIB must be at least 8 × HOSTPANEL_PASSWORD_PARALLELISM")
        return self

    @model_validator(mode="after")
    def _dns_addresses_parse(self) -> Settings:
        _ = self.dns_address, self.dns_secondary_addresses
        _ = host_port(self.http_listen, "HOSTPANEL_HTTP_LISTEN"), host_port(self.https_listen, "HOSTPANEL_HTTPS_LISTEN")
        return self

    @property
    def dns_address(self) -> tuple[str, int]:
        """dns_listen as (host, port): `host:port`, `[v6]:port`."""
        return host_port(self.dns_listen, "HOSTPANEL_DNS_LISTEN")

    @property
    def dns_nameserver_names(self) -> tuple[str, ...]:
        return tuple(name.strip().lower().rstrip(".") for name in self.dns_nameservers.split(",") if name.strip())

    @property
    def dns_secondary_addresses(self) -> tuple[tuple[str, int], ...]:
        """dns_secondaries as (host, port) pairs; port 53 unless given (`192.0.2.7`, `192.0.2.7:5353`, `[::1]:53`)."""
        items = [item.strip() for item in self.dns_secondaries.split(",") if item.strip()]
        return tuple(host_port(_with_port(item), "HOSTPANEL_DNS_SECONDARIES") for item in items)

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def database_url_or_default(self) -> str:
        return self.database_url or f"sqlite:///{self.home_dir / 'hostpanel.db'}"

    @property
    def key_path(self) -> Path:
        return (self.key_file or self.home_dir / "server.key").expanduser().resolve()

    @property
    def tls_cert_path(self) -> Path:
        return (self.tls_cert or self.home_dir / "tls" / "cert.pem").expanduser().resolve()

    @property
    def tls_key_path(self) -> Path:
        return (self.tls_key or self.home_dir / "tls" / "key.pem").expanduser().resolve()

    @property
    def homes_dir(self) -> Path:
        return self.home_dir / "homes"

    @property
    def mail_path(self) -> Path:
        return (self.mail_dir or self.home_dir / "mail").expanduser().resolve()


def host_port(text: str, setting: str) -> tuple[str, int]:
    """`192.0.2.1:53`, `[2001:db8::1]:53`: an IP address (v4 or v6) and a port."""
    host, colon, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    try:
        ipaddress.ip_address(host)
        number = int(port) if colon and port.isdigit() else 0
    except ValueError:
        number = 0
    if not 1 <= number <= 65535:
        raise ValueError(f"{setting}: “{text}” is not an IP address and port such as 127.0.0.1:5300 or [::1]:53")
    return host, number


def _with_port(text: str) -> str:
    if text.startswith("[") or text.count(":") == 1:
        return text
    return f"[{text}]:53" if ":" in text else f"{text}:53"
