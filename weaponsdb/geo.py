"""Documented instances on a map: a GeoJSON FeatureCollection (RFC 7946) of the instances of
published entries that have coordinates, at the precision they were published with."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from weaponsdb import models
from weaponsdb.vocab import Category, Status

MEDIA_TYPE = "application/geo+json"


@dataclass(frozen=True)
class InstanceFilter:
    entry: str | None = None  # slug
    category: Category | None = None
    country: str | None = None  # where the instance was documented
    date_from: str | None = None  # YYYY, YYYY-MM or YYYY-MM-DD, compared by prefix
    date_to: str | None = None


def located_instances(session: Session, where: InstanceFilter) -> list[models.Instance]:
    query = (
        select(models.Instance)
        .join(models.Instance.entry)
        .where(
            models.Entry.status == Status.PUBLISHED.value,
            models.Instance.latitude.is_not(None),
        )
        .options(joinedload(models.Instance.entry))
        .order_by(models.Instance.date, models.Instance.id)
    )
    if where.entry:
        query = query.where(models.Entry.slug == where.entry)
    if where.category:
        query = query.where(models.Entry.category == where.category.value)
    if where.country:
        query = query.where(models.Instance.country == where.country)
    rows = list(session.scalars(query).unique())
    return [row for row in rows if within(row.date, where)]


def within(date: str | None, where: InstanceFilter) -> bool:
    """Partial dates compare by their common prefix: '2023' is within 2023-10 to 2024."""
    if where.date_from is None and where.date_to is None:
        return True
    if date is None:
        return False
    after = where.date_from is None or date[: len(where.date_from)] >= where.date_from[: len(date)]
    before = where.date_to is None or date[: len(where.date_to)] <= where.date_to[: len(date)]
    return after and before


def feature(instance: models.Instance, entry_url: str | None = None) -> dict[str, Any]:
    entry = instance.entry
    return {
        "type": "Feature",
        "id": instance.id,
        "geometry": {
            "type": "Point",
            "coordinates": [instance.longitude, instance.latitude],  # RFC 7946: lon, lat
        },
        "properties": {
            "entry": entry.slug,
            "entry_name": entry.name,
            "entry_url": entry_url,
            "category": entry.category,
            "event": instance.event,
            "place": instance.place,
            "country": instance.country,
            "date": instance.date,
            "precision": instance.precision,
            "description": instance.description,
        },
    }


def feature_collection(
    session: Session, where: InstanceFilter, base_url: str | None = None
) -> dict[str, Any]:
    instances = located_instances(session, where)
    return {
        "type": "FeatureCollection",
        "features": [
            feature(i, f"{base_url}/v1/entries/{i.entry.slug}" if base_url else None)
            for i in instances
        ],
    }
