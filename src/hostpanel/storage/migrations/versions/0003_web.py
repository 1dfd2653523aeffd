"""Web sessions, two-factor secrets (sealed) and recovery codes (keyed digests).

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", sa.BigInteger(), nullable=False),
        sa.Column("elevated_at", sa.BigInteger()),
        sa.Column("ip", sa.String(45)),
        sa.Column("user_agent", sa.String(200)),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_web_sessions_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("digest", name="uq_web_sessions_digest"),
    )
    op.create_index("ix_web_sessions_account_id", "web_sessions", ["account_id"])
    op.create_table(
        "two_factor",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("sealed_secret", sa.LargeBinary(128), nullable=False),
        sa.Column("enabled_at", sa.BigInteger(), nullable=False),
        sa.Column("last_step", sa.BigInteger()),
        sa.PrimaryKeyConstraint("account_id", name="pk_two_factor"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_two_factor_account_id_accounts", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("id", name="pk_recovery_codes"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_recovery_codes_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("account_id", "digest", name="uq_recovery_codes_account_id_digest"),
    )


def downgrade() -> None:
    for table in ("recovery_codes", "two_factor", "web_sessions"):
        op.drop_table(table)
