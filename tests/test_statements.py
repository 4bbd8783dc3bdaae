"""A write answers from the one load it makes: counted in SQL statements sent to the
database, on SQLite and PostgreSQL. Before writes answered from their revision, a PATCH of
the F-7 took 59 statements and a GET 15."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from tests.factories import PROVENANCE, headers
from tests.photo_support import jpeg

# A write: the key, the version, one full load (one query per part of an entry), its own
# statements, and the sources the answer shows with their identifiers. 22 and 17 since
# identifiers: a part of entries (one query), and of sources (one query).
WRITE_BUDGET = 22
READ_BUDGET = 17


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def index_built(client: TestClient) -> None:
    """Waits for the match index the service builds in the background at start, whose
    statements would be counted with the request's."""
    deadline = time.monotonic() + 30
    while not client.get("/healthz").json()["matching_index"].startswith("ready"):
        assert time.monotonic() < deadline, "the match index was not built"
        time.sleep(0.05)


def statements_of(engine: Engine, request: Callable[[], Any]) -> int:
    with counted(engine) as statements:
        response = request()
    assert response.status_code < 300, response.text
    return len(statements)


@pytest.mark.parametrize(
    ("label", "budget"),
    [("read", READ_BUDGET), ("patch", WRITE_BUDGET), ("add a name", WRITE_BUDGET)],
)
def test_reads_and_writes_stay_within_their_statements(
    seeded_client, editor, engine, label, budget
):
    requests = {
        "read": lambda: seeded_client.get("/v1/entries/f-7"),
        "patch": lambda: seeded_client.patch(
            "/v1/entries/f-7", json={"family": "RPG-7"}, headers=headers(editor, 1)
        ),
        "add a name": lambda: seeded_client.post(
            "/v1/entries/f-7/names",
            json={"text": "F7", "script": "Latn", "kind": "alias"},
            headers=headers(editor, 1),
        ),
    }
    index_built(seeded_client)
    assert statements_of(engine, requests[label]) <= budget


def test_attaching_a_photo_loads_the_entry_once(seeded_client, editor, engine):
    def attach():
        return seeded_client.post(
            "/v1/entries/f-7/photos",
            files={"file": ("photo.jpg", jpeg(61), "image/jpeg")},
            data=PROVENANCE,
            headers=headers(editor),
        )

    index_built(seeded_client)
    with counted(engine) as statements:
        response = attach()
    assert response.status_code == 201, response.text
    assert len(statements) <= WRITE_BUDGET
    loads = [s for s in statements if s.lstrip().upper().startswith("SELECT ENTRIES.ID")]
    assert len(loads) == 1, loads


def test_a_match_reads_only_the_catalogue_generation_once_the_index_is_built(seeded_client, engine):
    """The facts ranking needs come with the index (one query per catalogue generation), not
    a read per match."""
    query = {"markings": ["F-7"], "calibre_mm": 40, "features": ["fins"]}
    assert seeded_client.post("/v1/match", json=query).status_code == 200  # builds the index
    with counted(engine) as statements:
        answer = seeded_client.post("/v1/match", json=query)
    assert answer.json()["candidates"][0]["slug"] == "f-7"
    assert [s for s in statements if "catalogue_generation" not in s] == []


def test_health_checks_the_database_at_most_once_a_second(client, engine):
    index_built(client)
    started = time.monotonic()
    with counted(engine) as statements:
        answers = [client.get("/healthz") for _ in range(50)]
    seconds = time.monotonic() - started
    assert {answer.status_code for answer in answers} == {200}
    assert len(statements) <= 1 + seconds  # one check, and one more each second it took


def test_health_says_when_the_match_index_is_ready(seeded_client):
    seeded_client.post("/v1/match", json={"markings": ["F-7"]})
    index = seeded_client.get("/healthz").json()["matching_index"]
    assert index.startswith("ready (generation ")
