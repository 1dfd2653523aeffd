"""Sites' certificates (keys sealed) and AutoSSL's last result per domain.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("names", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("key_type", sa.String(16), nullable=False),
        sa.Column("self_signed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("installed_at", sa.BigInteger(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("cabundle", sa.Text(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_certificates"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_certificates_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("account_id", "domain", name="uq_certificates_account_id_domain"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "autossl_status",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(255), nullable=False),
        sa.Column("checked_at", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("succeeded_at", sa.BigInteger()),
        sa.PrimaryKeyConstraint("account_id", "domain", name="pk_autossl_status"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_autossl_status_account_id_accounts", ondelete="CASCADE"
        ),
    )


def downgrade() -> None:
    op.drop_table("autossl_status")
    op.drop_table("certificates")
