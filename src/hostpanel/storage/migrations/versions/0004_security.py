"""Brute-force counters and blocks, trusted networks, per-token rate limits, notifications, the audit hash chain.

Follows 0003 (the web tables, released right after 0001: there is no 0002).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hostpanel.domain.audit.chain import GENESIS, StoredEvent, chain_of, stored_hash

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

EVENT_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END"
    for verb in ("UPDATE", "DELETE")
]


def upgrade() -> None:
    op.add_column("accounts", sa.Column("notify_new_ip", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("api_tokens", sa.Column("rate_limit", sa.Integer()))
    op.add_column("api_tokens", sa.Column("expiry_notified_at", sa.BigInteger()))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(64)))
    op.add_column("audit_events", sa.Column("hash", sa.String(64)))
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.Integer(), primary_key=True),
        sa.Column("last_id", EVENT_ID, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_audit_chain_heads"),
    )
    op.create_table(
        "auth_failures",
        sa.Column("id", EVENT_ID, primary_key=True),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_auth_failures"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_auth_failures_key_at", "auth_failures", ["key", "at"])
    op.create_table(
        "auth_blocks",
        sa.Column("key", sa.String(128), primary_key=True),
        sa.Column("until", sa.Double(), nullable=False),
        sa.Column("lockouts", sa.Integer(), nullable=False),
        sa.Column("blocked_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_auth_blocks"),
    )
    op.create_table(
        "trusted_networks",
        sa.Column("network", sa.String(64), primary_key=True),
        sa.Column("note", sa.String(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("network", name="pk_trusted_networks"),
    )
    _chain_existing_events()
    if op.get_bind().dialect.name == "sqlite":
        # Ids are never reused, as in every other table: the web tables were released without AUTOINCREMENT.
        for table in ("web_sessions", "recovery_codes"):
            with op.batch_alter_table(table, recreate="always", table_kwargs={"sqlite_autoincrement": True}):
                pass


def _chain_existing_events() -> None:
    """Hash the events written before the chain existed, lifting the append-only triggers for this one pass."""
    bind = op.get_bind()
    events = sa.table(
        "audit_events",
        *(sa.column(name) for name in ("id", "time", "account_id", "username", "actor", "ip", "action", "target")),
        *(sa.column(name) for name in ("outcome", "details", "prev_hash", "hash")),
    )
    rows = bind.execute(sa.select(events).order_by(events.c.id)).all()
    if not rows:
        return
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        op.execute("DROP TRIGGER audit_events_no_update")
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
    heads: dict[int, tuple[int, str]] = {}
    for row in rows:
        chain = chain_of(row.account_id)
        previous = heads.get(chain, (0, GENESIS))[1]
        stored = StoredEvent(**{**row._asdict(), "prev_hash": previous, "hash": None})
        digest = stored_hash(previous, stored)
        bind.execute(sa.update(events).where(events.c.id == row.id).values(prev_hash=previous, hash=digest))
        heads[chain] = (row.id, digest)
    heads_table = sa.table("audit_chain_heads", sa.column("chain"), sa.column("last_id"), sa.column("last_hash"))
    bind.execute(
        sa.insert(heads_table),
        [{"chain": chain, "last_id": last_id, "last_hash": digest} for chain, (last_id, digest) in heads.items()],
    )
    if sqlite:
        op.execute(SQLITE_TRIGGERS[0])
    else:
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")


def downgrade() -> None:
    for table in ("trusted_networks", "auth_blocks", "auth_failures", "audit_chain_heads"):
        op.drop_table(table)
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
    if op.get_bind().dialect.name == "sqlite":  # the table was rebuilt without its triggers
        for statement in SQLITE_TRIGGERS:
            op.execute(f"{statement.replace('CREATE TRIGGER', 'CREATE TRIGGER IF NOT EXISTS', 1)}")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expiry_notified_at")
        batch.drop_column("rate_limit")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("notify_new_ip")
