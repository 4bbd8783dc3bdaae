"""The catalogue interchange format: Pydantic records used for seed data, export/import and
API responses alike, so that every path validates catalogue content the same way."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from typing import Annotated, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from weaponsdb.matching import patterns
from weaponsdb.matching.normalise import fold, key
from weaponsdb.vocab import (
    Category,
    Confidence,
    Diagnosticity,
    FeatureKind,
    MarkingKind,
    NameKind,
    PhotoView,
    Quantity,
    RelationKind,
    SourceKind,
    Status,
    Unit,
)

FORMAT: Literal["weaponsdb-catalogue"] = "weaponsdb-catalogue"
FORMAT_VERSION: Literal[1] = 1

_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
# Embeddings, overrides and isolates make text display otherwise than it reads.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def printable(value: str) -> str:
    if _CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters")
    if _SURROGATES.search(value):
        raise ValueError("must not contain unpaired surrogates (not valid Unicode text)")
    return value


def storable(value: str) -> str:
    """Text the catalogue keeps and journalists quote: printable, and displayed as it reads."""
    if _BIDI_CONTROLS.search(printable(value)):
        raise ValueError(
            "must not contain bidirectional control characters (U+202A-U+202E, "
            "U+2066-U+2069): they make text display otherwise than it reads"
        )
    return value


def _iso_partial_date(value: str) -> str:
    """Sources often give only a year or a month: accept YYYY, YYYY-MM and YYYY-MM-DD."""
    padded = {4: "-01-01", 7: "-01", 10: ""}.get(len(value))
    if padded is None or not re.fullmatch(r"\d{4}(-\d{2}){0,2}", value):
        raise ValueError("must be an ISO 8601 date: YYYY, YYYY-MM or YYYY-MM-DD")
    dt.date.fromisoformat(value + padded)
    return value


def _country_code(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError("must be an ISO 3166-1 alpha-2 country code, e.g. KP")
    return value


def country_name(code: str | None) -> str | None:
    country = pycountry.countries.get(alpha_2=code) if code else None
    return getattr(country, "common_name", None) or getattr(country, "name", None)


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(storable),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(storable),
]
KEY_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # slugs and keys: lower-case words joined by hyphens
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=80)]
PartialDate = Annotated[str, AfterValidator(_iso_partial_date)]
CountryCode = Annotated[str, AfterValidator(_country_code)]
ScriptCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][a-z]{3}$")]  # ISO 15924
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
PerceptualHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]

# Quantities are exact decimals inside; JSON readers expect plain numbers.
Millimetres = Annotated[
    Decimal, Field(gt=0, max_digits=7, decimal_places=2), PlainSerializer(float, when_used="json")
]
Amount = Annotated[
    Decimal, Field(gt=0, max_digits=12, decimal_places=3), PlainSerializer(float, when_used="json")
]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CitationRecord(Record):
    source: Key = Field(description="Key of the source that makes the claim.")
    confidence: Confidence
    field: Literal["name", "category", "calibre", "country", "family", "description"] | None = (
        Field(default=None, description="On an entry: the attribute the source supports.")
    )
    quote: Text | None = None
    locator: ShortText | None = Field(default=None, description="Page, paragraph or timestamp.")
    note: Text | None = None
    via: Key | None = Field(
        default=None, description="Key of the publication through which the claim reached us."
    )


class Cited(Record):
    citations: list[CitationRecord] = []


class NameRecord(Cited):
    text: ShortText
    script: ScriptCode | None = None
    language: LanguageTag | None = None
    kind: NameKind


class FeatureRecord(Cited):
    kind: FeatureKind
    description: Text
    diagnostic: Diagnosticity | None = None


class MarkingRecord(Cited):
    text: ShortText
    script: ScriptCode | None = None
    language: LanguageTag | None = None
    kind: MarkingKind | None = None
    position: Text | None = None
    meaning: Text | None = None
    pattern: ShortText | None = Field(
        default=None,
        description="The marking with its variable parts as placeholders, e.g. "
        "'Bang-122 {lot}'; see weaponsdb/matching/patterns.py for the placeholders.",
    )

    @field_validator("pattern")
    @classmethod
    def _text_fits_pattern(cls, pattern: str | None, info: ValidationInfo) -> str | None:
        text = info.data.get("text")
        if pattern is None or text is None:
            return pattern
        if not patterns.compile_pattern(pattern).fullmatch(key(fold(text))):
            raise ValueError(f"the marking's text '{text}' does not fit the pattern")
        return pattern


class MeasurementRecord(Cited):
    quantity: Quantity
    value: Amount
    unit: Unit
    note: Text | None = None


class ProducerLinkRecord(Cited):
    producer: Key
    role: ShortText | None = None


class RelationRecord(Cited):
    kind: RelationKind
    target: Key = Field(description="Slug of the related entry.")


class InstanceRecord(Cited):
    event: Text
    place: Text | None = None
    country: CountryCode | None = None
    date: PartialDate | None = None
    description: Text | None = None


class PhotoRecord(Cited):
    sha256: Sha256
    original_sha256: Sha256
    media_type: ShortText
    byte_size: Annotated[int, Field(gt=0)]
    width: Annotated[int, Field(gt=0)]
    height: Annotated[int, Field(gt=0)]
    caption: Text | None = None
    view: PhotoView | None = None
    credit: ShortText
    licence: ShortText
    source_url: Url | None = None
    captured_on: PartialDate | None = Field(
        default=None, description="When the photo was taken, as the uploader gave it."
    )
    phash: PerceptualHash | None = Field(
        default=None, description="Perceptual hash (pHash) of the stored image, for matching."
    )
    marking_index: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Position in the entry's markings of the marking shown."
    )


class EntryAttributes(Record):
    """The attributes of an entry that editors set, each optional here: a change
    (editing.EntryChanges) names only those it changes. An entry requires a name."""

    name: ShortText | None = None
    category: Category | None = None
    calibre_mm: Millimetres | None = None
    calibre_designation: ShortText | None = None
    country: CountryCode | None = None
    family: ShortText | None = None
    description: Text | None = None
    status: Status | None = None


class _Slugged(Record):
    slug: Key


# Bases in this order keep the fields in the order records have always been written in:
# citations, slug, the attributes, then the rest.
class EntryRecord(EntryAttributes, _Slugged, Cited):
    name: ShortText
    status: Status = Status.DRAFT
    retraction_reason: Text | None = Field(
        default=None, description="Why the entry was retracted; set exactly when it was."
    )
    retracted_at: dt.datetime | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    names: list[NameRecord] = []
    features: list[FeatureRecord] = []
    markings: list[MarkingRecord] = []
    measurements: list[MeasurementRecord] = []
    producers: list[ProducerLinkRecord] = []
    relations: list[RelationRecord] = []
    instances: list[InstanceRecord] = []
    photos: list[PhotoRecord] = []

    @model_validator(mode="after")
    def _retraction_has_reason(self) -> EntryRecord:
        if (self.status is Status.RETRACTED) != (self.retraction_reason is not None):
            raise ValueError("a retracted entry needs a retraction_reason, and only it has one")
        return self

    @model_validator(mode="after")
    def _photo_markings_exist(self) -> EntryRecord:
        for photo in self.photos:
            if photo.marking_index is not None and photo.marking_index >= len(self.markings):
                raise ValueError(
                    f"photo {photo.sha256[:12]} refers to marking {photo.marking_index}"
                    f", but the entry has {len(self.markings)} markings"
                )
        return self

    def cited_source_keys(self) -> set[str]:
        """The sources behind every claim, and the publications that relayed them."""
        citations = self.all_citations()
        return {c.source for c in citations} | {c.via for c in citations if c.via}

    def all_citations(self) -> list[CitationRecord]:
        """The entry's own citations and those of every part it holds."""
        parts = (getattr(self, name) for name, field in type(self).model_fields.items())
        held = [item for value in parts if isinstance(value, list) for item in value]
        return [
            *self.citations,
            *(c for item in held if isinstance(item, Cited) for c in item.citations),
        ]


class SourceRecord(Record):
    key: Key
    kind: SourceKind
    title: Text | None = None
    author: ShortText | None = None
    publisher: ShortText | None = None
    published: PartialDate | None = None
    url: Url | None = None
    description: Text | None = None


class ProducerRecord(Record):
    key: Key
    name: ShortText
    country: CountryCode | None = None
    factory_code: ShortText | None = None
    description: Text | None = None


class RevisionRecord(Record):
    """One immutable revision of an entry: the entry as it stood after a change."""

    entry: Key = Field(description="Slug of the entry.")
    number: Annotated[int, Field(gt=0)]
    created_at: dt.datetime
    author: ShortText = Field(description="Name of the API key that made the change.")
    note: Text = Field(description="The change note.")
    snapshot: EntryRecord

    @model_validator(mode="after")
    def _snapshot_of_this_entry(self) -> RevisionRecord:
        if self.snapshot.slug != self.entry:
            raise ValueError(f"the snapshot is of '{self.snapshot.slug}', not '{self.entry}'")
        return self


class SourceRevisionRecord(Record):
    """One immutable revision of a source: the source as it stood after a change."""

    source: Key = Field(description="Key of the source.")
    number: Annotated[int, Field(gt=0)]
    created_at: dt.datetime
    author: ShortText
    note: Text
    snapshot: SourceRecord

    @model_validator(mode="after")
    def _snapshot_of_this_source(self) -> SourceRevisionRecord:
        if self.snapshot.key != self.source:
            raise ValueError(f"the snapshot is of '{self.snapshot.key}', not '{self.source}'")
        return self


class CatalogueDocument(Record):
    """A whole catalogue, or part of one, as exchanged in JSON files."""

    format: Literal["weaponsdb-catalogue"] = FORMAT
    format_version: Literal[1] = FORMAT_VERSION
    exported_at: dt.datetime | None = None
    sources: list[SourceRecord] = []
    producers: list[ProducerRecord] = []
    entries: list[EntryRecord] = []
    revisions: list[RevisionRecord] = Field(
        default=[], description="The history of the entries; empty means none was kept."
    )
    source_revisions: list[SourceRevisionRecord] = Field(
        default=[], description="The history of the sources; empty means none was kept."
    )

    @model_validator(mode="after")
    def _keys_unique(self) -> CatalogueDocument:
        for label, keys in (
            ("source key", [s.key for s in self.sources]),
            ("producer key", [p.key for p in self.producers]),
            ("entry slug", [e.slug for e in self.entries]),
        ):
            duplicates = sorted(k for k, n in Counter(keys).items() if n > 1)
            if duplicates:
                raise ValueError(f"duplicate {label}: {', '.join(duplicates)}")
        return self

    @model_validator(mode="after")
    def _revisions_of_these_entries(self) -> CatalogueDocument:
        slugs = {e.slug for e in self.entries}
        strays = sorted({r.entry for r in self.revisions} - slugs)
        if strays:
            raise ValueError(f"revisions of entries the document lacks: {', '.join(strays)}")
        keys = {s.key for s in self.sources}
        strays = sorted({r.source for r in self.source_revisions} - keys)
        if strays:
            raise ValueError(f"revisions of sources the document lacks: {', '.join(strays)}")
        return self
