"""External identifiers: of entries (their Wikidata items, and Commons files that show
them), of producers and of sources.

Revision ID: 0007_standards
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007_standards"
down_revision: str | None = "0007_field"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column(
            name,
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        )
        for name in ("created_at", "updated_at")
    ]


def _owned_identifiers(table: str, owner: str, owners: str) -> None:
    """A table of the identifiers of a producer or source (*owner*, in table *owners*)."""
    op.create_table(
        table,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        *_timestamps(),
        sa.CheckConstraint(
            "scheme IN ('wikidata', 'commons')", name=op.f(f"ck_{table}_scheme_vocab")
        ),
        sa.ForeignKeyConstraint(
            [f"{owner}_id"],
            [f"{owners}.id"],
            name=op.f(f"fk_{table}_{owner}_id_{owners}"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    )
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{table}_{owner}_id"), [f"{owner}_id"], unique=False)


def upgrade() -> None:
    _owned_identifiers("source_identifiers", "source", "sources")
    _owned_identifiers("producer_identifiers", "producer", "producers")
    with op.batch_alter_table("producer_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_producer_identifiers_scheme_value", ["scheme", "value"], unique=False
        )
    op.create_table(
        "entry_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "scheme IN ('wikidata', 'commons')", name=op.f("ck_entry_identifiers_scheme_vocab")
        ),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["entries.id"],
            name=op.f("fk_entry_identifiers_entry_id_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_entry_identifiers")),
        sa.UniqueConstraint(
            "entry_id", "scheme", "value", name=op.f("uq_entry_identifiers_entry_id_scheme_value")
        ),
    )
    with op.batch_alter_table("entry_identifiers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_entry_identifiers_entry_id"), ["entry_id"], unique=False
        )
        batch_op.create_index(
            "ix_entry_identifiers_scheme_value", ["scheme", "value"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("producer_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_producer_identifiers_scheme_value")
    for table, owner in (("producer_identifiers", "producer"), ("source_identifiers", "source")):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{table}_{owner}_id"))
        op.drop_table(table)
    with op.batch_alter_table("entry_identifiers", schema=None) as batch_op:
        batch_op.drop_index("ix_entry_identifiers_scheme_value")
        batch_op.drop_index(batch_op.f("ix_entry_identifiers_entry_id"))
    op.drop_table("entry_identifiers")
