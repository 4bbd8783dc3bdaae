"""The catalogue interchange format: Pydantic records used for seed data, export/import and
API responses alike, so that every path validates catalogue content the same way."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from decimal import Decimal
from typing import Annotated, Any, Literal

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
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
    IdentifierScheme,
    MarkingKind,
    NameKind,
    PhotoView,
    Precision,
    Quantity,
    RelationKind,
    SourceKind,
    Status,
    Unit,
)

FORMAT: Literal["weaponsdb-catalogue"] = "weaponsdb-catalogue"
FORMAT_VERSION: Literal[1] = 1

# Character classes written as escapes, so that the same text is both the check here and
# the pattern the OpenAPI description declares (Python, ECMAScript and Rust read it alike).
_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
# Embeddings, overrides and isolates make text display otherwise than it reads.
_BIDI = r"\u202a-\u202e\u2066-\u2069"
_CONTROL_CHARACTERS = re.compile(f"[{_CONTROL}]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_BIDI_CONTROLS = re.compile(f"[{_BIDI}]")
# Declared patterns: text with no control character; catalogue text, with no bidirectional
# control either and something besides white space (it is stripped).
PRINTABLE_PATTERN = f"^[^{_CONTROL}]*$"
# Printable, with at least one letter or digit (in Python's sense, as schemathesis reads it).
LEGIBLE_PATTERN = f"^[^{_CONTROL}]*[^\\W_][^{_CONTROL}]*$"
STORABLE_PATTERN = f"^[^{_CONTROL}{_BIDI}]*[^\\s{_CONTROL}{_BIDI}][^{_CONTROL}{_BIDI}]*$"


def declared(**schema: Any) -> Any:
    """What a validator enforces (a pattern, an enum), shown in the JSON Schema without
    pydantic-core checking it a second time (the validator's own message says what is wrong)."""
    return Field(json_schema_extra=schema)


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


def at_most(characters: int) -> Any:
    """The declared maxLength, counted as sent: before the white space around it is
    stripped, so that what the schema refuses the service refuses too."""

    def sent_length(value: Any) -> Any:
        if isinstance(value, str) and len(value) > characters:
            raise ValueError(f"must have at most {characters} characters")
        return value

    return BeforeValidator(sent_length)


Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    at_most(4000),
    AfterValidator(storable),
    declared(pattern=STORABLE_PATTERN),
]
ShortText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    at_most(200),
    AfterValidator(storable),
    declared(pattern=STORABLE_PATTERN),
]
KEY_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"  # slugs and keys: lower-case words joined by hyphens
Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN, max_length=80)]
# What _iso_partial_date takes, but for days a month lacks (2023-02-30).
PARTIAL_DATE_PATTERN = (
    r"^(000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
    r"(-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"
)
PartialDate = Annotated[
    str, AfterValidator(_iso_partial_date), declared(pattern=PARTIAL_DATE_PATTERN)
]
COUNTRY_CODES = sorted(country.alpha_2 for country in pycountry.countries)
CountryCode = Annotated[str, AfterValidator(_country_code), declared(enum=COUNTRY_CODES)]
ScriptCode = Annotated[str, StringConstraints(pattern=r"^[A-Z][a-z]{3}$")]  # ISO 15924
LanguageTag = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")]
# No white space nor control character: PostgreSQL refuses a NUL in text, and a URL holds none.
Url = Annotated[str, StringConstraints(pattern=f"^https?://[^\\s{_CONTROL}]+$", max_length=2000)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
PerceptualHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]


# Quantities are exact decimals inside; JSON readers expect plain numbers.
def _positive_decimal_pattern(digits: int, places: int) -> str:
    """Digits of a positive decimal, without a lookahead (generators filter on those)."""
    whole = rf"[1-9][0-9]{{0,{digits - places - 1}}}(\.[0-9]{{1,{places}}})?"
    fractions = "|".join(
        rf"0{{{zeros}}}[1-9][0-9]{{0,{places - 1 - zeros}}}" for zeros in range(places)
    )
    return rf"^({whole}|0\.({fractions}))$"


def _exact_decimal(digits: int, places: int) -> tuple[Any, ...]:
    """A positive decimal of at most *digits* digits, *places* after the point, as a JSON
    number (a multiple of 10^-places; a float's last-bit noise, as in 0.29000000000000004,
    is the number meant) or a string of digits, and declared so."""
    step = Decimal(1).scaleb(-places)
    largest = Decimal(10) ** (digits - places) - step

    def snapped(value: Any) -> Any:
        if isinstance(value, float) and math.isfinite(value):
            nearest = round(value, places)
            if abs(value - nearest) <= 1e-9 * max(1.0, abs(value)):
                return Decimal(str(nearest))
        return value

    declared_schema = {
        "anyOf": [
            {
                "type": "number",
                "minimum": float(step),
                "maximum": float(largest),
                "multipleOf": float(step),
            },
            {"type": "string", "pattern": _positive_decimal_pattern(digits, places)},
        ]
    }
    return (
        BeforeValidator(snapped),
        Field(gt=0, max_digits=digits, decimal_places=places),
        WithJsonSchema(declared_schema, mode="validation"),
        PlainSerializer(float, when_used="json"),
    )


Millimetres = Annotated[Decimal, *_exact_decimal(7, 2)]
Amount = Annotated[Decimal, *_exact_decimal(12, 3)]


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


Latitude = Annotated[float, Field(ge=-90, le=90, description="WGS 84 degrees north.")]
Longitude = Annotated[float, Field(ge=-180, le=180, description="WGS 84 degrees east.")]


class Located(Record):
    """Coordinates with how precise they are: both or neither, and a precision with them.
    Each check is on the field it faults, so that a refusal names that field."""

    latitude: Latitude | None = None
    longitude: Longitude | None = Field(default=None, validate_default=True)
    precision: Precision | None = Field(
        default=None,
        validate_default=True,
        description="What the coordinates stand for: exact, place, region or country.",
    )

    @field_validator("longitude")
    @classmethod
    def _both_coordinates(cls, longitude: float | None, info: ValidationInfo) -> float | None:
        if "latitude" in info.data and (longitude is None) != (info.data["latitude"] is None):
            raise ValueError("give both latitude and longitude, or neither")
        return longitude

    @field_validator("precision")
    @classmethod
    def _precision_with_coordinates(
        cls, precision: Precision | None, info: ValidationInfo
    ) -> Precision | None:
        if "latitude" not in info.data:  # already refused for itself
            return precision
        located = info.data["latitude"] is not None
        if located and precision is None:
            raise ValueError("coordinates need a precision: exact, place, region or country")
        if precision is not None and not located:
            raise ValueError("a precision needs coordinates")
        return precision


class InstanceRecord(Located, Cited):
    event: Text
    place: Text | None = Field(default=None, description="The place name.")
    country: CountryCode | None = None
    date: PartialDate | None = None
    description: Text | None = None


WIKIDATA_ID = r"^Q[1-9][0-9]*$"


class IdentifierRecord(Record):
    """The entry in another catalogue (Wikidata first), or a file elsewhere that shows it."""

    scheme: IdentifierScheme
    value: ShortText = Field(examples=["Q1234567"])
    note: Text | None = Field(
        default=None, description="E.g. a Commons file's licence, or where it was found."
    )

    @model_validator(mode="after")
    def _value_fits_scheme(self) -> IdentifierRecord:
        if self.scheme is IdentifierScheme.WIKIDATA and not re.fullmatch(WIKIDATA_ID, self.value):
            raise ValueError("a Wikidata identifier is Q followed by digits, e.g. Q1234567")
        return self


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
    identifiers: list[IdentifierRecord] = []

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
    identifiers: list[IdentifierRecord] = []


class ProducerRecord(Record):
    key: Key
    name: ShortText
    country: CountryCode | None = None
    factory_code: ShortText | None = None
    description: Text | None = None
    identifiers: list[IdentifierRecord] = []


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
