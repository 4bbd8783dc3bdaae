"""Test databases: every test that asks for one runs on SQLite and on PostgreSQL, each time
on a freshly migrated, empty catalogue."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from tests.factories import issue_key
from weaponsdb import db, seeding
from weaponsdb.config import Settings
from weaponsdb.vocab import Role

POSTGRES_SERVER = os.environ.get(
    "WEAPONSDB_TEST_POSTGRES_URL", "postgresql+psycopg://127.0.0.1:5432/test"
)


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        with create_engine(POSTGRES_SERVER).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any failure to connect means the same: no server
        return str(error).splitlines()[0]
    return None


def in_schema(url: str, schema: str) -> str:
    """Each test run works in its own schema, so concurrent runs never meet."""
    return f"{url}?options=-csearch_path%3D{schema},public"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty template database for the session; yields its URL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        url = f"sqlite:///{path}"
        db.migrate(url)
        yield url
        return
    with fresh_postgres_schema() as url:
        db.migrate(url)
        yield url


@contextmanager
def fresh_postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema, dropped afterwards; skips (fails in CI) without
    a server."""
    problem = postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {problem}")
        pytest.skip(f"PostgreSQL not reachable: {problem}")
    schema = f"wdb_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_SERVER)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield in_schema(POSTGRES_SERVER, schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> str:
    """A clean, migrated database for this test alone."""
    if backend.startswith("sqlite"):
        path = tmp_path / "weaponsdb.sqlite3"
        shutil.copyfile(backend.removeprefix("sqlite:///"), path)
        return f"sqlite:///{path}"
    engine = db.make_engine(backend)
    with engine.begin() as connection:
        kept = {"alembic_version", "catalogue_generation"}  # schema state, not data
        tables = [t for t in inspect(connection).get_table_names() if t not in kept]
        connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return backend


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return db.make_sessionmaker(engine)


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with db.transaction(sessions) as session:
        seeding.load_seed(session)
    return sessions


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=database_url, images_dir=tmp_path / "images")


@pytest.fixture
def client(settings: Settings, engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(settings, engine)) as client:
        yield client


@pytest.fixture
def seeded_client(seeded: sessionmaker[Session], client: TestClient) -> TestClient:
    return client


@pytest.fixture
def editor(seeded: sessionmaker[Session]) -> str:
    """The secret of an editor key named 'alice' on the seeded catalogue."""
    return issue_key(seeded, "alice")


@pytest.fixture
def contributor(seeded: sessionmaker[Session]) -> str:
    """The secret of a contributor key named 'field-worker' on the seeded catalogue."""
    return issue_key(seeded, "field-worker", Role.CONTRIBUTOR)


@pytest.fixture
def admin(seeded: sessionmaker[Session]) -> str:
    """The secret of an admin key named 'chief' on the seeded catalogue."""
    return issue_key(seeded, "chief", Role.ADMIN)
