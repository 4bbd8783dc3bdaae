"""From database rows to interchange records (the one place that knows both shapes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from weaponsdb import models, schemas


def utc(moment: dt.datetime) -> dt.datetime:
    """SQLite hands back naive timestamps; every timestamp we store is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def citations(rows: Sequence[models.Citation]) -> list[schemas.CitationRecord]:
    return [
        schemas.CitationRecord(
            source=row.source.key,
            confidence=row.confidence,
            field=row.field,
            quote=row.quote,
            locator=row.locator,
            note=row.note,
            via=row.via.key if row.via else None,
        )
        for row in rows
    ]


def entry(row: models.Entry) -> schemas.EntryRecord:
    marking_index = {marking.id: index for index, marking in enumerate(row.markings)}
    return schemas.EntryRecord.model_validate(
        {
            "slug": row.slug,
            "name": row.name,
            "category": row.category,
            "calibre_mm": row.calibre_mm,
            "calibre_designation": row.calibre_designation,
            "country": row.country,
            "family": row.family,
            "description": row.description,
            "status": row.status,
            "retraction_reason": row.retraction_reason,
            "retracted_at": utc(row.retracted_at) if row.retracted_at else None,
            "created_at": utc(row.created_at),
            "updated_at": utc(row.updated_at),
            "citations": citations(row.citations),
            "names": [_cited(n, "text", "script", "language", "kind") for n in row.names],
            "features": [_cited(f, "kind", "description", "diagnostic") for f in row.features],
            "markings": [
                _cited(m, "text", "script", "language", "kind", "position", "meaning", "pattern")
                for m in row.markings
            ],
            "measurements": [
                _cited(m, "quantity", "value", "unit", "note") for m in row.measurements
            ],
            "producers": [{**_cited(p, "role"), "producer": p.producer.key} for p in row.producers],
            "relations": [{**_cited(r, "kind"), "target": r.target.slug} for r in row.relations],
            "instances": [
                _cited(i, "event", "place", "country", "date", "description") for i in row.instances
            ],
            "photos": [
                {
                    **_cited(p, *PHOTO_COLUMNS),
                    "marking_index": marking_index.get(p.marking_id) if p.marking_id else None,
                }
                for p in row.photos
            ],
        }
    )


PHOTO_COLUMNS = (
    "sha256",
    "original_sha256",
    "media_type",
    "byte_size",
    "width",
    "height",
    "caption",
    "view",
    "credit",
    "licence",
    "source_url",
    "captured_on",
    "phash",
)


def _cited(row: object, *columns: str) -> dict[str, object]:
    values: dict[str, object] = {column: getattr(row, column) for column in columns}
    values["citations"] = citations(getattr(row, "citations"))  # noqa: B009
    return values


def source(row: models.Source) -> schemas.SourceRecord:
    return schemas.SourceRecord.model_validate(row, from_attributes=True)


def producer(row: models.Producer) -> schemas.ProducerRecord:
    return schemas.ProducerRecord.model_validate(row, from_attributes=True)
