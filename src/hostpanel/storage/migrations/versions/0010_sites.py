"""Sites: every served host of an account with its document root (subdomains, addon and parked domains).

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Hosts are unique across the server: nginx picks a site by its Host header.
    op.create_table(
        "sites",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "account_id", sa.Integer, sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False, index=True
        ),
        sa.Column("domain", sa.String(253), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("docroot", sa.String(1024), nullable=False),
        sa.Column("rootdomain", sa.String(253), nullable=True),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("sites")
