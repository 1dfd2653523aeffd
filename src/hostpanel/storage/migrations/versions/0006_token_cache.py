"""Processes that cache verified tokens, for acknowledged invalidation on PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_cache_nodes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("host", sa.String(200), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.Double(), nullable=False),
        sa.Column("lease_until", sa.Double(), nullable=False),
        sa.Column("acked", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_token_cache_nodes"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("token_cache_nodes")
