"""The catalogue generation: a counter the database bumps whenever anything the matcher
indexes changes (entries, their names, their markings), so that every process serving
matches knows, with one cheap read, when its in-memory index is stale.

Triggers rather than application code keep it: every way of writing (the API, imports,
restores, plain SQL) bumps it, in the writing transaction. PostgreSQL bumps once per
statement; SQLite has only row triggers.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED_TABLES = ("entries", "entry_names", "markings")
BUMP = "UPDATE catalogue_generation SET value = value + 1 WHERE id = 1"


def upgrade() -> None:
    op.create_table(
        "catalogue_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalogue_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_generation")),
    )
    op.execute("INSERT INTO catalogue_generation (id, value) VALUES (1, 1)")
    if op.get_context().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION bump_catalogue_generation() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN {BUMP}; RETURN NULL; END $$"
        )
        for table in WATCHED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_bump_generation "
                f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_generation()"
            )
    else:
        for table in WATCHED_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_bump_generation_{event.lower()} "
                    f"AFTER {event} ON {table} BEGIN {BUMP}; END"
                )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in WATCHED_TABLES:
            op.execute(f"DROP TRIGGER {table}_bump_generation ON {table}")
        op.execute("DROP FUNCTION bump_catalogue_generation()")
    else:
        for table in WATCHED_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_bump_generation_{event}")
    op.drop_table("catalogue_generation")
