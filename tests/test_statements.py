"""A write answers from the one load it makes: counted in SQL statements sent to the
database, on SQLite and PostgreSQL. Before writes answered from their revision, a PATCH of
the F-7 took 59 statements and a GET 15."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
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
    assert statements_of(engine, requests[label]) <= budget


def test_attaching_a_photo_loads_the_entry_once(seeded_client, editor, engine):
    def attach():
        return seeded_client.post(
            "/v1/entries/f-7/photos",
            files={"file": ("photo.jpg", jpeg(61), "image/jpeg")},
            data=PROVENANCE,
            headers=headers(editor),
        )

    with counted(engine) as statements:
        response = attach()
    assert response.status_code == 201, response.text
    assert len(statements) <= WRITE_BUDGET
    loads = [s for s in statements if s.lstrip().upper().startswith("SELECT ENTRIES.ID")]
    assert len(loads) == 1, loads
