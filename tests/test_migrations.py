"""The schema is built by Alembic alone, matches the models, and can be taken down again."""

from alembic import command
from sqlalchemy import inspect, text

from tests.test_cli_keys import weaponsdb
from weaponsdb import db
from weaponsdb.models import Base


def table_names(url: str) -> set[str]:
    engine = db.make_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_builds_every_table_of_the_models(database_url):
    assert set(Base.metadata.tables) <= table_names(database_url)


def test_models_and_migrations_agree(database_url):
    # Fails when a model changes without a migration that makes the same change.
    command.check(db.alembic_config(database_url))


def test_downgrade_to_base_and_back(database_url):
    db.downgrade(database_url, "base")
    assert table_names(database_url) <= {"alembic_version"}
    db.migrate(database_url)
    assert set(Base.metadata.tables) <= table_names(database_url)
    engine = db.make_engine(database_url)
    assert db.current_revision(engine) == db.head_revision()
    engine.dispose()


def test_editing_migration_keeps_data_and_backfills_first_revisions(database_url):
    db.downgrade(database_url, "0001")
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO entries (slug, name, status)"
                    " VALUES ('synthetic-old', 'Synthetic old entry', 'draft')"
                )
            )
            connection.execute(
                text("INSERT INTO sources (key, kind) VALUES ('synthetic-source', 'other')")
            )
        migrated = weaponsdb(database_url, "migrate")
        assert migrated.returncode == 0, migrated.stderr
        assert "revision 1 of 2" in migrated.stdout
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT e.slug, e.version, r.number, r.author FROM entries e "
                    "JOIN revisions r ON r.entry_id = e.id"
                )
            ).all()
        assert [tuple(row) for row in rows] == [("synthetic-old", 1, 1, "migration")]
        again = weaponsdb(database_url, "migrate")
        assert "Recorded" not in again.stdout
    finally:
        engine.dispose()
