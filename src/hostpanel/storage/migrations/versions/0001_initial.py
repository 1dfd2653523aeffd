"""Accounts, domains, API tokens, token addresses and the append-only audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TOKEN_NAME = sa.String(50).with_variant(sa.String(50, collation="C"), "postgresql")
EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
POSTGRESQL_TRIGGER = [
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("disabled_features", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_domains_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("domain", name="uq_domains_domain"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_domains_account_id", "domains", ["account_id"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("name", TOKEN_NAME, nullable=False),
        sa.Column("key", sa.String(12), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("pepper_id", sa.Integer(), nullable=False),
        sa.Column("full_access", sa.Boolean(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger()),
        sa.Column("last_used_at", sa.BigInteger()),
        sa.Column("last_used_ip", sa.String(45)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_api_tokens_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("account_id", "name", name="uq_api_tokens_account_id_name"),
        sa.UniqueConstraint("key", name="uq_api_tokens_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_api_tokens_account_id_created_at_name", "api_tokens", ["account_id", "created_at", "name"])
    op.create_table(
        "token_addresses",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "ip", name="pk_token_addresses"),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], name="fk_token_addresses_token_id_api_tokens", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", EVENT_ID, primary_key=True),
        sa.Column("time", sa.Double(), nullable=False),
        sa.Column("account_id", sa.Integer()),
        sa.Column("username", sa.String(200)),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("ip", sa.String(64)),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(200)),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_events_account_id_id", "audit_events", ["account_id", "id"])
    op.create_index("ix_audit_events_action_id", "audit_events", ["action", "id"])
    for statement in SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRESQL_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    for table in ("audit_events", "token_addresses", "api_tokens", "domains", "accounts"):
        op.drop_table(table)
