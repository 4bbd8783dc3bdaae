"""Export the whole catalogue to the interchange format and import it back."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models, revisions, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.errors import ConflictError, InvalidInputError, invalid
from weaponsdb.revisions import ENTRIES, SOURCES

RowT = TypeVar("RowT", models.Source, models.Producer)


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

    New entries keep the revisions the document brings; an entry that comes without any
    gets revision 1, by *author*.
    """
    report = ImportReport()
    refs = convert.References(
        session.scalars(select(models.Source)),
        session.scalars(select(models.Producer)),
        session.scalars(select(models.Entry)),
    )
    new_sources: dict[str, models.Source] = {}
    for source in document.sources:
        if not _exists(report, on_conflict, refs.sources, source.key, "source"):
            new_sources[source.key] = _added(
                session, report, convert.source_row(source), source.key
            )
            refs.sources[source.key] = new_sources[source.key]
    for producer in document.producers:
        if not _exists(report, on_conflict, refs.producers, producer.key, "producer"):
            refs.producers[producer.key] = _added(
                session, report, convert.producer_row(producer), producer.key
            )
    new_entries: list[tuple[int, schemas.EntryRecord, models.Entry]] = []
    history = Counter(revision.entry for revision in document.revisions)
    for index, record in enumerate(document.entries):
        if _exists(report, on_conflict, refs.entries, record.slug, "entry"):
            continue
        row = convert.entry_row(record, refs, ("entries", index))
        refs.entries[record.slug] = row
        session.add(row)
        report.added.append(f"entry:{record.slug}")
        new_entries.append((index, record, row))
    # Relations last: their targets may be entries added above.
    for index, record, row in new_entries:
        convert.link_entries(row, record, refs, ("entries", index))
        # Set before the insert: a later UPDATE would move the entry's updated_at.
        row.version = history.get(record.slug, 1)
    session.flush()
    added = {record.slug: row for _, record, row in new_entries}
    with_history = revisions.import_revisions(session, ENTRIES, added, document.revisions)
    revisions.record_initial_revisions(session, ENTRIES, set(added) - with_history, author, note)
    with_history = revisions.import_revisions(
        session, SOURCES, new_sources, document.source_revisions
    )
    revisions.record_initial_revisions(
        session, SOURCES, set(new_sources) - with_history, author, note
    )
    return report


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


def _added(session: Session, report: ImportReport, row: RowT, key: str) -> RowT:
    session.add(row)
    report.added.append(f"{type(row).__tablename__.rstrip('s')}:{key}")
    return row
