"""New entries with all their parts, written many at a time, for imports of large catalogues.

No ORM object is built (about 5 ms an entry in the unit of work): each table's rows for a
chunk of entries are written at once, by executemany on SQLite and COPY on PostgreSQL, and
where a row is referred to (an entry by its parts, a claim by its citations, a marking by a
photo) its id is known in the order the rows were given: handed back by RETURNING on SQLite,
drawn from the table's sequence beforehand on PostgreSQL. The rows are those
convert.entry_row builds, derived from the same table of parts (parts.py); the database's
triggers log the changes and move the catalogue generation as they do for any write.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from itertools import groupby
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier
from sqlalchemy import ColumnElement, DateTime, Integer, Table, func, insert, inspect, select
from sqlalchemy.orm import Session

from weaponsdb import models, schemas
from weaponsdb.catalogue import convert
from weaponsdb.catalogue.parts import (
    CITATIONS,
    CITED_BY,
    ENTRY_COLUMNS,
    PARTS,
    Part,
    Referable,
)
from weaponsdb.errors import Location

# Entries whose rows are built and written at a time: bounded memory at any size, and
# statements long enough that a round trip is a small part of each.
CHUNK = 1000

Keys = dict[Referable, dict[str, int]]  # what records name, by key (or slug), to its id
Row = dict[str, Any]


@dataclass(frozen=True)
class Stored:
    """A new entry: its id, and its record as the database holds it (the timestamps it set)."""

    id: int
    record: schemas.EntryRecord


def table(model: type[models.Base]) -> Table:
    return models.Base.metadata.tables[model.__tablename__]


def known_keys(session: Session) -> Keys:
    """Every source, producer and entry of the catalogue: key to id."""
    return {
        model: {row[0]: row[1] for row in session.execute(select(getattr(model, key), model.id))}
        for model, key in (
            (models.Source, "key"),
            (models.Producer, "key"),
            (models.Entry, "slug"),
        )
    }


def insert_rows(session: Session, model: type[models.Base], rows: Sequence[Row]) -> list[int]:
    """Insert *rows* (alike in their keys) and return their ids in the same order."""
    if not rows:
        return []
    into = table(model)
    if _postgresql(session):
        draw = select(_next_id(into)).select_from(func.generate_series(1, len(rows)))
        ids = sorted(session.scalars(draw))
        _copy(session, into, [{**row, "id": i} for row, i in zip(rows, ids, strict=True)])
        return ids
    # SQLite runs this row by row, about as cheaply as its own executemany.
    statement = insert(into).returning(into.c.id, sort_by_parameter_order=True)
    return list(session.connection().execute(statement, list(rows)).scalars())


def insert_plain(session: Session, model: type[models.Base], rows: Sequence[Row]) -> None:
    """Insert rows (alike in their keys) whose ids nothing needs."""
    if not rows:
        return
    if _postgresql(session):
        _copy(session, table(model), rows)
    else:
        session.connection().execute(insert(table(model)), list(rows))


# --- PostgreSQL: COPY ------------------------------------------------------------------------
# An INSERT of many rows costs more on PostgreSQL than it should either way: one statement a
# row fires the statement triggers (the catalogue generation's bump, migration 0005) once a
# row, each bump a new version of one row; one statement of a thousand rows costs psycopg
# longer to parse than the server to run. COPY is one statement with a short text.


def _postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _next_id(into: Table) -> ColumnElement[int]:
    """The next value of the sequence behind the table's id: ids drawn many at once."""
    return func.nextval(func.pg_get_serial_sequence(into.name, "id"), type_=Integer)


def _copy(session: Session, into: Table, rows: Sequence[Row]) -> None:
    """COPY the rows in, each value converted by its column's type as an INSERT would."""
    connection = session.connection()
    dialect = connection.dialect
    columns = list(rows[0])
    convert_value = [into.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    statement = SQL("COPY {} ({}) FROM STDIN").format(
        Identifier(into.name), SQL(", ").join(Identifier(c) for c in columns)
    )
    driver = connection.connection.driver_connection
    assert isinstance(driver, psycopg.Connection), "PostgreSQL is reached through psycopg"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            values = (row[c] for c in columns)
            copy.write_row(
                [v if f is None else f(v) for f, v in zip(convert_value, values, strict=True)]
            )


# --- checks, before anything is written ------------------------------------------------------


def check_references(
    entries: Sequence[tuple[int, schemas.EntryRecord]], known: Mapping[Referable, Set[str]]
) -> None:
    """Every source, producer and entry the records name exists or comes with them, and no
    entry names itself; refused as convert.values refuses them, by the same paths."""
    for index, record in entries:
        for part, item, where in _claims(record, ("entries", index)):
            for reference in part.references:
                key = getattr(item, reference.field)
                if key is None:
                    continue
                if reference.model is models.Entry and key == record.slug:
                    raise convert.related_to_itself((*where, reference.field))
                if key not in known[reference.model]:
                    raise convert.unknown(reference, key, (*where, reference.field))


def _claims(
    record: schemas.EntryRecord, where: Location
) -> Iterator[tuple[Part, schemas.Record, Location]]:
    """Every item of the entry that may name something else: its citations, its parts and
    their citations, with where each is in the document."""
    yield from _citations(record, where)
    for part in PARTS:
        for position, item in enumerate(getattr(record, part.name)):
            at = (*where, part.name, position)
            yield part, item, at
            if isinstance(item, schemas.Cited):
                yield from _citations(item, at)


def _citations(
    claim: schemas.Cited, where: Location
) -> Iterator[tuple[Part, schemas.Record, Location]]:
    for position, citation in enumerate(claim.citations):
        yield CITATIONS, citation, (*where, CITED_BY, position)


# --- rows ----------------------------------------------------------------------------------


def _foreign_key(model: type[models.Base], relationship: str) -> str:
    """The column behind a relationship to one object: EntryProducer.producer, producer_id."""
    (column,) = inspect(model).relationships[relationship].local_columns
    return str(column.key)


def _owner_key(model: type[models.Base], relationship: str) -> str:
    """The column of the items of a one-to-many relationship naming their owner:
    Entry.markings, Marking.entry_id."""
    (column,) = inspect(model).relationships[relationship].remote_side
    return str(column.key)


ENTRIES = table(models.Entry)
# Columns the database fills when a record leaves them out (entry_row leaves them unset).
_DEFAULTED = {c.key for c in ENTRIES.c if c.server_default is not None}
# What the database hands back as it stored it: timestamps may come back in another zone.
_STORED_TIMES = tuple(c for c in ENTRY_COLUMNS if isinstance(ENTRIES.c[c].type, DateTime))
_TARGETS = {part.name: _owner_key(part.model, CITED_BY) for part in PARTS if part.cited}
_TARGETS[CITED_BY] = _owner_key(models.Entry, CITED_BY)
_NO_TARGET = dict.fromkeys(models.CITED_COLUMNS)
# Parts whose rows are referred to by position from another part (photos to markings).
_POSITIONED = {position.part for part in PARTS for position in part.positions}


def insert_entries(
    session: Session, entries: Sequence[tuple[schemas.EntryRecord, int]], keys: Keys
) -> list[Stored]:
    """Insert new entries (each with its version) and all their parts, in order; *keys*
    must name every source and producer they cite, and gains the new entries' slugs.
    Call check_references first: here an unknown key is a KeyError."""
    stored: list[Stored] = []
    for start in range(0, len(entries), CHUNK):
        stored += _insert_own(session, entries[start : start + CHUNK], keys[models.Entry])
    # Parts after every entry: a relation may name an entry further on in the file.
    for start in range(0, len(stored), CHUNK):
        _insert_parts(session, stored[start : start + CHUNK], keys)
    return stored


def _insert_own(
    session: Session, entries: Sequence[tuple[schemas.EntryRecord, int]], slugs: dict[str, int]
) -> list[Stored]:
    """The entries' own rows; each comes back with its id and the timestamps as stored."""
    rows = [_entry_values(record, version) for record, version in entries]
    ids: list[int] = []
    # A statement for each run of rows giving the same columns, so that ids stay in order.
    for _, run in groupby(rows, key=lambda row: row.keys()):
        ids += insert_rows(session, models.Entry, list(run))
    times = select(ENTRIES.c.id, *(ENTRIES.c[c] for c in _STORED_TIMES)).where(
        ENTRIES.c.id.in_(ids)
    )
    stored_times = {entry_id: found for entry_id, *found in session.execute(times)}
    stored: list[Stored] = []
    for (record, _), entry_id in zip(entries, ids, strict=True):
        found = zip(_STORED_TIMES, stored_times[entry_id], strict=True)
        as_stored = {column: convert.utc(t) if t else None for column, t in found}
        stored.append(Stored(entry_id, record.model_copy(update=as_stored)))
        slugs[record.slug] = entry_id
    return stored


def _entry_values(record: schemas.EntryRecord, version: int) -> Row:
    own = {column: convert.stored(getattr(record, column)) for column in ENTRY_COLUMNS}
    kept = {c: v for c, v in own.items() if v is not None or c not in _DEFAULTED}
    return {**kept, "version": version}


def _insert_parts(session: Session, entries: Sequence[Stored], keys: Keys) -> None:
    """The parts of these entries, then every citation on the entries and their parts."""
    citations = [row for e in entries for row in _citation_rows(e.record, CITED_BY, e.id, keys)]
    ids: dict[str, list[list[int]]] = {}  # by part, for each entry its items' ids in order
    for part in PARTS:
        items: list[list[schemas.Record]] = [getattr(e.record, part.name) for e in entries]
        rows: list[Row] = []
        for n, (entry, its) in enumerate(zip(entries, items, strict=True)):
            others = {name: per_entry[n] for name, per_entry in ids.items()}
            rows += [_part_values(part, item, entry.id, others, keys) for item in its]
        if not _referred_to(part, items):
            insert_plain(session, part.model, rows)
            continue
        found = iter(insert_rows(session, part.model, rows))
        ids[part.name] = [[next(found) for _ in its] for its in items]
        for its, item_ids in zip(items, ids[part.name], strict=True):
            for item, item_id in zip(its, item_ids, strict=True):
                if isinstance(item, schemas.Cited):
                    citations += _citation_rows(item, part.name, item_id, keys)
    insert_plain(session, models.Citation, citations)


def _referred_to(part: Part, items: Sequence[Sequence[schemas.Record]]) -> bool:
    """Whether the rows' ids are needed: other parts point at them, or they have citations."""
    return part.name in _POSITIONED or any(
        isinstance(item, schemas.Cited) and item.citations for its in items for item in its
    )


@dataclass(frozen=True)
class _Columns:
    """Where a part's row names its entry and what its references point at."""

    owner: str  # e.g. entry_id
    references: tuple[str, ...]  # e.g. producer_id, for each of part.references

    @classmethod
    def of(cls, part: Part) -> _Columns:
        owner = _owner_key(models.Entry, part.name) if part is not CITATIONS else ""
        return cls(owner, tuple(_foreign_key(part.model, r.field) for r in part.references))


_COLUMNS = {part.name: _Columns.of(part) for part in (*PARTS, CITATIONS)}


def _part_values(
    part: Part,
    item: schemas.Record,
    entry_id: int,
    others: Mapping[str, Sequence[int]],
    keys: Keys,
) -> Row:
    """A part's row: its columns, its entry, what it refers to, and the ids of the rows of
    the same entry it points at by position (*others*, by part)."""
    values = _values(part, item, keys)
    values[_COLUMNS[part.name].owner] = entry_id
    for position in part.positions:
        index = getattr(item, position.field)
        values[position.column] = None if index is None else others[position.part][index]
    return values


def _values(part: Part, item: schemas.Record, keys: Keys) -> Row:
    values = {column: convert.stored(getattr(item, column)) for column in part.columns}
    for reference, column in zip(part.references, _COLUMNS[part.name].references, strict=True):
        key = getattr(item, reference.field)
        values[column] = None if key is None else keys[reference.model][key]
    return values


def _citation_rows(claim: schemas.Cited, target: str, target_id: int, keys: Keys) -> list[Row]:
    where = {**_NO_TARGET, _TARGETS[target]: target_id}
    return [{**_values(CITATIONS, citation, keys), **where} for citation in claim.citations]
