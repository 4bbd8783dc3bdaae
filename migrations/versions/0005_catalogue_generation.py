"""The catalogue generation and change log: what lets every process serving matches keep its
in-memory index in step with the catalogue.

`catalogue_generation` holds one number, bumped by any change to entries, their names or
their markings; `catalogue_changes` records which entry each change touched, at which
generation (a NULL entry: everything, after a TRUNCATE). A matcher built at generation G
reloads only the entries changed after G.

Triggers rather than application code keep both, so every way of writing (the API, imports,
restores, plain SQL) is covered, in the writing transaction. The bump comes first and holds
the generation row until commit, so changes commit in generation order and a reader that
sees generation G sees every change logged at or before G.

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

# Each watched table, and the column that names the entry a row belongs to.
WATCHED = {"entries": "id", "entry_names": "entry_id", "markings": "entry_id"}
BUMP = "UPDATE catalogue_generation SET value = value + 1 WHERE id = 1"
LOG = (
    "INSERT INTO catalogue_changes (generation, entry_id) "
    "SELECT value, {entry} FROM catalogue_generation WHERE id = 1"
)

POSTGRESQL_FUNCTIONS = f"""
CREATE FUNCTION bump_catalogue_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {BUMP};
    IF TG_OP = 'TRUNCATE' THEN
        {LOG.format(entry="NULL")};
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION log_catalogue_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        {LOG.format(entry="(to_jsonb(NEW) ->> TG_ARGV[0])::integer")};
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {LOG.format(entry="(to_jsonb(OLD) ->> TG_ARGV[0])::integer")};
    END IF;
    RETURN NULL;
END $$;
"""


def upgrade() -> None:
    op.create_table(
        "catalogue_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalogue_generation_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_generation")),
    )
    op.create_table(
        "catalogue_changes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_changes")),
    )
    op.create_index(op.f("ix_catalogue_changes_generation"), "catalogue_changes", ["generation"])
    op.execute("INSERT INTO catalogue_generation (id, value) VALUES (1, 1)")
    if op.get_context().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _postgresql_triggers() -> None:
    op.execute(POSTGRESQL_FUNCTIONS)
    for table, column in WATCHED.items():
        op.execute(
            f"CREATE TRIGGER {table}_bump_generation "
            f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_generation()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_log_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION log_catalogue_change('{column}')"
        )


def _sqlite_triggers() -> None:
    # SQLite has only row triggers, and one writer at a time: bump, then log, per row.
    for table, column in WATCHED.items():
        for event, rows in (("INSERT", ["NEW"]), ("UPDATE", ["NEW", "OLD"]), ("DELETE", ["OLD"])):
            logs = "; ".join(LOG.format(entry=f"{row}.{column}") for row in rows)
            op.execute(
                f"CREATE TRIGGER {table}_changed_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; {logs}; END"
            )


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(f"DROP TRIGGER {table}_bump_generation ON {table}")
            op.execute(f"DROP TRIGGER {table}_log_change ON {table}")
        op.execute("DROP FUNCTION log_catalogue_change()")
        op.execute("DROP FUNCTION bump_catalogue_generation()")
    else:
        for table in WATCHED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_changed_{event}")
    op.drop_index(op.f("ix_catalogue_changes_generation"), table_name="catalogue_changes")
    op.drop_table("catalogue_changes")
    op.drop_table("catalogue_generation")
