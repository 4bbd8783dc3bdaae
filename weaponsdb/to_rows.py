"""From interchange records to database rows: the mirror of to_records."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from weaponsdb import models, schemas
from weaponsdb.errors import FieldError, InvalidInputError

T = TypeVar("T")


class References:
    """Sources, producers and entries that records may point at, by key or slug."""

    def __init__(
        self,
        sources: Mapping[str, models.Source],
        producers: Mapping[str, models.Producer],
        entries: Mapping[str, models.Entry],
    ) -> None:
        self.sources = dict(sources)
        self.producers = dict(producers)
        self.entries = dict(entries)

    def source(self, key: str, where: str) -> models.Source:
        return _resolve(self.sources, key, where, "no source has this key")

    def producer(self, key: str, where: str) -> models.Producer:
        return _resolve(self.producers, key, where, "no producer has this key")

    def entry(self, slug: str, where: str) -> models.Entry:
        return _resolve(self.entries, slug, where, "no entry has this slug")


def _resolve(table: Mapping[str, T], key: str, where: str, reason: str) -> T:
    try:
        return table[key]
    except KeyError:
        raise InvalidInputError(
            f"{where} refers to '{key}', but {reason}.", [FieldError(where, reason)]
        ) from None


def source(record: schemas.SourceRecord) -> models.Source:
    return models.Source(**record.model_dump())


def producer(record: schemas.ProducerRecord) -> models.Producer:
    return models.Producer(**record.model_dump())


def citations(
    records: list[schemas.CitationRecord], refs: References, where: str
) -> list[models.Citation]:
    return [
        models.Citation(
            source=refs.source(c.source, f"{where}.citations[{i}].source"),
            via=refs.source(c.via, f"{where}.citations[{i}].via") if c.via else None,
            confidence=c.confidence.value,
            field=c.field,
            quote=c.quote,
            locator=c.locator,
            note=c.note,
        )
        for i, c in enumerate(records)
    ]


def _plain(record: schemas.Cited, *exclude: str) -> dict[str, object]:
    """A record's own columns, enums as their stored values."""
    return record.model_dump(mode="json", exclude={"citations", *exclude})


def name(record: schemas.NameRecord, refs: References, where: str) -> models.EntryName:
    return models.EntryName(**_plain(record), citations=citations(record.citations, refs, where))


def feature(record: schemas.FeatureRecord, refs: References, where: str) -> models.Feature:
    return models.Feature(**_plain(record), citations=citations(record.citations, refs, where))


def marking(record: schemas.MarkingRecord, refs: References, where: str) -> models.Marking:
    return models.Marking(**_plain(record), citations=citations(record.citations, refs, where))


def measurement(
    record: schemas.MeasurementRecord, refs: References, where: str
) -> models.Measurement:
    return models.Measurement(
        **_plain(record, "value"),
        value=record.value,
        citations=citations(record.citations, refs, where),
    )


def producer_link(
    record: schemas.ProducerLinkRecord, refs: References, where: str
) -> models.EntryProducer:
    return models.EntryProducer(
        producer=refs.producer(record.producer, f"{where}.producer"),
        role=record.role,
        citations=citations(record.citations, refs, where),
    )


def relation(record: schemas.RelationRecord, refs: References, where: str) -> models.Relation:
    return models.Relation(
        kind=record.kind.value,
        target=refs.entry(record.target, f"{where}.target"),
        citations=citations(record.citations, refs, where),
    )


def instance(record: schemas.InstanceRecord, refs: References, where: str) -> models.Instance:
    return models.Instance(**_plain(record), citations=citations(record.citations, refs, where))


def photo(
    record: schemas.PhotoRecord, markings: list[models.Marking], refs: References, where: str
) -> models.Photo:
    index = record.marking_index
    return models.Photo(
        **_plain(record, "marking_index"),
        marking=markings[index] if index is not None else None,
        citations=citations(record.citations, refs, where),
    )


ENTRY_COLUMNS = (
    "slug",
    "name",
    "category",
    "calibre_designation",
    "country",
    "family",
    "description",
    "status",
    "retraction_reason",
)


def entry(record: schemas.EntryRecord, refs: References, where: str) -> models.Entry:
    """An entry with everything attached except relations, which may point at entries that
    are built later in the same import (see relations_of)."""
    row = models.Entry(
        **record.model_dump(mode="json", include=set(ENTRY_COLUMNS)),
        calibre_mm=record.calibre_mm,
        citations=citations(record.citations, refs, where),
    )
    if record.created_at:
        row.created_at = record.created_at
    if record.updated_at:
        row.updated_at = record.updated_at
    row.retracted_at = record.retracted_at
    row.names = [name(r, refs, f"{where}.names[{i}]") for i, r in enumerate(record.names)]
    row.features = [
        feature(r, refs, f"{where}.features[{i}]") for i, r in enumerate(record.features)
    ]
    row.markings = [
        marking(r, refs, f"{where}.markings[{i}]") for i, r in enumerate(record.markings)
    ]
    row.measurements = [
        measurement(r, refs, f"{where}.measurements[{i}]")
        for i, r in enumerate(record.measurements)
    ]
    row.producers = [
        producer_link(r, refs, f"{where}.producers[{i}]") for i, r in enumerate(record.producers)
    ]
    row.instances = [
        instance(r, refs, f"{where}.instances[{i}]") for i, r in enumerate(record.instances)
    ]
    row.photos = [
        photo(r, row.markings, refs, f"{where}.photos[{i}]") for i, r in enumerate(record.photos)
    ]
    return row


def relations_of(
    record: schemas.EntryRecord, refs: References, where: str
) -> list[models.Relation]:
    return [relation(r, refs, f"{where}.relations[{i}]") for i, r in enumerate(record.relations)]
