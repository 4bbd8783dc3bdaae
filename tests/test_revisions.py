"""Revisions in the core, without HTTP: what a change records, initial revisions, and
histories carried by import."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.factories import change, entry_record
from weaponsdb import db, editing, models, revisions, schemas, transfer
from weaponsdb.catalogue import convert, read
from weaponsdb.errors import InvalidInputError
from weaponsdb.revisions import ENTRIES, SOURCES


def test_a_change_records_the_entry_it_answers_with(seeded):
    with db.transaction(seeded) as session:
        changed = editing.update_entry(
            session, change("bang-122", 1), editing.EntryChanges(family="Synthetic family")
        )
    assert (changed.number, changed.record.family) == (2, "Synthetic family")
    with seeded() as session:
        (latest,) = revisions.list_revisions(session, ENTRIES, "bang-122", 1, "1").items
        assert revisions.snapshot(ENTRIES, latest) == changed.record
        assert convert.entry_record(read.get_entry(session, "bang-122")) == changed.record


def test_source_revisions_count_on(seeded):
    record = schemas.SourceRecord(key="synthetic-source", kind="other", title="Synthetic")
    with db.transaction(seeded) as session:
        first = editing.create_source(session, record, "tester", "A synthetic source")
        second = editing.update_source(
            session,
            "synthetic-source",
            editing.source_etag(first.record),
            record.model_copy(update={"title": "Synthetic, retitled"}),
            "tester",
            "Retitled",
        )
    assert (first.number, second.number) == (1, 2)
    with seeded() as session:
        history = revisions.list_revisions(session, SOURCES, "synthetic-source").items
        assert [revisions.snapshot(SOURCES, r).title for r in history] == [
            "Synthetic",
            "Synthetic, retitled",
        ]


def test_a_history_is_exported_and_numbered_per_kind(seeded):
    with seeded() as session:
        entries = revisions.export_revisions(session, ENTRIES)
        sources = revisions.export_revisions(session, SOURCES)
    assert sorted(r.entry for r in entries) == ["bang-122", "f-7", "type-58"]
    assert {(r.number, r.author) for r in entries} == {(1, "seed")}
    assert {(r.number, r.author) for r in sources} == {(1, "seed")}


def test_an_import_without_history_starts_it(sessions):
    record = entry_record("synthetic-import", "Synthetic imported entry")
    with db.transaction(sessions) as session:
        transfer.import_catalogue(
            session, schemas.CatalogueDocument(entries=[record]), transfer.OnConflict.FAIL
        )
    with db.transaction(sessions) as session:
        history = revisions.list_revisions(session, ENTRIES, "synthetic-import").items
        assert [(r.number, r.author) for r in history] == [(1, "import")]
        assert revisions.snapshot(ENTRIES, history[0]).name == "Synthetic imported entry"


def test_a_history_with_gaps_is_refused(sessions):
    record = entry_record("synthetic-import", "Synthetic imported entry")
    gap = schemas.RevisionRecord(
        entry="synthetic-import",
        number=2,
        created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        author="someone",
        note="A gap before me",
        snapshot=record,
    )
    document = schemas.CatalogueDocument(entries=[record], revisions=[gap])
    with pytest.raises(InvalidInputError, match="numbered"), db.transaction(sessions) as session:
        transfer.import_catalogue(session, document, transfer.OnConflict.FAIL)
    with db.transaction(sessions) as session:
        assert session.scalars(select(models.Entry)).all() == []


def test_entries_older_than_revisions_get_their_first_one(sessions):
    with db.transaction(sessions) as session:
        session.add(models.Entry(slug="synthetic-old", name="Synthetic old entry"))
    with db.transaction(sessions) as session:
        assert revisions.record_missing_initial_revisions(session) == 1
        assert revisions.record_missing_initial_revisions(session) == 0
        (first,) = revisions.list_revisions(session, ENTRIES, "synthetic-old").items
        assert (first.number, first.author) == (1, "migration")
        session.add(models.Source(key="synthetic-old-source", kind="other"))
        assert revisions.record_missing_initial_revisions(session) == 1
        (source,) = revisions.list_revisions(session, SOURCES, "synthetic-old-source").items
        assert (source.number, source.author) == (1, "migration")
