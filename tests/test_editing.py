"""Editing in the core, without HTTP. A write answers from the rows it changed, in memory;
what it answers must be what the database then holds, for every part and every kind of
change (tests/test_api_editing.py checks the same over HTTP)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import SOURCE_KEY, add_entries, change, cited, photo_record, synthetic_entry
from weaponsdb import db, editing, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.catalogue.parts import COLLECTIONS, PARTS
from weaponsdb.errors import ConflictError, InvalidInputError, PreconditionFailedError

ITEMS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "names": (
        {"text": "SYN-A", "kind": "alias", "citations": cited()},
        {"text": "SYN-B", "kind": "designation"},
    ),
    "features": (
        {"kind": "shape", "description": "Synthetic A"},
        {"kind": "colour", "description": "Synthetic B", "citations": cited("disputed")},
    ),
    "markings": (
        {"text": "SYN-1", "kind": "model designation"},
        {"text": "SYN-2", "script": "Latn"},
    ),
    "measurements": (
        {"quantity": "length", "value": 100, "unit": "mm"},
        {"quantity": "weight", "value": 2.5, "unit": "kg"},
    ),
    "producers": (
        {"producer": "synthetic-works", "role": "maker"},
        {"producer": "synthetic-works", "citations": cited()},
    ),
    "relations": (
        {"kind": "variant of", "target": "synthetic-base"},
        {"kind": "copy of", "target": "synthetic-base"},
    ),
    "instances": (
        {"event": "Synthetic event A", "country": "IL"},
        {
            "event": "Synthetic event B",
            "date": "2024",
            "latitude": -12.5,
            "longitude": 179.9,
            "precision": "region",
        },
    ),
    "identifiers": (
        {"scheme": "wikidata", "value": "Q999999901"},
        {"scheme": "commons", "value": "Synthetic test file.jpg", "note": "licence not checked"},
    ),
    "citations": (
        {"source": SOURCE_KEY, "confidence": "reported", "field": "name"},
        {"source": SOURCE_KEY, "confidence": "inferred"},
    ),
}


@pytest.fixture
def catalogue(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Two synthetic entries, a producer, the test source, and a photo of a marking."""
    with db.transaction(sessions) as session:
        session.add(
            convert.producer_row(
                schemas.ProducerRecord(key="synthetic-works", name="Synthetic works")
            )
        )
    marked = synthetic_entry(
        "synthetic-marked",
        markings=[{"text": "SYN-M0"}, {"text": "SYN-M1"}],
        photos=[photo_record(credit="Synthetic", licence="CC0", marking_index=1)],
    )
    add_entries(sessions, synthetic_entry("synthetic-base"), marked)
    return sessions


def as_stored(sessions: sessionmaker[Session], slug: str) -> schemas.EntryRecord:
    with sessions() as session:
        return convert.entry_record(read.get_entry(session, slug))


def test_every_part_but_photos_is_edited_item_by_item():
    assert set(COLLECTIONS) == {p.name for p in PARTS if p.name != "photos"} | {"citations"}
    assert set(ITEMS) == set(COLLECTIONS)


@pytest.mark.parametrize("name", sorted(ITEMS))
def test_each_change_answers_what_is_stored(catalogue, name):
    part, (first, second) = COLLECTIONS[name], ITEMS[name]
    slug = "synthetic-marked"
    with db.transaction(catalogue) as session:
        added = editing.add_item(session, change(slug, 1), part, part.record.model_validate(first))
    assert added.number == 2
    assert added.record == as_stored(catalogue, slug)
    index = len(getattr(added.record, name)) - 1
    with db.transaction(catalogue) as session:
        replaced = editing.replace_item(
            session, change(slug, 2), part, index, part.record.model_validate(second)
        )
    assert replaced.record == as_stored(catalogue, slug)
    assert getattr(replaced.record, name)[index] == part.record.model_validate(second)
    with db.transaction(catalogue) as session:
        removed = editing.remove_item(session, change(slug, 3), part, index)
    assert removed.record == as_stored(catalogue, slug)
    assert len(getattr(removed.record, name)) == index


def test_removing_a_marking_keeps_photos_pointing_at_theirs(catalogue):
    part = COLLECTIONS["markings"]
    with db.transaction(catalogue) as session:
        shifted = editing.remove_item(session, change("synthetic-marked", 1), part, 0)
    assert shifted.record.photos[0].marking_index == 0  # SYN-M1, now first
    with db.transaction(catalogue) as session:
        gone = editing.remove_item(session, change("synthetic-marked", 2), part, 0)
    assert gone.record.photos[0].marking_index is None
    assert gone.record == as_stored(catalogue, "synthetic-marked")


def test_the_entrys_own_attributes_and_retraction(catalogue):
    with db.transaction(catalogue) as session:
        changed = editing.update_entry(
            session, change("synthetic-base", 1), editing.EntryChanges(country="KP", family=None)
        )
    assert changed.record == as_stored(catalogue, "synthetic-base")
    assert changed.record.updated_at is not None
    with db.transaction(catalogue) as session:
        retracted = editing.retract_entry(session, change("synthetic-base", 2), "Synthetic reason")
    assert retracted.record == as_stored(catalogue, "synthetic-base")
    with pytest.raises(ConflictError), db.transaction(catalogue) as session:
        editing.update_entry(session, change("synthetic-base"), editing.EntryChanges(family="x"))


def test_a_stale_version_changes_nothing(catalogue):
    with pytest.raises(PreconditionFailedError), db.transaction(catalogue) as session:
        editing.update_entry(session, change("synthetic-base", 7), editing.EntryChanges(family="x"))
    assert as_stored(catalogue, "synthetic-base").family is None


@pytest.mark.parametrize(
    ("name", "item", "field"),
    [
        ("relations", {"kind": "variant of", "target": "synthetic-marked"}, "target"),
        ("relations", {"kind": "variant of", "target": "nowhere"}, "target"),
        (
            "names",
            {"text": "x", "kind": "alias", "citations": cited(source_key="nope")},
            "citations[0].source",
        ),
        ("citations", {"source": "nope", "confidence": "reported"}, "source"),
        ("producers", {"producer": "nobody"}, "producer"),
    ],
)
def test_bad_references_are_named_from_the_item(catalogue, name, item, field):
    part = COLLECTIONS[name]
    with pytest.raises(InvalidInputError) as raised, db.transaction(catalogue) as session:
        editing.add_item(
            session, change("synthetic-marked"), part, part.record.model_validate(item)
        )
    assert [e.field for e in raised.value.errors] == [field]


def test_a_new_entry_is_its_first_revision(catalogue):
    record = schemas.EntryRecord.model_validate(
        synthetic_entry(
            "synthetic-new",
            citations=cited(),
            relations=[{"kind": "variant of", "target": "synthetic-base"}],
            producers=[{"producer": "synthetic-works"}],
        )
    )
    with db.transaction(catalogue) as session:
        created = editing.create_entry(session, record, "tester", "A synthetic entry")
    assert created.number == 1
    assert created.record == as_stored(catalogue, "synthetic-new")
    itself = record.model_copy(
        update={
            "slug": "synthetic-self",
            "relations": [schemas.RelationRecord(kind="variant of", target="synthetic-self")],
        }
    )
    with pytest.raises(InvalidInputError) as raised, db.transaction(catalogue) as session:
        editing.create_entry(session, itself, "tester", "Related to itself")
    assert [e.field for e in raised.value.errors] == ["relations[0].target"]
