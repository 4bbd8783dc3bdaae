"""What an observation is as sent, as shown, and as its review steps record it."""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Annotated, Any

from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator

from weaponsdb import models, schemas
from weaponsdb.catalogue.convert import utc
from weaponsdb.errors import invalid
from weaponsdb.matching.matcher import MAX_MARKINGS, ObservedMarking
from weaponsdb.vocab import (
    Category,
    Confidence,
    ObservationSourceKind,
    ObservationState,
    Precision,
)


def date_bounds(value: str) -> tuple[dt.date, dt.date]:
    """The first and last day a partial date (YYYY, YYYY-MM, YYYY-MM-DD) may mean."""
    parts = [int(part) for part in value.split("-")]
    year = parts[0]
    if len(parts) == 1:
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    month = parts[1]
    if len(parts) == 2:
        return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])
    day = dt.date(year, month, parts[2])
    return day, day


def date_precision(value: str | None) -> str | None:
    return {4: "year", 7: "month", 10: "day"}.get(len(value)) if value else None


class Submission(schemas.Located):
    """An observation as a contributor sends it (its photos come beside it)."""

    markings: list[ObservedMarking] = Field(
        default=[], max_length=MAX_MARKINGS, description="The markings as read, one each."
    )
    category: Category | None = None
    calibre_mm: schemas.Millimetres | None = None
    place: schemas.ShortText | None = Field(default=None, description="The place name.")
    country: schemas.CountryCode | None = None
    date_from: schemas.PartialDate | None = Field(
        default=None, description="When: YYYY, YYYY-MM or YYYY-MM-DD; its length is its precision."
    )
    date_to: schemas.PartialDate | None = Field(
        default=None, validate_default=True, description="The end of a range, if it is one."
    )
    source_kind: ObservationSourceKind = ObservationSourceKind.OWN
    source_url: schemas.Url | None = Field(default=None, validate_default=True)
    source_publication: schemas.ShortText | None = Field(default=None, validate_default=True)
    notes: schemas.Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unsaid(cls, values: object) -> object:
        """A form field left empty says nothing."""
        if isinstance(values, dict):
            return {name: value for name, value in values.items() if value not in (None, "", [])}
        return values

    # Each check is on the field it faults, so that a refusal names that field.
    @field_validator("date_from")
    @classmethod
    def _not_in_future(cls, value: str | None) -> str | None:
        if value is not None and date_bounds(value)[0] > dt.datetime.now(dt.UTC).date():
            raise ValueError("is in the future")
        return value

    @field_validator("date_to")
    @classmethod
    def _range_in_order(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        start = info.data.get("date_from")
        if start is None:
            raise ValueError("a range needs date_from too")
        if date_bounds(value)[0] > dt.datetime.now(dt.UTC).date():
            raise ValueError("is in the future")
        if date_bounds(value)[1] < date_bounds(start)[0]:
            raise ValueError("ends before date_from")
        return value

    @field_validator("source_url")
    @classmethod
    def _url_for_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("source_kind") is ObservationSourceKind.URL and value is None:
            raise ValueError("a source of kind 'url' needs its address")
        return value

    @field_validator("source_publication")
    @classmethod
    def _title_for_publication(cls, value: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("source_kind") is ObservationSourceKind.PUBLICATION and value is None:
            raise ValueError("a source of kind 'publication' needs the publication named")
        return value

    @classmethod
    def parse(cls, values: dict[str, Any]) -> Submission:
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise invalid(error, "The observation is invalid.") from None


class PhotoView(schemas.Record):
    position: int
    sha256: str = Field(description="SHA-256 of the working copy, stripped of all metadata.")
    media_type: str
    byte_size: int
    width: int
    height: int
    original_sha256: str = Field(description="SHA-256 of the file as received.")
    original_byte_size: int
    original_media_type: str


class ObservationView(schemas.Record):
    """An observation as shown to whoever may see it: coordinates and originals only to
    editors (None for anyone else, whatever the observation holds)."""

    id: int
    state: ObservationState
    version: int
    submitter: str
    markings: list[str]
    category: str | None
    calibre_mm: float | None
    latitude: float | None
    longitude: float | None
    precision: str | None
    place: str | None
    country: str | None
    date_from: str | None
    date_to: str | None
    date_precision: str | None = Field(description="year, month or day, from date_from.")
    source_kind: str
    source_url: str | None
    source_publication: str | None
    notes: str | None
    candidates: dict[str, Any] = Field(
        description="Identification at submission, ranked, with explanations, as it stood."
    )
    entry: str | None = Field(description="Slug of the entry it was linked to.")
    photos: list[PhotoView]
    coordinates_hidden: bool = Field(
        description="True when the observation has coordinates this caller may not see."
    )
    created_at: dt.datetime
    updated_at: dt.datetime


def view_of(row: models.Observation, editor: bool) -> ObservationView:
    hidden = not editor and row.latitude is not None
    return ObservationView(
        id=row.id,
        state=ObservationState(row.state),
        version=row.version,
        submitter=row.submitter,
        markings=list(row.markings),
        category=row.category,
        calibre_mm=float(row.calibre_mm) if row.calibre_mm is not None else None,
        latitude=None if hidden else row.latitude,
        longitude=None if hidden else row.longitude,
        precision=None if hidden else row.precision,
        place=row.place,
        country=row.country,
        date_from=row.date_from,
        date_to=row.date_to,
        date_precision=date_precision(row.date_from),
        source_kind=row.source_kind,
        source_url=row.source_url,
        source_publication=row.source_publication,
        notes=row.notes,
        candidates=dict(row.candidates),
        entry=row.entry.slug if row.entry is not None else None,
        photos=[
            PhotoView(
                position=photo.position,
                sha256=photo.sha256,
                media_type=photo.media_type,
                byte_size=photo.byte_size,
                width=photo.width,
                height=photo.height,
                original_sha256=photo.original_sha256,
                original_byte_size=photo.original_byte_size,
                original_media_type=photo.original_media_type,
            )
            for photo in row.photos
        ],
        coordinates_hidden=hidden,
        created_at=utc(row.created_at),
        updated_at=utc(row.updated_at),
    )


Note = Annotated[
    str,
    Field(min_length=3, max_length=4000, description="Why: the reason, request or comment."),
]


class Comment(schemas.Record):
    note: Note


class Link(schemas.Record):
    """Linking an observation to an entry as a documented instance of it."""

    entry: schemas.Key = Field(description="Slug of the entry the item is an instance of.")
    event: schemas.Text = Field(description="What the instance is, as the entry will show it.")
    confidence: Confidence = Field(description="How firmly the citation supports the link.")
    source: schemas.Key | None = Field(
        default=None,
        description="Key of the catalogue source the link rests on; left out, the "
        "observation itself is recorded as a source (observation-<id>).",
    )
    quote: schemas.Text | None = None
    locator: schemas.ShortText | None = None
    precision: Precision | None = Field(
        default=None,
        description="How precisely to publish the place: no finer than the observation's; "
        "left out, no coordinates are published.",
    )
    place: schemas.ShortText | None = Field(
        default=None,
        description="The place name to publish; left out, the observation's own, but only "
        "when the place is published at exact or place precision (a village's name would "
        "undo a region's rounding).",
    )
    note: Note
