"""The schema. Times are Unix seconds; audit times keep fractions for ordering within a second."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
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
# SQLite only auto-increments INTEGER PRIMARY KEY.
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
)

domains = Table(
    "domains",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("domain", String(253), nullable=False, unique=True),
    Column("created_at", BigInteger, nullable=False),
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
    Column("restrictions", Text, nullable=False, server_default="{}"),  # JSON: domain/tokens/restrictions.py
    UniqueConstraint("account_id", "name"),
    Index(None, "account_id", "created_at", "name"),
)

token_addresses = Table(
    "token_addresses",
    metadata,
    Column("token_id", Integer, ForeignKey("api_tokens.id", ondelete="CASCADE"), primary_key=True),
    Column("ip", String(45), primary_key=True),
    Column("first_seen", BigInteger, nullable=False),
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
    Index(None, "account_id", "id"),
    Index(None, "action", "id"),
)
