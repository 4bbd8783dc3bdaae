"""When what the service depends on fails: the database out of reach, the photo store
read-only or full. Every route answers 503 problem+json naming the dependency, with
Retry-After; nothing stored changes; and the service recovers when the dependency is back."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy.engine import make_url

from api.app import create_app
from api.problems import status_of
from tests.conftest import fresh_postgres_schema
from tests.factories import exported, issue_key, upload
from tests.network_faults import TcpLink
from tests.photo_support import jpeg
from weaponsdb import db, seeding
from weaponsdb.config import Settings
from weaponsdb.errors import DependencyUnavailableError

READS_AND_MATCHES = [
    ("GET", "/v1/entries/f-7", None),
    ("GET", "/v1/entries?country=KP", None),
    ("GET", "/v1/sources", None),
    ("POST", "/v1/match", {"markings": ["F-7"]}),
]


def assert_unavailable(response: Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == f"{dependency.replace(' ', '_')}_unavailable"
    assert dependency in problem["detail"]
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"


def seed(url: str) -> None:
    sessions = db.make_sessionmaker(db.make_engine(url))
    with db.transaction(sessions) as session:
        seeding.load_seed(session)


def test_postgresql_out_of_reach_answers_503_then_recovers(tmp_path):
    with fresh_postgres_schema() as direct:
        db.migrate(direct)
        seed(direct)
        server = make_url(direct)
        link = TcpLink(server.host or "127.0.0.1", server.port or 5432)
        link.connect()
        proxied = server.set(port=link.port).render_as_string(hide_password=False)
        settings = Settings(database_url=proxied, images_dir=tmp_path / "images")
        try:
            with TestClient(create_app(settings)) as client:
                assert client.get("/v1/entries/f-7").status_code == 200
                link.cut()
                for method, path, body in READS_AND_MATCHES:
                    assert_unavailable(client.request(method, path, json=body), "database")
                assert client.get("/healthz").status_code == 503
                link.connect()
                for method, path, body in READS_AND_MATCHES:
                    assert client.request(method, path, json=body).status_code == 200
        finally:
            link.cut()


def test_sqlite_file_out_of_reach_answers_503_then_recovers(tmp_path):
    folder = tmp_path / "not-yet"
    url = f"sqlite:///{folder / 'weaponsdb.sqlite3'}"
    settings = Settings(database_url=url, images_dir=tmp_path / "images")
    with TestClient(create_app(settings)) as client:
        for method, path, body in READS_AND_MATCHES:
            assert_unavailable(client.request(method, path, json=body), "database")
        folder.mkdir()
        db.migrate(url)
        seed(url)
        for method, path, body in READS_AND_MATCHES:
            assert client.request(method, path, json=body).status_code == 200


@contextmanager
def faulty_store(path: Path, fault: str) -> Iterator[None]:
    """The photo store on a read-only mount, or on a file system with no room left."""
    path.mkdir(parents=True, exist_ok=True)
    commands = {
        "read-only": [
            ["mount", "--bind", str(path), str(path)],
            ["mount", "-o", "remount,bind,ro", str(path)],
        ],
        "full": [["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(path)]],
    }[fault]
    for command in commands:
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode:
            subprocess.run(["umount", str(path)], capture_output=True)
            if os.environ.get("CI"):
                pytest.fail(f"{' '.join(command)}: {done.stderr}")
            pytest.skip(f"cannot make a {fault} store here: {done.stderr.strip()}")
    try:
        if fault == "full":
            fill(path)
        yield
    finally:
        subprocess.run(["umount", str(path)], check=True)


def fill(folder: Path) -> None:
    """Write until the file system has no room left."""
    with pytest.raises(OSError, match="No space left"):
        write_forever(folder / "filler")


def write_forever(path: Path) -> None:
    with path.open("wb", buffering=0) as file:
        while True:
            file.write(b"\0" * 4096)


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_photo_store_that_cannot_be_written_answers_503(seeded_client, seeded, settings, fault):
    key = issue_key(seeded, "photographer")
    before = exported(seeded)
    with faulty_store(settings.images_dir, fault):
        response = upload(seeded_client, key, jpeg(seed=41))
        assert_unavailable(response, "photo store")
        assert exported(seeded) == before
        assert seeded_client.get("/v1/entries/bang-122").status_code == 200
    assert upload(seeded_client, key, jpeg(seed=41)).status_code == 201


def test_a_page_shows_an_unavailable_dependency_as_503_not_a_bad_request():
    assert status_of(DependencyUnavailableError("reader", "missing data"))[0] == 503
