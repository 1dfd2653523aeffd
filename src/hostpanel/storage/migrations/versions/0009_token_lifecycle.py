"""Token lifecycle: rotation with a grace period, use limits, imported cPanel tokens, daily usage counts.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Columns added with ALTER TABLE ... ADD COLUMN (nullable or with a default): no table rebuild on SQLite.
def _token_columns() -> tuple[sa.Column[object], ...]:
    return (
        sa.Column("prev_digest", sa.LargeBinary(32)),  # the secret before the last rotation, while its grace lasts
        sa.Column("prev_pepper_id", sa.Integer()),
        sa.Column("prev_valid_until", sa.BigInteger()),
        sa.Column("prev_last_used_at", sa.BigInteger()),
        sa.Column("rotated_at", sa.BigInteger()),
        sa.Column("max_uses", sa.Integer()),  # NULL: no limit
        sa.Column("uses", sa.Integer(), nullable=False, server_default="0"),  # counted only when max_uses is set
        sa.Column("imported", sa.Boolean(), nullable=False, server_default=sa.false()),  # from a cPanel token store
    )


def upgrade() -> None:
    for column in _token_columns():
        op.add_column("api_tokens", column)
    op.add_column("token_addresses", sa.Column("last_seen", sa.BigInteger()))
    op.create_table(
        "token_usage_daily",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),  # days since the Unix epoch (UTC)
        sa.Column("module", sa.String(64), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_tokens.id"], ondelete="CASCADE", name="fk_token_usage_daily_token_id_api_tokens"
        ),
        sa.PrimaryKeyConstraint("token_id", "day", "module", name="pk_token_usage_daily"),
    )
    op.create_index("ix_token_usage_daily_day", "token_usage_daily", ["day"])


def downgrade() -> None:
    op.drop_index("ix_token_usage_daily_day", table_name="token_usage_daily")
    op.drop_table("token_usage_daily")
    with op.batch_alter_table("token_addresses") as batch:
        batch.drop_column("last_seen")
    with op.batch_alter_table("api_tokens", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in reversed(_token_columns()):
            batch.drop_column(column.name)
