"""DNS zones in PowerDNS's own tables; the accounts' domains move to `account_domains` to make room for them.

PowerDNS reads `domains` and `records` (its generic SQL schema, 4.7): the panel writes them in its own transactions,
so the nameserver serves each edit as soon as it commits. The account domains table is rebuilt under its new name
with its rows and ids; zones for domains that existed before are made when the server next starts (their content
depends on the server's DNS settings).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RECORD_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _account_domains(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=f"fk_{name}_account_id_accounts", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("domain", name=f"uq_{name}_domain"),
        sqlite_autoincrement=True,
    )
    op.create_index(f"ix_{name}_account_id", name, ["account_id"])


def _move(source: str, target: str) -> None:
    columns = "id, account_id, domain, created_at"
    op.execute(f"INSERT INTO {target} ({columns}) SELECT {columns} FROM {source}")  # noqa: S608 - our own names
    if op.get_bind().dialect.name == "postgresql":
        following = f"COALESCE((SELECT max(id) FROM {target}), 0) + 1"  # noqa: S608 - our own names
        op.execute(f"SELECT setval(pg_get_serial_sequence('{target}', 'id'), {following}, false)")
    op.drop_index(f"ix_{source}_account_id", table_name=source)
    op.drop_table(source)


def upgrade() -> None:
    _account_domains("account_domains")
    _move("domains", "account_domains")

    op.create_table(
        "domains",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("master", sa.String(128)),
        sa.Column("last_check", sa.Integer()),
        sa.Column("type", sa.String(8), nullable=False),
        sa.Column("notified_serial", sa.BigInteger()),
        sa.Column("account", sa.String(40)),
        sa.Column("options", sa.Text()),
        sa.Column("catalog", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_domains"),
        sa.UniqueConstraint("name", name="uq_domains_name"),
        sa.CheckConstraint("name = lower(name)", name="ck_domains_lowercase_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_domains_catalog", "domains", ["catalog"])
    op.create_table(
        "records",
        sa.Column("id", RECORD_ID, primary_key=True),
        sa.Column("domain_id", sa.Integer()),
        sa.Column("name", sa.String(255)),
        sa.Column("type", sa.String(10)),
        sa.Column("content", sa.Text()),
        sa.Column("ttl", sa.Integer()),
        sa.Column("prio", sa.Integer()),
        sa.Column("disabled", sa.Boolean(), server_default=sa.false()),
        sa.Column("ordername", sa.String(255)),
        sa.Column("auth", sa.Boolean(), server_default=sa.text("true")),
        sa.PrimaryKeyConstraint("id", name="pk_records"),
        sa.ForeignKeyConstraint(["domain_id"], ["domains.id"], name="fk_records_domain_id_domains", ondelete="CASCADE"),
        sa.CheckConstraint("name = lower(name)", name="ck_records_lowercase_name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_records_domain_id", "records", ["domain_id"])
    op.create_index("ix_records_name_type", "records", ["name", "type"])
    op.create_index("ix_records_domain_id_ordername", "records", ["domain_id", "ordername"])
    op.create_table(
        "supermasters",
        sa.Column("ip", sa.String(64), nullable=False),
        sa.Column("nameserver", sa.String(255), nullable=False),
        sa.Column("account", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("ip", "nameserver", name="pk_supermasters"),
    )
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("modified_at", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(40)),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_comments"),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domains.id"], name="fk_comments_domain_id_domains", ondelete="CASCADE"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_comments_domain_id_name_type", "comments", ["domain_id", "name", "type"])
    op.create_index("ix_comments_domain_id_modified_at", "comments", ["domain_id", "modified_at"])
    for table, columns in (
        ("domainmetadata", [sa.Column("kind", sa.String(32)), sa.Column("content", sa.Text())]),
        (
            "cryptokeys",
            [
                sa.Column("flags", sa.Integer(), nullable=False),
                sa.Column("active", sa.Boolean()),
                sa.Column("published", sa.Boolean(), server_default=sa.text("true")),
                sa.Column("content", sa.Text()),
            ],
        ),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column("domain_id", sa.Integer(), nullable=False),
            *columns,
            sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
            sa.ForeignKeyConstraint(
                ["domain_id"], ["domains.id"], name=f"fk_{table}_domain_id_domains", ondelete="CASCADE"
            ),
            sqlite_autoincrement=True,
        )
        op.create_index(f"ix_{table}_domain_id", table, ["domain_id"])
    op.create_table(
        "tsigkeys",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(255)),
        sa.Column("algorithm", sa.String(50)),
        sa.Column("secret", sa.String(255)),
        sa.PrimaryKeyConstraint("id", name="pk_tsigkeys"),
        sa.UniqueConstraint("name", "algorithm", name="uq_tsigkeys_name_algorithm"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    for table in ("tsigkeys", "cryptokeys", "domainmetadata", "comments", "supermasters", "records", "domains"):
        op.drop_table(table)
    _account_domains("domains")
    _move("account_domains", "domains")
