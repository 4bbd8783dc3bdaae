"""Database rows <-> interchange records, for entries with all their parts, sources and
producers: the one place that knows both shapes. The parts are walked as parts.py
declares them; nothing here names a part."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import Any

from weaponsdb import models, schemas
from weaponsdb.catalogue.parts import (
    CITATIONS,
    CITED_BY,
    ENTRY_COLUMNS,
    PARTS,
    Part,
    Referable,
    Reference,
    refers_to_entries,
)
from weaponsdb.errors import FieldError, InvalidInputError, Location, field_path


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive timestamps; every timestamp we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _shown(value: object) -> object:
    return utc(value) if isinstance(value, dt.datetime) else value


def stored(value: object) -> object:
    """Vocabulary values are stored as their text, moments in UTC: SQLite keeps no zone, so a
    moment given in another would be stored as if it were UTC, hours away."""
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    return value.value if isinstance(value, Enum) else value


# --- rows -> records ---------------------------------------------------------------------


def entry_record(row: models.Entry) -> schemas.EntryRecord:
    """The whole entry as a record. Its parts must be loaded (read.entry_load_options)."""
    positions = {
        position.part: {item.id: index for index, item in enumerate(getattr(row, position.part))}
        for part in PARTS
        for position in part.positions
    }
    values = entry_columns(row)
    values[CITED_BY] = _citation_values(row)
    for part in PARTS:
        values[part.name] = [_values(part, item, positions) for item in getattr(row, part.name)]
    return schemas.EntryRecord.model_validate(values)


def entry_columns(row: models.Entry) -> dict[str, object]:
    """The entry's own columns as record values, without its parts."""
    return {column: _shown(getattr(row, column)) for column in ENTRY_COLUMNS}


def _values(
    part: Part, row: object, positions: Mapping[str, Mapping[int, int]]
) -> dict[str, object]:
    values = {column: _shown(getattr(row, column)) for column in part.columns}
    for reference in part.references:
        target = getattr(row, reference.field)
        values[reference.field] = getattr(target, reference.key) if target is not None else None
    for position in part.positions:
        other = getattr(row, position.column)
        values[position.field] = None if other is None else positions[position.part].get(other)
    if part.cited:
        values[CITED_BY] = _citation_values(row)
    return values


def _citation_values(row: object) -> list[dict[str, object]]:
    return [_values(CITATIONS, citation, {}) for citation in getattr(row, CITED_BY)]


def source_record(row: models.Source) -> schemas.SourceRecord:
    return schemas.SourceRecord.model_validate(row, from_attributes=True)


def producer_record(row: models.Producer) -> schemas.ProducerRecord:
    return schemas.ProducerRecord.model_validate(row, from_attributes=True)


# --- records -> rows ---------------------------------------------------------------------


NOUNS: dict[Referable, str] = {
    models.Source: "source",
    models.Producer: "producer",
    models.Entry: "entry",
}


class References:
    """Sources, producers and entries that records may point at, by key or slug."""

    def __init__(
        self,
        sources: Iterable[models.Source] = (),
        producers: Iterable[models.Producer] = (),
        entries: Iterable[models.Entry] = (),
    ) -> None:
        self.sources = {source.key: source for source in sources}
        self.producers = {producer.key: producer for producer in producers}
        self.entries = {entry.slug: entry for entry in entries}

    def resolve(self, reference: Reference, key: str, where: Location) -> models.Base:
        tables: dict[Referable, Mapping[str, models.Base]] = {
            models.Source: self.sources,
            models.Producer: self.producers,
            models.Entry: self.entries,
        }
        try:
            return tables[reference.model][key]
        except KeyError:
            raise unknown(reference, key, where) from None


def unknown(reference: Reference, key: str, where: Location) -> InvalidInputError:
    """What a record naming something the catalogue lacks is told."""
    reason = f"no {NOUNS[reference.model]} has this {reference.key}"
    path = field_path(where)
    return InvalidInputError(f"{path} refers to '{key}', but {reason}.", [FieldError(path, reason)])


def related_to_itself(where: Location) -> InvalidInputError:
    return InvalidInputError(
        "An entry cannot be related to itself.",
        [FieldError(field_path(where), "an entry cannot be related to itself")],
    )


Named = dict[Referable, set[str]]


def named_in(part: Part, records: Iterable[schemas.Record], named: Named | None = None) -> Named:
    """The keys of everything these records (and their citations) refer to, by kind."""
    named = {} if named is None else named
    for record in records:
        for reference in part.references:
            key = getattr(record, reference.field)
            if key is not None:
                named.setdefault(reference.model, set()).add(key)
        if isinstance(record, schemas.Cited):
            named_in(CITATIONS, record.citations, named)
    return named


def entry_named(record: schemas.EntryRecord) -> Named:
    """The keys of everything an entry record refers to, by kind."""
    named = named_in(CITATIONS, record.citations)
    for part in PARTS:
        named_in(part, getattr(record, part.name), named)
    return named


def values(
    part: Part,
    record: schemas.Record,
    refs: References,
    where: Location,
    entry: models.Entry | None = None,
) -> dict[str, object]:
    """A part's row values from its record, citations aside; *entry* holds the parts that
    positions point into."""
    found: dict[str, object] = {column: stored(getattr(record, column)) for column in part.columns}
    for reference in part.references:
        key = getattr(record, reference.field)
        if reference.model is models.Entry and entry is not None and key == entry.slug:
            raise related_to_itself((*where, reference.field))
        found[reference.field] = (
            refs.resolve(reference, key, (*where, reference.field)) if key is not None else None
        )
    for position in part.positions:
        index = getattr(record, position.field)
        found[position.relationship] = (
            getattr(entry, position.part)[index] if index is not None and entry else None
        )
    return found


def citation_rows(record: schemas.Cited, refs: References, where: Location) -> list[models.Base]:
    return [
        row(CITATIONS, citation, refs, (*where, CITED_BY, index))
        for index, citation in enumerate(record.citations)
    ]


def row(
    part: Part,
    record: schemas.Record,
    refs: References,
    where: Location,
    entry: models.Entry | None = None,
) -> models.Base:
    """A new row of *part*, with its citations."""
    found = values(part, record, refs, where, entry)
    if isinstance(record, schemas.Cited):
        found[CITED_BY] = citation_rows(record, refs, where)
    return part.model(**found)


def entry_row(record: schemas.EntryRecord, refs: References, where: Location) -> models.Entry:
    """A new entry with everything attached except the parts that name other entries,
    which may be built later in the same import (see link_entries)."""
    own = {
        column: stored(value)
        for column in ENTRY_COLUMNS
        if (value := getattr(record, column)) is not None
    }
    entry = models.Entry(**own, citations=citation_rows(record, refs, where))
    for part in PARTS:
        if not refers_to_entries(part):
            _attach(entry, part, record, refs, where)
    return entry


def link_entries(
    entry: models.Entry, record: schemas.EntryRecord, refs: References, where: Location
) -> None:
    """Attach the parts that name other entries, once those exist."""
    for part in PARTS:
        if refers_to_entries(part):
            _attach(entry, part, record, refs, where)


def _attach(
    entry: models.Entry,
    part: Part,
    record: schemas.EntryRecord,
    refs: References,
    where: Location,
) -> None:
    items = getattr(record, part.name)
    setattr(
        entry,
        part.name,
        [row(part, item, refs, (*where, part.name, i), entry) for i, item in enumerate(items)],
    )


def source_row(record: schemas.SourceRecord) -> models.Source:
    row = models.Source(**record.model_dump(exclude={"identifiers"}))
    set_identifiers(row, record.identifiers)
    return row


def producer_row(record: schemas.ProducerRecord) -> models.Producer:
    row = models.Producer(**record.model_dump(exclude={"identifiers"}))
    set_identifiers(row, record.identifiers)
    return row


def set_identifiers(
    row: models.Source | models.Producer, records: list[schemas.IdentifierRecord]
) -> None:
    """Make *row*'s identifiers those of *records*, keeping the rows that stay (so that
    one flush never inserts a row beside the one it replaces)."""
    model = models.SourceIdentifier if isinstance(row, models.Source) else models.ProducerIdentifier
    current = {(i.scheme, i.value): i for i in row.identifiers}
    kept: list[Any] = []
    for record in records:
        found = current.pop((record.scheme.value, record.value), None)
        if found is None:
            found = model(scheme=record.scheme.value, value=record.value)
        found.note = record.note
        kept.append(found)
    row.identifiers = kept
