"""The catalogue as spreadsheets: entries and documented instances as CSV (one row each),
and a CSV of new entries imported, every bad cell named by row and column, nothing written
on any error.

A cell that holds several values (an entry's names, markings, producers) separates them
with " | ". Text is written as it is: a spreadsheet that takes a leading '=' for a formula
should be told to open the file as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import models, schemas, transfer
from weaponsdb.catalogue.read import EntryFilter, entries_query
from weaponsdb.errors import FieldError, InvalidInputError
from weaponsdb.vocab import IdentifierScheme, Status

SEPARATOR = " | "
ENTRY_COLUMNS = (
    "slug",
    "name",
    "status",
    "category",
    "calibre_mm",
    "calibre_designation",
    "country",
    "family",
    "description",
    "names",
    "markings",
    "producers",
    "wikidata",
    "url",
)
INSTANCE_COLUMNS = (
    "entry",
    "entry_name",
    "event",
    "place",
    "country",
    "date",
    "latitude",
    "longitude",
    "precision",
    "description",
    "sources",
    "url",
)
# Columns an export writes that say nothing an import keeps: every imported entry is a
# draft, and its page follows from its slug.
IGNORED_COLUMNS = ("status", "url")
# What an imported row may give (the rest of an entry is added by editors afterwards): an
# export's columns, and the source the row's entry cites.
IMPORT_COLUMNS = (
    *(c for c in ENTRY_COLUMNS if c not in IGNORED_COLUMNS),
    "source",
    "confidence",
)
REQUIRED_COLUMNS = ("slug", "name")
# Columns whose cells become lists (or citations), not attributes of the entry.
LISTED = ("names", "markings", "producers", "wikidata", "source", "confidence")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


def _write(columns: tuple[str, ...], rows: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _text(row.get(name)) for name in columns})
    return buffer.getvalue()


def for_excel(text: str) -> str:
    """The CSV with a byte order mark first: Excel opens a UTF-8 file without one in the
    machine's legacy code page, and shows 방-122 as 'ë°©-122'. Not by default: Python's csv
    module and most scripts read the mark as part of the first column's name."""
    return "\ufeff" + text


def entries_csv(session: Session, where: EntryFilter, entry_page: str) -> str:
    """Entries chosen by *where*, in slug order; *entry_page* is the entry pages' URL with
    `{slug}` in it."""
    query = entries_query(where).order_by(models.Entry.slug)
    entries = session.scalars(
        query.options(
            selectinload(models.Entry.names),
            selectinload(models.Entry.markings),
            selectinload(models.Entry.producers).selectinload(models.EntryProducer.producer),
            selectinload(models.Entry.identifiers),
        )
    )
    return _write(ENTRY_COLUMNS, (_entry_row(e, entry_page) for e in entries))


def _entry_row(entry: models.Entry, entry_page: str) -> dict[str, Any]:
    return {
        "slug": entry.slug,
        "name": entry.name,
        "status": entry.status,
        "category": entry.category,
        "calibre_mm": entry.calibre_mm,
        "calibre_designation": entry.calibre_designation,
        "country": entry.country,
        "family": entry.family,
        "description": entry.description,
        "names": SEPARATOR.join(n.text for n in entry.names),
        "markings": SEPARATOR.join(m.text for m in entry.markings),
        "producers": SEPARATOR.join(p.producer.key for p in entry.producers),
        "wikidata": SEPARATOR.join(
            i.value for i in entry.identifiers if i.scheme == IdentifierScheme.WIKIDATA.value
        ),
        "url": entry_page.format(slug=entry.slug),
    }


def instances_csv(session: Session, where: EntryFilter, entry_page: str) -> str:
    """Every documented instance of the entries chosen by *where*, by entry slug."""
    query = entries_query(where).order_by(models.Entry.slug)
    entries = session.scalars(
        query.options(
            selectinload(models.Entry.instances)
            .selectinload(models.Instance.citations)
            .selectinload(models.Citation.source)
        )
    )
    return _write(INSTANCE_COLUMNS, _instance_rows(entries, entry_page))


def _instance_rows(entries: Iterable[models.Entry], entry_page: str) -> Iterator[dict[str, Any]]:
    for entry in entries:
        for instance in entry.instances:
            yield {
                "entry": entry.slug,
                "entry_name": entry.name,
                "event": instance.event,
                "place": instance.place,
                "country": instance.country,
                "date": instance.date,
                # As published: at the precision the reviewer chose (see observations).
                "latitude": instance.latitude,
                "longitude": instance.longitude,
                "precision": instance.precision,
                "description": instance.description,
                "sources": SEPARATOR.join(sorted({c.source.key for c in instance.citations})),
                "url": entry_page.format(slug=entry.slug),
            }


# --- import ----------------------------------------------------------------------------------


def _cell(row: int, column: str) -> str:
    return f"row {row}, column {column}"


@dataclass(frozen=True)
class Row:
    number: int  # as a spreadsheet numbers it: the header is row 1
    record: schemas.EntryRecord


def parse_entries(text: str) -> list[Row]:
    """The CSV's rows as draft entry records. Every bad cell is reported at once, by row
    and column; empty rows are skipped (but counted)."""
    rows = list(csv.reader(io.StringIO(text)))
    columns = [c.strip() for c in rows[0]] if rows else []
    known = IMPORT_COLUMNS + IGNORED_COLUMNS
    errors = [
        FieldError(_cell(1, name or "(empty)"), f"not a column of entries ({', '.join(known)})")
        for name in columns
        if name not in known
    ]
    errors += [
        FieldError(_cell(1, name), "this column is required")
        for name in REQUIRED_COLUMNS
        if name not in columns
    ]
    if errors:
        raise InvalidInputError("The CSV's header is not one of entries.", errors)
    parsed: list[Row] = []
    first_row: dict[str, int] = {}
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(columns):
            errors.append(FieldError(_cell(number, "(past the last)"), "more cells than columns"))
            continue
        try:
            record = schemas.EntryRecord.model_validate(
                _entry_fields(dict(zip(columns, cells, strict=False)))
            )
        except ValidationError as error:
            errors += _cell_errors(error, number)
            continue
        if record.slug in first_row:
            errors.append(
                FieldError(_cell(number, "slug"), f"repeats row {first_row[record.slug]}")
            )
        first_row.setdefault(record.slug, number)
        parsed.append(Row(number, record))
    if errors:
        raise InvalidInputError(
            "Some cells of the CSV are not valid; nothing was imported.", errors
        )
    return parsed


def _values(cell: str | None) -> list[str]:
    return [v.strip() for v in (cell or "").split("|") if v.strip()]


def _entry_fields(row: dict[str, str]) -> dict[str, Any]:
    given = {k: v.strip() for k, v in row.items() if k in IMPORT_COLUMNS and v and v.strip()}
    fields: dict[str, Any] = {k: given[k] for k in IMPORT_COLUMNS if k in given and k not in LISTED}
    fields["status"] = Status.DRAFT.value  # nothing is published without an editor
    fields["names"] = [{"text": t, "kind": "alias"} for t in _values(given.get("names"))]
    fields["markings"] = [{"text": t} for t in _values(given.get("markings"))]
    fields["producers"] = [{"producer": key} for key in _values(given.get("producers"))]
    fields["identifiers"] = [
        {"scheme": IdentifierScheme.WIKIDATA.value, "value": qid}
        for qid in _values(given.get("wikidata"))
    ]
    if "source" in given:
        fields["citations"] = [
            {"source": given["source"], "confidence": given.get("confidence", "reported")}
        ]
    elif "confidence" in given:
        fields["citations"] = [{"confidence": given["confidence"]}]  # reported as no source
    return fields


def _cell_errors(error: ValidationError, row: int) -> list[FieldError]:
    found = []
    for problem in error.errors(include_url=False):
        location = problem["loc"]
        column = str(location[0]) if location else "(row)"
        if column == "identifiers":
            column = "wikidata"
        elif column == "citations":
            column = "source" if "source" in location else "confidence"
        elif column == "status":
            column = "(row)"
        found.append(FieldError(_cell(row, column), problem["msg"]))
    return found


def import_entries(session: Session, rows: list[Row]) -> list[str]:
    """Add the entries as drafts in the caller's transaction. An entry that exists already,
    or a source or producer the catalogue does not have, is reported by row and column, and
    then nothing is added."""
    slugs = {row.record.slug: row.number for row in rows}
    existing = set(
        session.scalars(select(models.Entry.slug).where(models.Entry.slug.in_(list(slugs))))
    )
    errors = [
        FieldError(_cell(slugs[slug], "slug"), "the catalogue already has this entry")
        for slug in existing
    ]
    errors += _unknown(session, models.Source, rows, "source", lambda r: r.citations)
    errors += _unknown(session, models.Producer, rows, "producers", lambda r: r.producers)
    if errors:
        errors.sort(key=lambda e: int(e.field.split(",")[0].removeprefix("row ")))
        raise InvalidInputError("Some rows cannot be imported; nothing was imported.", errors)
    document = schemas.CatalogueDocument(entries=[row.record for row in rows])
    report = transfer.import_catalogue(
        session, document, transfer.OnConflict.FAIL, note="Imported from a CSV of entries."
    )
    return report.added


def _unknown(
    session: Session,
    model: type[models.Source] | type[models.Producer],
    rows: list[Row],
    column: str,
    items: Callable[[schemas.EntryRecord], Sequence[schemas.CitationRecord]]
    | Callable[[schemas.EntryRecord], Sequence[schemas.ProducerLinkRecord]],
) -> list[FieldError]:
    """A row's source or producers that the catalogue does not have."""
    named = {_key(item) for row in rows for item in items(row.record)}
    known = set(session.scalars(select(model.key).where(model.key.in_(named))))
    what = "source" if model is models.Source else "producer"
    return [
        FieldError(_cell(row.number, column), f"the catalogue has no {what} '{_key(item)}'")
        for row in rows
        for item in items(row.record)
        if _key(item) not in known
    ]


def _key(item: schemas.CitationRecord | schemas.ProducerLinkRecord) -> str:
    return item.source if isinstance(item, schemas.CitationRecord) else item.producer
