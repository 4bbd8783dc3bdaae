"""Export the whole catalogue to the interchange format and import it back."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models, revisions, schemas
from weaponsdb.catalogue import bulk, convert, read
from weaponsdb.catalogue.parts import Referable
from weaponsdb.errors import ConflictError, InvalidInputError, invalid
from weaponsdb.revisions import ENTRIES, SOURCES


class OnConflict(StrEnum):
    FAIL = "fail"  # refuse the whole import if anything already exists
    SKIP = "skip"  # keep what exists, add only what is new


@dataclass
class ImportReport:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def export_catalogue(session: Session) -> schemas.CatalogueDocument:
    entries = session.scalars(
        select(models.Entry).order_by(models.Entry.slug).options(*read.entry_load_options())
    )
    return schemas.CatalogueDocument(
        exported_at=dt.datetime.now(dt.UTC),
        sources=[
            convert.source_record(s)
            for s in session.scalars(
                select(models.Source)
                .options(selectinload(models.Source.identifiers))
                .order_by(models.Source.key)
            )
        ],
        producers=[
            convert.producer_record(p)
            for p in session.scalars(
                select(models.Producer)
                .options(selectinload(models.Producer.identifiers))
                .order_by(models.Producer.key)
            )
        ],
        entries=[convert.entry_record(e) for e in entries],
        # The history goes with the catalogue, so a restored backup cites the same revisions.
        revisions=revisions.export_revisions(session, ENTRIES),
        source_revisions=revisions.export_revisions(session, SOURCES),
    )


def dump(document: schemas.CatalogueDocument) -> str:
    return document.model_dump_json(indent=2, exclude_none=True) + "\n"


def parse(text: str | bytes, origin: str = "the catalogue file") -> schemas.CatalogueDocument:
    """Validate a catalogue document, naming every offending field by its JSON path."""
    try:
        return schemas.CatalogueDocument.model_validate_json(text)
    except ValidationError as error:
        raise invalid(error, f"{origin} is not a valid catalogue document.", "(document)") from None


def read_file(path: Path) -> schemas.CatalogueDocument:
    try:
        text = path.read_bytes()
    except OSError as error:
        raise InvalidInputError(f"Cannot read {path}: {error.strerror}.") from None
    try:
        json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InvalidInputError(f"{path} is not JSON: {error}.") from None
    return parse(text, str(path))


def import_catalogue(
    session: Session,
    document: schemas.CatalogueDocument,
    on_conflict: OnConflict,
    author: str = revisions.IMPORT_AUTHOR,
    note: str = "Imported from a catalogue file.",
) -> ImportReport:
    """Add the document's content in the caller's transaction; nothing is changed on error.

    Everything that can be refused is checked before anything is written. New entries keep
    the revisions the document brings; an entry that comes without any gets revision 1, by
    *author*. Entries are written in bulk (catalogue/bulk.py), many rows a statement.
    """
    report = ImportReport()
    keys = bulk.known_keys(session)
    new = _new_content(report, document, on_conflict, keys)
    session.add_all([*new.sources.values(), *new.producers.values()])
    session.flush()
    keys[models.Source] |= {key: row.id for key, row in new.sources.items()}
    keys[models.Producer] |= {key: row.id for key, row in new.producers.items()}
    # An entry's version is its number of revisions, set as it is inserted.
    versions = [(r, len(new.entry_history.get(r.slug, ())) or 1) for r in new.entries]
    stored = bulk.insert_entries(session, versions, keys)
    revisions.import_revisions(session, ENTRIES, keys[models.Entry], new.entry_history)
    without = ((s.id, s.record) for s in stored if s.record.slug not in new.entry_history)
    revisions.record_first_revisions(session, ENTRIES, without, author, note)
    revisions.import_revisions(session, SOURCES, keys[models.Source], new.source_history)
    revisions.record_initial_revisions(
        session, SOURCES, new.sources.keys() - new.source_history.keys(), author, note
    )
    return report


@dataclass(frozen=True)
class _NewContent:
    """What an import adds, checked whole."""

    sources: dict[str, models.Source]
    producers: dict[str, models.Producer]
    entries: list[schemas.EntryRecord]
    entry_history: dict[str, list[schemas.RevisionRecord]]
    source_history: dict[str, list[schemas.SourceRevisionRecord]]


def _new_content(
    report: ImportReport,
    document: schemas.CatalogueDocument,
    on_conflict: OnConflict,
    keys: bulk.Keys,
) -> _NewContent:
    """What the catalogue lacks of the document, noted in *report*; refused (before anything
    is written) if it names what neither has, or brings a history out of order."""
    sources = {
        source.key: convert.source_row(source)
        for source in document.sources
        if not _exists(report, on_conflict, keys[models.Source], source.key, "source")
    }
    producers = {
        producer.key: convert.producer_row(producer)
        for producer in document.producers
        if not _exists(report, on_conflict, keys[models.Producer], producer.key, "producer")
    }
    entries = [
        (index, record)
        for index, record in enumerate(document.entries)
        if not _exists(report, on_conflict, keys[models.Entry], record.slug, "entry")
    ]
    slugs = {record.slug for _, record in entries}
    report.added += [f"source:{key}" for key in sources]
    report.added += [f"producer:{key}" for key in producers]
    report.added += [f"entry:{record.slug}" for _, record in entries]
    known: dict[Referable, Set[str]] = {
        models.Source: keys[models.Source].keys() | sources.keys(),
        models.Producer: keys[models.Producer].keys() | producers.keys(),
        models.Entry: keys[models.Entry].keys() | slugs,
    }
    bulk.check_references(entries, known)
    return _NewContent(
        sources,
        producers,
        [record for _, record in entries],
        revisions.histories(ENTRIES, document.revisions, slugs),
        revisions.histories(SOURCES, document.source_revisions, sources.keys()),
    )


def _exists(
    report: ImportReport,
    on_conflict: OnConflict,
    existing: Mapping[str, object],
    key: str,
    kind: str,
) -> bool:
    if key not in existing:
        return False
    if on_conflict is OnConflict.FAIL:
        raise ConflictError(f"The catalogue already has the {kind} '{key}'.")
    report.skipped.append(f"{kind}:{key}")
    return True
