"""A published copy of the catalogue for Datasette: one self-describing, read-only SQLite
file of the published entries and what they cite, with views that join them, full-text
search, and a metadata.json (licence, source, what every table and column holds).

The copy is an artefact for reading, like an export, not a weaponsdb database: its tables
are made here, flat and denormalised for people writing SQL, and never migrated.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from weaponsdb import __version__, citing, models, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.catalogue.parts import PARTS
from weaponsdb.errors import InvalidInputError
from weaponsdb.vocab import IdentifierScheme, Status

SEPARATOR = " | "

# table -> (description, {column: (SQL type, description)})
TABLES: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "entries": (
        "Published entries: one kind of weapon or munition each.",
        {
            "id": ("INTEGER PRIMARY KEY", "Row number in this copy (not stable between copies)."),
            "slug": ("TEXT NOT NULL UNIQUE", "The entry's permanent identifier."),
            "name": ("TEXT NOT NULL", "Its name."),
            "category": ("TEXT", "What kind of weapon or munition it is."),
            "calibre_mm": ("REAL", "Calibre in millimetres."),
            "calibre_designation": ("TEXT", "Calibre as designated, e.g. 7.62×39mm."),
            "country": ("TEXT", "Country of origin, ISO 3166-1 alpha-2."),
            "country_name": ("TEXT", "Country of origin, in English."),
            "family": ("TEXT", "The family it belongs to."),
            "description": ("TEXT", "What it is, in words."),
            "all_names": ("TEXT", "Every name, designation and alias, separated by ' | '."),
            "all_markings": ("TEXT", "Every marking as written, separated by ' | '."),
            "wikidata": ("TEXT", "Its Wikidata item, Q…, when known."),
            "version": ("INTEGER", "Its latest revision when this copy was made."),
            "url": ("TEXT", "Its page."),
        },
    ),
    "names": (
        "Names, designations, aliases and nicknames of the entries, in every script.",
        {
            "entry": ("TEXT NOT NULL REFERENCES entries(slug)", "Slug of the entry."),
            "text": ("TEXT NOT NULL", "The name as written."),
            "kind": ("TEXT", "name, designation, alias or nickname."),
            "script": ("TEXT", "ISO 15924 script code, e.g. Hang, Cyrl, Latn."),
            "language": ("TEXT", "BCP 47 language tag, e.g. ko, ru."),
        },
    ),
    "markings": (
        "Markings found on items of each entry.",
        {
            "entry": ("TEXT NOT NULL REFERENCES entries(slug)", "Slug of the entry."),
            "text": ("TEXT NOT NULL", "The marking as written."),
            "kind": ("TEXT", "What the marking is (model designation, headstamp, ...)."),
            "script": ("TEXT", "ISO 15924 script code."),
            "language": ("TEXT", "BCP 47 language tag."),
            "position": ("TEXT", "Where on the item it is."),
            "meaning": ("TEXT", "What it means."),
            "pattern": ("TEXT", "The marking with its variable parts as placeholders."),
        },
    ),
    "identifiers": (
        "The entries elsewhere: Wikidata items, and Commons files that show them (leads).",
        {
            "entry": ("TEXT NOT NULL REFERENCES entries(slug)", "Slug of the entry."),
            "scheme": ("TEXT NOT NULL", "wikidata, or commons (a file name on Commons)."),
            "value": ("TEXT NOT NULL", "The identifier."),
            "note": ("TEXT", "E.g. a Commons file's licence and credit, or that it is unchecked."),
        },
    ),
    "sources": (
        "The sources that the published entries cite.",
        {
            "key": ("TEXT PRIMARY KEY", "The source's identifier."),
            "kind": ("TEXT", "What kind of source it is."),
            "title": ("TEXT", "Its title."),
            "author": ("TEXT", "Its author."),
            "publisher": ("TEXT", "Its publisher."),
            "published": ("TEXT", "When it was published: YYYY, YYYY-MM or YYYY-MM-DD."),
            "url": ("TEXT", "Where it is."),
        },
    ),
    "citations": (
        "Which source supports which claim of an entry, and how firmly.",
        {
            "entry": ("TEXT NOT NULL REFERENCES entries(slug)", "Slug of the entry."),
            "claim": ("TEXT NOT NULL", "What is claimed: 'entry', or the part, e.g. markings[0]."),
            "field": ("TEXT", "On the entry: the attribute the source supports."),
            "source": ("TEXT NOT NULL REFERENCES sources(key)", "Key of the source."),
            "confidence": ("TEXT NOT NULL", "confirmed, reported, inferred or disputed."),
            "quote": ("TEXT", "What the source says."),
            "locator": ("TEXT", "Page, paragraph or timestamp."),
            "via": ("TEXT REFERENCES sources(key)", "The publication it reached us through."),
        },
    ),
    "instances": (
        "Where and when items of each entry were documented.",
        {
            "entry": ("TEXT NOT NULL REFERENCES entries(slug)", "Slug of the entry."),
            "event": ("TEXT NOT NULL", "What happened."),
            "place": ("TEXT", "Where."),
            "country": ("TEXT", "ISO 3166-1 alpha-2 code of where."),
            "date": ("TEXT", "When: YYYY, YYYY-MM or YYYY-MM-DD."),
            "description": ("TEXT", "What was documented."),
        },
    ),
}

VIEWS: dict[str, tuple[str, str]] = {
    "entry_names": (
        "Every name of every entry, beside the entry's facts.",
        "SELECT e.slug, e.name AS entry_name, e.category, e.country, n.text AS name, n.kind, "
        "n.script, n.language, e.url FROM entries e JOIN names n ON n.entry = e.slug",
    ),
    "entry_markings": (
        "Every marking of every entry, beside the entry's facts: look a marking up here.",
        "SELECT e.slug, e.name AS entry_name, e.category, e.calibre_mm, e.country, "
        "m.text AS marking, m.kind, m.script, m.position, m.meaning, e.url "
        "FROM entries e JOIN markings m ON m.entry = e.slug",
    ),
    "entry_sources": (
        "Every claim of every entry with the source that supports it.",
        "SELECT e.slug, e.name AS entry_name, c.claim, c.field, c.confidence, c.quote, "
        "c.locator, s.key AS source, s.title AS source_title, s.publisher, s.published, "
        "s.url AS source_url, c.via FROM entries e JOIN citations c ON c.entry = e.slug "
        "JOIN sources s ON s.key = c.source",
    ),
}
FTS_COLUMNS = ("name", "description", "all_names", "all_markings")


def publish(session: Session, path: Path, metadata_path: Path, public_url: str | None) -> int:
    """Write the copy to *path* (which must not exist) and its metadata to *metadata_path*;
    returns how many entries it holds. The file is built beside *path* and moved into place
    whole, then made read-only."""
    if path.exists():
        raise InvalidInputError(f"{path} exists already; publish writes a new file.")
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(partial)) as connection:
            count = _fill(connection, session, public_url)
            connection.commit()
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    metadata = describe(path.stem, public_url)
    metadata_path.write_text(json.dumps(metadata, indent=2, ensure_ascii=False) + "\n")
    return count


def _fill(connection: sqlite3.Connection, session: Session, public_url: str | None) -> int:
    for table, (_, columns) in TABLES.items():
        definition = ", ".join(f'"{name}" {kind}' for name, (kind, _) in columns.items())
        connection.execute(f"CREATE TABLE {table} ({definition})")
    for view, (_, query) in VIEWS.items():
        connection.execute(f"CREATE VIEW {view} AS {query}")
    entries = list(_published(session))
    page = f"{public_url.rstrip('/')}/entries/" if public_url else ""
    for table, rows in _rows(session, entries, page):
        for row in rows:
            names = ", ".join(f'"{k}"' for k in row)
            marks = ", ".join("?" for _ in row)
            connection.execute(
                f"INSERT INTO {table} ({names}) VALUES ({marks})", list(row.values())
            )
    _index(connection)
    return len(entries)


def _published(session: Session) -> Iterator[tuple[schemas.EntryRecord, int]]:
    query = read.entries_query(read.EntryFilter(status=Status.PUBLISHED))
    rows = session.scalars(query.order_by(models.Entry.slug).options(*read.entry_load_options()))
    for entry in rows:
        yield convert.entry_record(entry), entry.version


def _rows(
    session: Session, entries: list[tuple[schemas.EntryRecord, int]], page: str
) -> Iterator[tuple[str, Iterable[dict[str, Any]]]]:
    cited: set[str] = set()
    for record, version in entries:
        cited |= record.cited_source_keys()
        yield "entries", [_entry(record, version, page)]
        for table in ("names", "markings", "instances", "identifiers"):
            yield table, [_part(record.slug, item, table) for item in getattr(record, table)]
        yield "citations", _citations(record)
    sources = session.scalars(
        select(models.Source)
        .where(models.Source.key.in_(cited))
        .options(selectinload(models.Source.identifiers))
        .order_by(models.Source.key)
    )
    yield "sources", [_columns(convert.source_record(s), "sources") for s in sources]


def _columns(record: schemas.Record, table: str) -> dict[str, Any]:
    """The record's fields that are *table*'s columns, as JSON has them."""
    columns = TABLES[table][1]
    return {k: v for k, v in record.model_dump(mode="json").items() if k in columns}


def _part(slug: str, item: schemas.Record, table: str) -> dict[str, Any]:
    return {"entry": slug, **_columns(item, table)}


def _entry(record: schemas.EntryRecord, version: int, page: str) -> dict[str, Any]:
    return {
        "slug": record.slug,
        "name": record.name,
        "category": record.category,
        "calibre_mm": float(record.calibre_mm) if record.calibre_mm is not None else None,
        "calibre_designation": record.calibre_designation,
        "country": record.country,
        "country_name": schemas.country_name(record.country),
        "family": record.family,
        "description": record.description,
        "all_names": SEPARATOR.join(n.text for n in record.names),
        "all_markings": SEPARATOR.join(m.text for m in record.markings),
        "wikidata": next(
            (i.value for i in record.identifiers if i.scheme is IdentifierScheme.WIKIDATA), None
        ),
        "version": version,
        "url": f"{page}{record.slug}" if page else None,
    }


def _citations(record: schemas.EntryRecord) -> Iterator[dict[str, Any]]:
    claims: list[tuple[str, list[schemas.CitationRecord]]] = [("entry", record.citations)]
    for part in PARTS:
        held = getattr(record, part.name)
        claims += [
            (f"{part.name}[{n}]", getattr(item, "citations", [])) for n, item in enumerate(held)
        ]
    for claim, citations in claims:
        for c in citations:
            yield {
                "entry": record.slug,
                "claim": claim,
                "field": c.field,
                "source": c.source,
                "confidence": c.confidence.value,
                "quote": c.quote,
                "locator": c.locator,
                "via": c.via,
            }


def _index(connection: sqlite3.Connection) -> None:
    """Full-text search over the entries' names, markings and descriptions, as Datasette
    finds it (an FTS5 table whose content is the entries table), and indexes for the joins."""
    columns = ", ".join(FTS_COLUMNS)
    connection.execute(
        f"CREATE VIRTUAL TABLE entries_fts USING fts5({columns}, "
        'content="entries", content_rowid="id", tokenize="unicode61")'
    )
    connection.execute(
        f"INSERT INTO entries_fts (rowid, {columns}) SELECT id, {columns} FROM entries"
    )
    for table in ("names", "markings", "citations", "instances", "identifiers"):
        connection.execute(f"CREATE INDEX {table}_entry ON {table}(entry)")


def describe(database: str, public_url: str | None) -> dict[str, Any]:
    """Datasette's metadata.json: title, licence, source, and every table, view and
    column described."""
    tables: dict[str, Any] = {
        table: {
            "description": description,
            "columns": {name: text for name, (_, text) in columns.items()},
        }
        for table, (description, columns) in TABLES.items()
    }
    tables["entries"] |= {"fts_table": "entries_fts", "fts_pk": "id", "label_column": "name"}
    tables |= {view: {"description": description} for view, (description, _) in VIEWS.items()}
    source: dict[str, str] = {"source": f"weaponsdb {__version__}"}
    if public_url:
        source["source_url"] = public_url
    return {
        "title": "weaponsdb: the published catalogue",
        "description": "Weapons and munitions, their names in every script, their markings, "
        "and the sources behind every claim. A read-only copy made by `weaponsdb publish`.",
        "license": "CC BY 4.0",
        "license_url": citing.LICENCE,
        **source,
        "databases": {database: {"tables": tables}},
    }
