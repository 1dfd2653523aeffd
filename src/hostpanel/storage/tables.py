"""The schema. Times are Unix seconds; audit times keep fractions for ordering within a second."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# Byte order, not the locale's: token names sort the same on SQLite and PostgreSQL, and the index serves ORDER BY.
TokenName = String(50).with_variant(String(50, collation="C"), "postgresql")
# SQLite only auto-increments INTEGER PRIMARY KEY. Every table below asks SQLite for AUTOINCREMENT: ids are never
# reused, so a deleted account's history or a revoked token's pending use can never attach to a newcomer.
EventId = BigInteger().with_variant(Integer(), "sqlite")

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(16), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("email", String(320)),
    Column("status", String(16), nullable=False),
    Column("disabled_features", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("notify_new_ip", Boolean, nullable=False, server_default=false()),
    # WHM: root or a hosting account, its owner (root or a reseller), a reseller's ACLs (JSON list; NULL: not a
    # reseller), its package and limits (JSON, cPanel's keys), and why and since when it is suspended.
    Column("kind", String(16), nullable=False, server_default="account"),
    Column("owner", String(16), nullable=False, server_default="root", index=True),
    Column("acls", Text),
    Column("plan", String(64)),
    Column("limits", Text, nullable=False, server_default="{}"),
    Column("suspend_reason", Text),
    Column("suspended_at", BigInteger),
    Column("suspend_locked", Boolean, nullable=False, server_default=false()),
    Column("reseller_limits", Text, nullable=False, server_default="{}"),
    sqlite_autoincrement=True,
)

# The account's domains (main, addon, parked): each has a DNS zone of the same name (`pdns_domains` below).
account_domains = Table(
    "account_domains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# Served hosts beyond an account's own domains' defaults: subdomains (no zone of their own), and the document root
# of an addon or parked domain. A domain of `account_domains` without a row here is served from `public_html`
# (the main domain) or `public_html/<domain>` (an addon domain).
sites = Table(
    "sites",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("docroot", String(1024), nullable=False),
    Column("rootdomain", String(253), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("name", TokenName, nullable=False),
    Column("key", String(12), nullable=False, unique=True),
    Column("digest", LargeBinary(32), nullable=False),
    Column("pepper_id", Integer, nullable=False),
    Column("full_access", Boolean, nullable=False),
    Column("scopes", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("last_used_at", BigInteger),
    Column("last_used_ip", String(45)),
    Column("rate_limit", Integer),  # requests per rate window; NULL: the server default, 0: unlimited
    Column("expiry_notified_at", BigInteger),
    Column("restrictions", Text, nullable=False, server_default="{}"),  # JSON: domain/tokens/restrictions.py
    Column("service", String(16), nullable=False, server_default="cpanel"),  # cpanel | whm: where it authenticates
    Column("acls", Text),  # a WHM token's ACLs (JSON list); NULL: all of its owner's
    # The secret before the last rotation (its keyed digest), accepted until prev_valid_until; NULL: none.
    Column("prev_digest", LargeBinary(32)),
    Column("prev_pepper_id", Integer),
    Column("prev_valid_until", BigInteger),
    Column("prev_last_used_at", BigInteger),
    Column("rotated_at", BigInteger),
    Column("max_uses", Integer),  # NULL: no limit; else `uses` is counted by a conditional UPDATE per request
    Column("uses", Integer, nullable=False, server_default="0"),
    Column("imported", Boolean, nullable=False, server_default=false()),  # from a cPanel token store
    UniqueConstraint("account_id", "service", "name"),
    Index(None, "account_id", "created_at", "name"),
    sqlite_autoincrement=True,
)

token_addresses = Table(
    "token_addresses",
    metadata,
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("ip", String(45), primary_key=True),
    Column("first_seen", BigInteger, nullable=False),
    Column("last_seen", BigInteger),
)

# Calls per token, day (days since the epoch, UTC) and module: written in batches, trimmed after the kept days.
token_usage_daily = Table(
    "token_usage_daily",
    metadata,
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Integer, primary_key=True),
    Column("module", String(64), primary_key=True),
    Column("calls", Integer, nullable=False),
    Index(None, "day"),
)

# Web sessions: the cookie's secret is never stored, only HMAC(server key, secret).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("stage", String(16), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("last_seen_at", BigInteger, nullable=False),
    Column("elevated_at", BigInteger),
    Column("ip", String(45)),
    Column("user_agent", String(200)),
    Column("service", String(16), nullable=False, server_default="cpanel"),  # the interface it signs in to
    sqlite_autoincrement=True,
)

# Single sign-on (WHM's create_user_session): a one-time secret, kept only as HMAC(server key, secret), that signs a
# browser in to the account's interface once, before `expires_at`.
login_tickets = Table(
    "login_tickets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("digest", LargeBinary(32), nullable=False, unique=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("service", String(16), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# Hosting packages: a feature list and limits (cPanel's keys, JSON). A reseller's are named `<reseller>_<name>`.
packages = Table(
    "packages",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("owner", String(16), nullable=False),
    Column("settings", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# The TOTP secret is sealed (AES-GCM under a key derived from the server key file), never in clear.
two_factor = Table(
    "two_factor",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("sealed_secret", LargeBinary(128), nullable=False),
    Column("enabled_at", BigInteger, nullable=False),
    Column("last_step", BigInteger),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("digest", LargeBinary(32), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Column("used_at", BigInteger),
    UniqueConstraint("account_id", "digest"),
    sqlite_autoincrement=True,
)


mailboxes = Table(
    "mailboxes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False),
    Column("local_part", String(64), nullable=False),
    Column("password_hash", String(255), nullable=False),  # argon2id, in the form Dovecot verifies
    Column("quota_mb", BigInteger, nullable=False),  # 0: unlimited
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("domain", "local_part"),
    sqlite_autoincrement=True,
)

forwarders = Table(
    "forwarders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False),
    Column("address", String(320), nullable=False),
    Column("destination", String(320), nullable=False),
    Column("created_at", BigInteger, nullable=False),
    UniqueConstraint("address", "destination"),
    sqlite_autoincrement=True,
)

backup_jobs = Table(
    "backup_jobs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("file", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("finished_at", BigInteger),
    Column("bytes_total", BigInteger, nullable=False),
    Column("bytes_done", BigInteger, nullable=False),
    Column("files_total", BigInteger, nullable=False),
    Column("files_done", BigInteger, nullable=False),
    Column("size", BigInteger),
    Column("error", Text),
    Index(None, "account_id", "id"),
    # At most one running backup per account, whichever worker process started it.
    Index(
        "uq_backup_jobs_account_id_running",
        "account_id",
        unique=True,
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
    sqlite_autoincrement=True,
)

# A site's certificate: one per domain of an account; the private key only sealed (AES-GCM under a key derived from
# the server key file, bound to the account and domain), never in clear.
certificates = Table(
    "certificates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("domain", String(255), nullable=False),
    Column("names", Text, nullable=False),  # JSON list of the DNS names it covers
    Column("subject", Text, nullable=False),
    Column("issuer", Text, nullable=False),
    Column("not_before", BigInteger, nullable=False),
    Column("not_after", BigInteger, nullable=False),
    Column("serial", String(64), nullable=False),
    Column("key_type", String(16), nullable=False),
    Column("self_signed", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("installed_at", BigInteger, nullable=False),
    Column("certificate", Text, nullable=False),
    Column("cabundle", Text, nullable=False),
    Column("sealed_key", LargeBinary, nullable=False),
    UniqueConstraint("account_id", "domain"),
    sqlite_autoincrement=True,
)

# AutoSSL's last attempt for each domain: shown on the account's page.
autossl_status = Table(
    "autossl_status",
    metadata,
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("domain", String(255), primary_key=True),
    Column("checked_at", BigInteger, nullable=False),
    Column("error", Text),
    Column("succeeded_at", BigInteger),
)

# Append-only: no foreign key to accounts (events outlive the account) and triggers refuse UPDATE and DELETE.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", EventId, primary_key=True),
    Column("time", Double, nullable=False),
    Column("account_id", Integer),
    Column("username", String(200)),
    Column("actor", String(200), nullable=False),
    Column("ip", String(64)),
    Column("action", String(64), nullable=False),
    Column("target", String(200)),
    Column("outcome", String(16), nullable=False),
    Column("details", Text, nullable=False),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    Index(None, "account_id", "id"),
    Index(None, "action", "id"),
    sqlite_autoincrement=True,
)

# The newest event of each account's hash chain (chain 0: events of no account). Appends lock this row, so
# concurrent writers to one chain take turns and the chain never forks.
audit_chain_heads = Table(
    "audit_chain_heads",
    metadata,
    Column("chain", Integer, primary_key=True),
    Column("last_id", EventId, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

# Failed logins per counter key (`ip:ADDRESS`, `account:USER`, `token-ip:ADDRESS`), pruned past the longest window.
auth_failures = Table(
    "auth_failures",
    metadata,
    Column("id", EventId, primary_key=True),
    Column("key", String(128), nullable=False),
    Column("at", Double, nullable=False),
    Index(None, "key", "at"),
    sqlite_autoincrement=True,
)

auth_blocks = Table(
    "auth_blocks",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("until", Double, nullable=False),
    Column("lockouts", Integer, nullable=False),
    Column("blocked_at", Double, nullable=False),
)

trusted_networks = Table(
    "trusted_networks",
    metadata,
    Column("network", String(64), primary_key=True),
    Column("note", String(200), nullable=False),
    Column("created_at", BigInteger, nullable=False),
)

# PostgreSQL only: each server process listening for changes (storage/changes.py), its lease on the database's clock
# (Unix seconds) and the highest barrier it has acknowledged. A writer of a token change waits for every live one.
token_cache_nodes = Table(
    "token_cache_nodes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("host", String(200), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", Double, nullable=False),
    Column("lease_until", Double, nullable=False),
    Column("acked", BigInteger, nullable=False),
    sqlite_autoincrement=True,
)

# PowerDNS's own tables (its generic SQL schema, 4.7), which the nameserver reads: a zone edit is a transaction on
# these, committed with the rest of the call, and served at once (the nameserver runs with its caches off). Names are
# stored lowercase without the final dot; `records.id` orders a zone's records as its zone file's lines.
pdns_domains = Table(
    "domains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("master", String(128)),
    Column("last_check", Integer),
    Column("type", String(8), nullable=False),  # MASTER: transferred to, and notified for, the secondaries
    Column("notified_serial", BigInteger),  # written by the nameserver
    Column("account", String(40)),
    Column("options", Text),
    Column("catalog", String(255), index=True),
    CheckConstraint("name = lower(name)", name="ck_domains_lowercase_name"),
    sqlite_autoincrement=True,
)

pdns_records = Table(
    "records",
    metadata,
    Column("id", EventId, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), index=True),
    Column("name", String(255)),
    Column("type", String(10)),
    Column("content", Text),
    Column("ttl", Integer),
    Column("prio", Integer),
    Column("disabled", Boolean, server_default=false()),
    Column("ordername", String(255)),
    Column("auth", Boolean, server_default=text("true")),
    CheckConstraint("name = lower(name)", name="ck_records_lowercase_name"),
    Index(None, "name", "type"),
    Index(None, "domain_id", "ordername"),
    sqlite_autoincrement=True,
)

pdns_supermasters = Table(
    "supermasters",
    metadata,
    Column("ip", String(64), primary_key=True),
    Column("nameserver", String(255), primary_key=True),
    Column("account", String(40), nullable=False),
)

pdns_comments = Table(
    "comments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(255), nullable=False),
    Column("type", String(10), nullable=False),
    Column("modified_at", Integer, nullable=False),
    Column("account", String(40)),
    Column("comment", Text, nullable=False),
    Index(None, "domain_id", "name", "type"),
    Index(None, "domain_id", "modified_at"),
    sqlite_autoincrement=True,
)

pdns_domainmetadata = Table(
    "domainmetadata",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(32)),
    Column("content", Text),
    sqlite_autoincrement=True,
)

pdns_cryptokeys = Table(
    "cryptokeys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("domain_id", Integer, ForeignKey("domains.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("flags", Integer, nullable=False),
    Column("active", Boolean),
    Column("published", Boolean, server_default=text("true")),
    Column("content", Text),
    sqlite_autoincrement=True,
)

pdns_tsigkeys = Table(
    "tsigkeys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(255)),
    Column("algorithm", String(50)),
    Column("secret", String(255)),
    UniqueConstraint("name", "algorithm"),
    sqlite_autoincrement=True,
)
