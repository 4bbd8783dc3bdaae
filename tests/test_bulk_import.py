"""Imports write entries in bulk (catalogue/bulk.py): the same rows, revisions and change log
as building ORM objects entry by entry did, and a bad file still changes nothing.

The reference is the ORM path the import took before (convert.entry_row, one object a row,
then revision 1 snapshotted from the entries loaded again), built here from the converters
the editing API still uses. Every document is synthetic test data."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.factories import exported, source
from weaponsdb import db, models, revisions, schemas, transfer
from weaponsdb.catalogue import bulk, convert, read
from weaponsdb.catalogue.parts import PARTS
from weaponsdb.errors import InvalidInputError
from weaponsdb.matching.matcher import Matcher, MatchQuery
from weaponsdb.revisions import ENTRIES, SOURCES

# More entries than bulk.CHUNK, so that parts and citations span several statements.
ENTRIES_IN_FILE = bulk.CHUNK + 37
# Timestamps the database sets when a row is written: they differ between two imports.
WRITTEN_AT = {"created_at", "updated_at"}


def entry(n: int, entries: int) -> dict[str, Any]:
    """Entry *n* of a synthetic catalogue: every kind of part, cited in every way."""
    slug = f"synthetic-bulk-{n}"

    # Each claim its own lists, so that a test can spoil one claim alone.
    def cite() -> list[dict[str, str]]:
        return [{"source": "synthetic-bulk-a", "confidence": "reported"}]

    def relayed() -> list[dict[str, str]]:
        return [{"source": "synthetic-bulk-b", "confidence": "inferred", "via": "synthetic-bulk-a"}]

    record: dict[str, Any] = {
        "slug": slug,
        "name": f"Synthetic bulk item {n} (test data, not a real weapon)",
        "status": "published",
        "category": ["rifle", "rocket", "mine"][n % 3],
        "calibre_mm": [7.62, 122, 0.29000000000000004][n % 3],
        "country": ["KP", "IR", None][n % 3],
        "citations": cite()
        + ([{**relayed()[0], "field": "country", "locator": "p. 4"}] if n % 2 else []),
        "names": [
            {"text": f"SYN-{n}", "script": "Latn", "kind": "designation"},
            {
                "text": f"신-{n}",
                "script": "Hang",
                "language": "ko",
                "kind": "alias",
                "citations": cite(),
            },
        ],
        "markings": [
            {"text": f"SYNB-{n} LOT 0042", "pattern": f"SYNB-{n} LOT {{lot}}", "citations": cite()},
            {"text": f"{n} SYN", "kind": "factory code", "position": "base"},
        ],
        "relations": [
            # The first entry names the last one, further on in the file.
            {
                "kind": "variant of",
                "target": f"synthetic-bulk-{(n - 1) % entries}",
                "citations": relayed(),
            }
        ],
    }
    if n % 2:
        record["features"] = [
            {"kind": "colour", "description": "Synthetic band", "citations": relayed()}
        ]
        record["producers"] = [
            {"producer": "synthetic-works", "role": "maker", "citations": cite()}
        ]
    if n % 3 == 0:
        record["measurements"] = [
            {"quantity": "weight", "value": 1.234, "unit": "kg", "citations": cite()}
        ]
        record["photos"] = [
            {
                "sha256": f"{n:064x}",
                "original_sha256": f"{n + 1:064x}",
                "media_type": "image/png",
                "byte_size": 10,
                "width": 10,
                "height": 10,
                "credit": "Synthetic test data",
                "licence": "CC0",
                "marking_index": 1,
                "citations": cite(),
            }
        ]
    if n % 4 == 0:
        located = {"latitude": 39.0, "longitude": 125.75, "precision": "place"}
        record["instances"] = [{"event": "Synthetic sighting", "date": "2020-05", **located}]
    if n % 5 == 0:
        record["identifiers"] = [{"scheme": "wikidata", "value": f"Q{n + 1}"}]
        # Given in another zone: the revision holds it as the database gives it back.
        record["created_at"] = "2020-01-02T03:04:05.123456+02:00"
    if n % 7 == 6:
        record["status"] = "retracted"
        record["retraction_reason"] = "Synthetic retraction"
        record["retracted_at"] = "2021-06-07T08:09:10+05:30"
    return record


def document(entries: int = ENTRIES_IN_FILE) -> dict[str, Any]:
    return {
        "sources": [
            source("synthetic-bulk-a", identifiers=[{"scheme": "wikidata", "value": "Q1"}]),
            source("synthetic-bulk-b"),
        ],
        "producers": [
            {"key": "synthetic-works", "name": "Synthetic Works (test data)", "country": "KP"}
        ],
        "entries": [entry(n, entries) for n in range(entries)],
    }


def import_as_before(session: Session, document: schemas.CatalogueDocument) -> None:
    """The import as it was before bulk writes: ORM objects, then revision 1 of each entry
    from the entries loaded again (a document without history)."""
    refs = convert.References()
    for origin in document.sources:
        refs.sources[origin.key] = convert.source_row(origin)
    for producer in document.producers:
        refs.producers[producer.key] = convert.producer_row(producer)
    session.add_all([*refs.sources.values(), *refs.producers.values()])
    rows = []
    for index, record in enumerate(document.entries):
        refs.entries[record.slug] = row = convert.entry_row(record, refs, ("entries", index))
        session.add(row)
        rows.append((index, record, row))
    for index, record, row in rows:
        convert.link_entries(row, record, refs, ("entries", index))
    session.flush()
    author, note = revisions.IMPORT_AUTHOR, "Imported from a catalogue file."
    revisions.record_initial_revisions(session, ENTRIES, list(refs.entries), author, note)
    revisions.record_initial_revisions(session, SOURCES, list(refs.sources), author, note)


CATALOGUE: list[type[models.Base]] = [
    models.Source,
    models.SourceIdentifier,
    models.Producer,
    models.Entry,
    *(part.model for part in PARTS),
    models.Citation,
    models.Revision,
    models.SourceRevision,
]


def stored_rows(session: Session) -> dict[str, list[dict[str, Any]]]:
    """Every row of the catalogue's tables, in id order, less the moment it was written."""
    found = {}
    for model in CATALOGUE:
        table = bulk.table(model)
        rows = session.execute(select(table).order_by(table.c.id)).mappings()
        found[table.name] = [_unstamped(dict(row)) for row in rows]
    found["citations"] = _by_claim(found["citations"])
    for name, owner in (("revisions", "entry_id"), ("source_revisions", "source_id")):
        # Which entry's revisions are written first is not a fact either.
        ordered = sorted(found[name], key=lambda row: (row[owner], row["number"]))
        found[name] = [{k: v for k, v in row.items() if k != "id"} for row in ordered]
    return found


def _by_claim(citations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Citations claim by claim, each claim's in the order they were given (their ids'
    order): which claim's citations are written first is the ORM's choice, not a fact."""
    ordered = sorted(
        citations, key=lambda row: ([row[c] or 0 for c in models.CITED_COLUMNS], row["id"])
    )
    return [{k: v for k, v in row.items() if k != "id"} for row in ordered]


def _unstamped(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row.get("snapshot"), dict):  # a revision: the entry's timestamps inside
        row["snapshot"] = {k: v for k, v in row["snapshot"].items() if k not in WRITTEN_AT}
        row.pop("created_at")
    return {k: v for k, v in row.items() if k not in WRITTEN_AT}


def changes_by_entry(session: Session, since: int) -> Counter[int | None]:
    logged = session.scalars(
        select(models.CatalogueChange.entry_id).where(models.CatalogueChange.generation > since)
    )
    return Counter(logged)


def imported(sessions, text: str, import_document) -> tuple[dict[str, Any], Counter[int | None]]:
    with sessions() as session:
        before = matcher_generation(session)
    with db.transaction(sessions) as session:
        import_document(session, transfer.parse(text))
    with sessions() as session:
        assert matcher_generation(session) > before
        return stored_rows(session), changes_by_entry(session, before)


def matcher_generation(session: Session) -> int:
    return session.scalar(select(models.CatalogueGeneration.value)) or 0


def test_a_bulk_import_writes_the_rows_entry_by_entry_wrote(sessions, database_url):
    """Entries, their parts, citations, revisions and the change log: row for row the same
    (ids included), on a fresh database each time."""
    text = json.dumps(document())
    before_rows, before_changes = imported(sessions, text, import_as_before)
    db.downgrade(database_url, "base")
    db.migrate(database_url)

    def bulk_import(session: Session, parsed: schemas.CatalogueDocument) -> None:
        transfer.import_catalogue(session, parsed, transfer.OnConflict.FAIL)

    after_rows, after_changes = imported(sessions, text, bulk_import)
    assert after_rows.keys() == before_rows.keys()
    for name, rows in before_rows.items():
        assert len(after_rows[name]) == len(rows), name
        assert after_rows[name] == rows, name
    assert len(after_rows["entries"]) == ENTRIES_IN_FILE
    assert after_changes == before_changes  # every entry logged as often, at a later generation


def test_revision_one_is_the_entry_as_stored(sessions):
    """The first revision is written from the records, not by loading the entries again:
    it must be what loading them gives, to the microsecond and the zone."""
    with db.transaction(sessions) as session:
        parsed = transfer.parse(json.dumps(document(60)))
        transfer.import_catalogue(session, parsed, transfer.OnConflict.FAIL)
    with sessions() as session:
        entries = session.scalars(select(models.Entry).options(*read.entry_load_options()))
        loaded = {e.id: convert.entry_record(e).model_dump(mode="json") for e in entries}
        first = session.scalars(select(models.Revision).where(models.Revision.number == 1))
        snapshots = {revision.entry_id: revision.snapshot for revision in first}
    assert snapshots == loaded
    assert len(loaded) == 60


def test_a_bulk_import_keeps_the_history_it_brings(seeded, database_url):
    """An exported catalogue with several revisions of an entry comes back with them all,
    numbered as they were, and the entry's version with them."""
    with db.transaction(seeded) as session:
        transfer.import_catalogue(
            session, transfer.parse(json.dumps(document(30))), transfer.OnConflict.FAIL
        )
    with db.transaction(seeded) as session:
        third = select(models.Entry).where(models.Entry.slug == "synthetic-bulk-3")
        row = session.scalars(third.options(*read.entry_load_options())).one()
        row.version += 1
        row.description = "Synthetic description (test data), second revision"
        revisions.record_revision(session, ENTRIES, row, "tester", "A test change")
    original = exported(seeded)
    db.downgrade(database_url, "base")
    db.migrate(database_url)
    with db.transaction(seeded) as session:
        transfer.import_catalogue(
            session, transfer.parse(json.dumps(original)), transfer.OnConflict.FAIL
        )
    assert exported(seeded) == original
    numbers = [r["number"] for r in original["revisions"] if r["entry"] == "synthetic-bulk-3"]
    assert numbers == [1, 2]
    with seeded() as session:
        assert session.scalar(third.with_only_columns(models.Entry.version)) == 2


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        found = {
            bulk.table(model).name: session.scalar(
                select(func.count()).select_from(bulk.table(model))
            )
            or 0
            for model in CATALOGUE
        }
        found["generation"] = matcher_generation(session)
        found["changes"] = session.scalar(select(func.count(models.CatalogueChange.id))) or 0
    return found


def spoiled(change) -> dict[str, Any]:
    """The synthetic document with its last entry changed by *change*."""
    spoilt = document()
    change(spoilt["entries"][-1])
    return spoilt


LAST = f"entries[{ENTRIES_IN_FILE - 1}]"


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            lambda e: e["markings"][0]["citations"].append(
                {"source": "no-such", "confidence": "reported"}
            ),
            f"{LAST}.markings[0].citations[1].source",
            "refers to 'no-such', but no source has this key",
        ),
        (
            lambda e: e["relations"][0]["citations"][0].update(via="no-such"),
            f"{LAST}.relations[0].citations[0].via",
            "but no source has this key",
        ),
        (
            lambda e: e["relations"].append({"kind": "copy of", "target": e["slug"]}),
            f"{LAST}.relations[1].target",
            "An entry cannot be related to itself.",
        ),
        (
            lambda e: e["relations"].append({"kind": "copy of", "target": "synthetic-nowhere"}),
            f"{LAST}.relations[1].target",
            "but no entry has this slug",
        ),
        (
            lambda e: e.update(producers=[{"producer": "no-such-works"}]),
            f"{LAST}.producers[0].producer",
            "but no producer has this key",
        ),
    ],
)
def test_a_bad_reference_late_in_a_large_file_changes_nothing(sessions, change, field, message):
    before = counts(sessions)
    with pytest.raises(InvalidInputError) as raised, db.transaction(sessions) as session:
        transfer.import_catalogue(
            session, transfer.parse(json.dumps(spoiled(change))), transfer.OnConflict.FAIL
        )
    assert [e.field for e in raised.value.errors] == [field]
    assert message in raised.value.message
    assert counts(sessions) == before


def test_misnumbered_history_refuses_the_import_before_anything_is_written(sessions):
    spoilt = document(3)
    snapshot = spoilt["entries"][1]
    stamp = "2024-01-01T00:00:00Z"
    history = {"entry": snapshot["slug"], "created_at": stamp, "author": "tester", "note": "Test"}
    spoilt["revisions"] = [{**history, "number": n, "snapshot": snapshot} for n in (1, 3)]
    before = counts(sessions)
    with pytest.raises(InvalidInputError) as raised, db.transaction(sessions) as session:
        transfer.import_catalogue(
            session, transfer.parse(json.dumps(spoilt)), transfer.OnConflict.FAIL
        )
    assert "are not numbered 1, 2, 3" in raised.value.message
    assert counts(sessions) == before


def test_a_running_matcher_finds_what_a_bulk_import_added(seeded):
    """The triggers log each imported entry: a matcher built before the import catches up."""
    matcher = Matcher()
    with seeded() as session:
        built = matcher.index(session)
        assert matcher.match(session, MatchQuery(markings=["SYNB-1030 LOT 0042"])).candidates == []
    with db.transaction(seeded) as session:
        transfer.import_catalogue(
            session, transfer.parse(json.dumps(document())), transfer.OnConflict.FAIL
        )
    with seeded() as session:
        found = matcher.match(session, MatchQuery(markings=["SYNB-1030 LOT 7781"]))
        assert matcher.index(session).base_generation == built.base_generation  # caught up
    assert found.candidates[0].entry.slug == "synthetic-bulk-1030"
