"""Pins on the pages' maps and lines of their timeline: documented instances, and (for
editors only) observations waiting for review."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from weaponsdb import geo, models
from weaponsdb.observations import reviewing


@dataclass(frozen=True)
class Pin:
    """A point on the map and a line of the timeline."""

    id: str  # the anchor of its timeline line
    longitude: float
    latitude: float
    date: str | None
    label: str
    href: str
    pending: bool
    precision: str | None


def _pin(
    anchor: str, row: models.Instance | models.Observation, date: str | None, label: str, href: str
) -> Pin:
    """Rows of either kind hold their place the same way: coordinates, precision, name."""
    place = f", {row.place}" if row.place else ""
    pending = isinstance(row, models.Observation)
    return Pin(
        anchor,
        float(row.longitude or 0),
        float(row.latitude or 0),
        date,
        label + place,
        href,
        pending,
        row.precision,
    )


def instance_pins(instances: list[models.Instance]) -> list[Pin]:
    return [
        _pin(
            f"instance-{i.id}",
            i,
            i.date,
            f"{i.entry.name}: {i.event}",
            f"/entries/{i.entry.slug}#instance-{i.id}",
        )
        for i in instances
    ]


def pending_pins(session: Session, where: geo.InstanceFilter) -> list[Pin]:
    """Observations waiting for review, with the contributor's own coordinates: for
    editors' eyes only."""
    if where.entry:
        return []
    query = select(models.Observation).where(
        models.Observation.state.in_([s.value for s in reviewing.OPEN]),
        models.Observation.latitude.is_not(None),
    )
    if where.category:
        query = query.where(models.Observation.category == where.category.value)
    if where.country:
        query = query.where(models.Observation.country == where.country)
    return [
        _pin(
            f"observation-{o.id}",
            o,
            o.date_from,
            f"Pending observation {o.id}",
            f"/observations/{o.id}",
        )
        for o in session.scalars(query.order_by(models.Observation.id))
        if geo.within(o.date_from, where)
    ]


def timeline(pins: list[Pin]) -> list[tuple[str, list[Pin]]]:
    """The pins by year, oldest first; undated last."""
    years: dict[str, list[Pin]] = {}
    for pin in sorted(pins, key=lambda p: (p.date is None, p.date or "", p.id)):
        years.setdefault(pin.date[:4] if pin.date else "Date not given", []).append(pin)
    return list(years.items())
