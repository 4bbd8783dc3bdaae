"""Response bodies of the API: the shapes made of the core's plain values (records,
snapshots, pages of rows), with the links a client follows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Generic, Self, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session
from starlette.responses import Response

from weaponsdb import citing, models, revisions, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.catalogue.read import Snapshot
from weaponsdb.photos.matching import PhotoMatch
from weaponsdb.revisions import ENTRIES

T = TypeVar("T")


class JsonBody(Response):
    """A model's JSON as the answer, written once: FastAPI would validate a returned model
    again against the route's response model (and, for a plain function, in the thread
    pool) before writing it."""

    media_type = "application/json"

    def __init__(self, body: BaseModel, status_code: int = 200) -> None:
        super().__init__(body.model_dump_json().encode(), status_code)


class Page(BaseModel, Generic[T]):
    """Every list the API answers: one page of items, and how to get the next."""

    items: list[T]
    total: int = Field(description="How many there are, on all pages.")
    limit: int
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )

    @classmethod
    def of(cls, page: read.Page[Any], items: list[T], limit: int, **context: str) -> Self:
        """The envelope of *page*, holding *items* made of its rows; *context* fills the
        fields a kind of page adds (e.g. the entry whose revisions these are)."""
        return cls(
            items=items, total=page.total, limit=limit, next_cursor=page.next_cursor, **context
        )


class EntrySummary(BaseModel):
    slug: str
    name: str
    category: str | None
    calibre_mm: schemas.Millimetres | None
    calibre_designation: str | None
    country: str | None
    country_name: str | None
    status: str
    designations: list[str] = Field(description="Names, designations and aliases as written.")
    markings: list[str] = Field(description="Marking texts as written.")
    url: str = Field(description="Permanent link to the entry.")

    @classmethod
    def of(cls, entry: models.Entry, base: str) -> EntrySummary:
        return cls(
            slug=entry.slug,
            name=entry.name,
            category=entry.category,
            calibre_mm=Decimal(entry.calibre_mm) if entry.calibre_mm is not None else None,
            calibre_designation=entry.calibre_designation,
            country=entry.country,
            country_name=schemas.country_name(entry.country),
            status=entry.status,
            designations=[n.text for n in entry.names],
            markings=[m.text for m in entry.markings],
            url=entry_url(base, entry.slug),
        )


class EntryPage(Page[EntrySummary]):
    """Entries that match the filters."""


class PhotoDetail(schemas.PhotoRecord):
    url: str = Field(description="The stored image (metadata stripped, upright).")
    thumb_url: str = Field(description="A JPEG at most 256 pixels on its long side.")
    medium_url: str = Field(description="A JPEG at most 1024 pixels on its long side.")

    @classmethod
    def of(cls, record: schemas.PhotoRecord, base: str) -> PhotoDetail:
        return cls(**record.model_dump(), **photo_urls(base, record.sha256))


class EntryDetail(schemas.EntryRecord):
    photos: list[PhotoDetail] = Field(  # type: ignore[assignment]
        default=[], description="The photo records, with links to the images."
    )
    url: str = Field(description="Permanent link to the entry.")
    version: int = Field(description="Bumped by every change; the ETag, and the latest revision.")
    revision_url: str = Field(description="Permanent link to this version: cite this one.")
    country_name: str | None
    sources: list[schemas.SourceRecord] = Field(
        description="Every source cited anywhere in the entry, by key."
    )


class SourcePage(Page[schemas.SourceRecord]):
    """Sources, by key."""


class MatchedPhoto(PhotoMatch):
    entry_url: str
    url: str
    thumb_url: str
    medium_url: str

    @classmethod
    def with_links(cls, match: PhotoMatch, base: str) -> MatchedPhoto:
        return cls(
            **match.model_dump(),
            entry_url=entry_url(base, match.entry),
            **photo_urls(base, match.sha256),
        )


class Health(BaseModel):
    status: str
    database: str
    schema_revision: str | None
    expected_revision: str | None
    reading: str = Field(
        default="ok",
        description="Whether photos can be read (Tesseract and its language packs); else "
        "what is missing. The rest of the service works without them.",
    )
    matching_index: str = Field(
        description="'ready (generation G)' once the match index is loaded or built, "
        "'building' while it is (a big catalogue's matches are answered from the database "
        "meanwhile, and say so), 'not built' before."
    )
    worker: int = Field(
        description="The id of the worker process that answered (`serve --workers N`)."
    )


def photo_urls(base: str, sha256: str) -> dict[str, str]:
    url = f"{base}/v1/photos/{sha256}"
    return {"url": url, "thumb_url": f"{url}?size=thumb", "medium_url": f"{url}?size=medium"}


def entry_url(base: str, slug: str) -> str:
    return f"{base}/v1/entries/{slug}"


def revision_url(base: str, slug: str, number: int) -> str:
    return f"{entry_url(base, slug)}/revisions/{number}"


def entry_detail(session: Session, entry: Snapshot[schemas.EntryRecord], base: str) -> EntryDetail:
    """The entry as *entry* holds it (a write's revision, or a read), with its sources."""
    record = entry.record
    sources = read.sources_by_key(session, record.cited_source_keys())
    return EntryDetail(
        **record.model_dump(exclude={"photos"}),
        photos=[PhotoDetail.of(photo, base) for photo in record.photos],
        url=entry_url(base, record.slug),
        version=entry.number,
        revision_url=revision_url(base, record.slug, entry.number),
        country_name=schemas.country_name(record.country),
        sources=[convert.source_record(s) for s in sources],
    )


def cited_revision(
    revision: models.Snapshotted, slug: str, base: str, accessed: dt.date | None = None
) -> citing.Cited:
    """What a citation of *revision* names; read today (UTC) unless *accessed* says."""
    return citing.Cited(
        slug=slug,
        title=revisions.snapshot(ENTRIES, revision).name,
        revision=revision.number,
        revised=convert.utc(revision.created_at).date(),
        url=revision_url(base, slug, revision.number),
        accessed=accessed or dt.datetime.now(dt.UTC).date(),
    )
