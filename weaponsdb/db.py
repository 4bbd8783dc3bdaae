"""Engines, sessions and migrations for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from weaponsdb.config import PROJECT_ROOT


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written without a driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


# The largest value of an `integer` column (PostgreSQL's is 32 bits): versions, revision
# numbers and positions a request names are bounded by it, so that none reaches the
# database as an integer it cannot compare.
INTEGER_MAX = 2**31 - 1


def make_engine(url: str, statement_timeout_ms: int | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False}, **kwargs)
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **kwargs)
    if statement_timeout_ms:

        def limit_statements(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {int(statement_timeout_ms)}")
            dbapi_connection.commit()

        event.listen(engine, "connect", limit_statements)
    return engine


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # off by default in SQLite
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # SQLite's own lower() folds ASCII only; names in Cyrillic or Greek must match too.
    dbapi_connection.create_function("lower", 1, _lower, deterministic=True)


def _lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed whole on success, rolled back whole on any error."""
    with sessions() as session, session.begin():
        yield session


def on_rollback(session: Session, undo: Callable[[], None]) -> None:
    """Run *undo* if the session's transaction rolls back instead of committing: for what a
    change did outside the database (files written), so that a failed one leaves nothing."""
    pending = [undo]

    def committed(_: Session) -> None:
        pending.clear()

    def rolled_back(_: Session) -> None:
        while pending:
            pending.pop()()

    event.listen(session, "after_commit", committed)
    event.listen(session, "after_rollback", rolled_back)


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # Passed as an attribute, not an ini option, so '%' in passwords needs no escaping.
    config.attributes["database_url"] = normalise_url(url)
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)


@lru_cache(maxsize=1)
def head_revision() -> str | None:
    """The newest migration this code knows; fixed for the life of the process."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return current_revision_of(connection)


def current_revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
