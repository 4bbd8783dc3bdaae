"""The schema is built by Alembic alone, matches the models, and can be taken down again."""

from alembic import command
from sqlalchemy import inspect

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
