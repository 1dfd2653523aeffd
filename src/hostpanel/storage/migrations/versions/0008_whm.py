"""WHM: root and resellers, packages, WHM tokens beside cPanel tokens, single sign-on tickets.

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _sequences() -> dict[str, int]:
    """SQLite's AUTOINCREMENT high-water marks: a rebuilt table would restart from its largest id, and so give a
    deleted account's (or token's) id to a newcomer."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return {}
    return {str(row.name): int(row.seq) for row in bind.execute(sa.text("SELECT name, seq FROM sqlite_sequence"))}


def _restore(sequences: dict[str, int]) -> None:
    for name, seq in sequences.items():
        op.get_bind().execute(
            sa.text("UPDATE sqlite_sequence SET seq = MAX(seq, :seq) WHERE name = :name"), {"seq": seq, "name": name}
        )


def upgrade() -> None:
    # A table SQLite has to rebuild keeps AUTOINCREMENT only when told, and its high-water mark only when restored:
    # ids must never be reused.
    keep = {"sqlite_autoincrement": True}
    sequences = _sequences()
    with op.batch_alter_table("accounts", table_kwargs=keep) as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="account"))
        batch.add_column(sa.Column("owner", sa.String(16), nullable=False, server_default="root"))
        batch.add_column(sa.Column("acls", sa.Text()))
        batch.add_column(sa.Column("plan", sa.String(64)))
        batch.add_column(sa.Column("limits", sa.Text(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("suspend_reason", sa.Text()))
        batch.add_column(sa.Column("suspended_at", sa.BigInteger()))
        batch.add_column(sa.Column("suspend_locked", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("reseller_limits", sa.Text(), nullable=False, server_default="{}"))
        batch.create_index("ix_accounts_owner", ["owner"])
    with op.batch_alter_table("api_tokens", table_kwargs=keep) as batch:
        batch.add_column(sa.Column("service", sa.String(16), nullable=False, server_default="cpanel"))
        batch.add_column(sa.Column("acls", sa.Text()))
        batch.drop_constraint("uq_api_tokens_account_id_name", type_="unique")
        batch.create_unique_constraint("uq_api_tokens_account_id_service_name", ["account_id", "service", "name"])
    with op.batch_alter_table("web_sessions", table_kwargs=keep) as batch:
        batch.add_column(sa.Column("service", sa.String(16), nullable=False, server_default="cpanel"))
    _restore(sequences)
    op.create_table(
        "login_tickets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("digest", sa.LargeBinary(32), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("service", sa.String(16), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_tickets"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_login_tickets_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("digest", name="uq_login_tickets_digest"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_login_tickets_account_id", "login_tickets", ["account_id"])
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(16), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_packages"),
        sa.UniqueConstraint("name", name="uq_packages_name"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    keep = {"sqlite_autoincrement": True}
    sequences = _sequences()
    op.drop_table("packages")
    op.drop_index("ix_login_tickets_account_id", table_name="login_tickets")
    op.drop_table("login_tickets")
    with op.batch_alter_table("web_sessions", table_kwargs=keep) as batch:
        batch.drop_column("service")
    with op.batch_alter_table("api_tokens", table_kwargs=keep) as batch:
        batch.drop_constraint("uq_api_tokens_account_id_service_name", type_="unique")
        batch.create_unique_constraint("uq_api_tokens_account_id_name", ["account_id", "name"])
        batch.drop_column("acls")
        batch.drop_column("service")
    with op.batch_alter_table("accounts", table_kwargs=keep) as batch:
        batch.drop_index("ix_accounts_owner")
        for column in ("reseller_limits", "suspend_locked", "suspended_at", "suspend_reason", "limits", "plan"):
            batch.drop_column(column)
        for column in ("acls", "owner", "kind"):
            batch.drop_column(column)
    _restore(sequences)
