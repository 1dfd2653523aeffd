"""Token restrictions; mailboxes, forwarders and backup jobs.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("restrictions", sa.Text(), nullable=False, server_default="{}"))
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("local_part", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("quota_mb", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mailboxes"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_mailboxes_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("domain", "local_part", name="uq_mailboxes_domain_local_part"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_mailboxes_account_id", "mailboxes", ["account_id"])
    op.create_table(
        "forwarders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("destination", sa.String(320), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forwarders"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_forwarders_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("address", "destination", name="uq_forwarders_address_destination"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_forwarders_account_id", "forwarders", ["account_id"])
    op.create_table(
        "backup_jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger()),
        sa.Column("bytes_total", sa.BigInteger(), nullable=False),
        sa.Column("bytes_done", sa.BigInteger(), nullable=False),
        sa.Column("files_total", sa.BigInteger(), nullable=False),
        sa.Column("files_done", sa.BigInteger(), nullable=False),
        sa.Column("size", sa.BigInteger()),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_backup_jobs"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_backup_jobs_account_id_accounts", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_backup_jobs_account_id_id", "backup_jobs", ["account_id", "id"])
    op.create_index(
        "uq_backup_jobs_account_id_running",
        "backup_jobs",
        ["account_id"],
        unique=True,
        sqlite_where=sa.text("status = 'running'"),
        postgresql_where=sa.text("status = 'running'"),
    )


def downgrade() -> None:
    op.drop_table("backup_jobs")
    op.drop_table("forwarders")
    op.drop_table("mailboxes")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("restrictions")
