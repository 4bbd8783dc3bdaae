"""Features and photos move the catalogue generation too: the matcher keeps each entry's
facts for ranking (its features, its first photos) beside its index, so a change to them must
reach every process as a change to the entry does. Same triggers as 0005, on two more tables.

Revision ID: 0007_scale
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_scale"
down_revision: str | None = "0007_standards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WATCHED = ("features", "photos")  # both name their entry in entry_id
BUMP = "UPDATE catalogue_generation SET value = value + 1 WHERE id = 1"
LOG = (
    "INSERT INTO catalogue_changes (generation, entry_id) "
    "SELECT value, {row}.entry_id FROM catalogue_generation WHERE id = 1"
)
EVENTS = {"INSERT": ("NEW",), "UPDATE": ("NEW", "OLD"), "DELETE": ("OLD",)}


def upgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in WATCHED:
        if postgresql:  # the functions of 0005
            op.execute(
                f"CREATE TRIGGER {table}_bump_generation "
                f"BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_generation()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_log_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION log_catalogue_change('entry_id')"
            )
            continue
        for event, rows in EVENTS.items():
            logs = "; ".join(LOG.format(row=row) for row in rows)
            op.execute(
                f"CREATE TRIGGER {table}_changed_{event.lower()} AFTER {event} ON {table} "
                f"BEGIN {BUMP}; {logs}; END"
            )


def downgrade() -> None:
    postgresql = op.get_context().dialect.name == "postgresql"
    for table in WATCHED:
        if postgresql:
            op.execute(f"DROP TRIGGER {table}_bump_generation ON {table}")
            op.execute(f"DROP TRIGGER {table}_log_change ON {table}")
            continue
        for event in EVENTS:
            op.execute(f"DROP TRIGGER {table}_changed_{event.lower()}")
