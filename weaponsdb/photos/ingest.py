"""Attaching a photo to an entry: check the upload, re-encode it, store its files, and add
its row as a new revision of the entry, all or nothing.

Nothing is written before the upload has passed every check. The files are written inside
the caller's database transaction, before it commits; if it rolls back instead, the files
this call created are removed again unless a row (e.g. of a concurrent upload of the same
image) uses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field, ValidationError, model_validator
from sqlalchemy import Connection, Engine, select
from sqlalchemy.orm import Session

from weaponsdb import editing, models, schemas
from weaponsdb.db import on_rollback
from weaponsdb.errors import ConflictError, FieldError, NotFoundError, invalid
from weaponsdb.photos.matching import PhotoMatch, PhotoMatcher
from weaponsdb.photos.processing import (
    EXTENSIONS,
    THUMBNAIL_SIZES,
    THUMBNAIL_TYPE,
    ProcessedPhoto,
    process,
)
from weaponsdb.photos.storage import PhotoStore, photo_key, thumbnail_key
from weaponsdb.photos.validation import Limits, check_upload
from weaponsdb.vocab import PhotoView


class PhotoDescription(schemas.Record):
    """What the uploader says of a photo. Credit and licence are required: whoever reuses
    the photo must know who took it and whether they may republish it."""

    credit: schemas.ShortText = Field(description="Who took the photo, as they want credit.")
    licence: schemas.ShortText = Field(description="e.g. CC BY 4.0, or all rights reserved.")
    caption: schemas.Text | None = None
    view: PhotoView | None = None
    source_url: schemas.Url | None = Field(default=None, description="Where it was published.")
    captured_on: schemas.PartialDate | None = Field(
        default=None, description="When it was taken: YYYY, YYYY-MM or YYYY-MM-DD."
    )
    marking_index: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="Position in the entry's markings of the marking it shows."
    )

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unsaid(cls, values: object) -> object:
        """A form field left empty says nothing (a required one is then missing)."""
        if isinstance(values, dict):
            return {name: value for name, value in values.items() if value not in (None, "")}
        return values

    @classmethod
    def parse(cls, values: dict[str, object]) -> PhotoDescription:
        """From command-line options or form fields; 422 naming each bad field."""
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise invalid(error, "The photo's description is invalid.") from None


@dataclass(frozen=True)
class Upload:
    data: bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(frozen=True)
class Attached:
    slug: str
    record: schemas.PhotoRecord  # the photo as the entry now shows it
    position: int  # in the entry's photos
    entry_version: int
    stored_new_file: bool  # False: the same image was in the store already
    near_duplicates: list[PhotoMatch]  # reference photos it nearly repeats, before it came


def attach_photo(
    session: Session,
    store: PhotoStore,
    matcher: PhotoMatcher,
    change: editing.Change,
    upload: Upload,
    description: PhotoDescription,
    limits: Limits,
) -> Attached:
    """Attach the photo in the caller's transaction, as a new revision of the entry."""
    checked = check_upload(upload.data, limits, upload.filename, upload.content_type)
    processed = process(checked)
    created: list[str] = []
    engine = session.get_bind()
    on_rollback(session, lambda: _remove_unused(engine, store, processed.sha256, created))
    entry = editing.begin_change(session, change)
    row = _new_row(entry, processed, description)
    near = matcher.near_duplicates(session, processed.phash)
    entry.photos.append(row)
    _store_files(store, processed, created)
    shown = editing.end_change(session, change, entry)
    position = len(shown.record.photos) - 1  # photos are in the order they were added
    return Attached(
        change.slug, shown.record.photos[position], position, shown.number, bool(created), near
    )


def _new_row(
    entry: models.Entry, processed: ProcessedPhoto, description: PhotoDescription
) -> models.Photo:
    if any(photo.sha256 == processed.sha256 for photo in entry.photos):
        raise ConflictError(
            f"'{entry.slug}' already has this photo ({processed.sha256[:12]}…).",
            [FieldError("file", "already attached to this entry")],
        )
    index = description.marking_index
    if index is not None and index >= len(entry.markings):
        raise NotFoundError(
            f"'{entry.slug}' has {len(entry.markings)} markings; there is no markings[{index}] "
            "(positions count from 0).",
            [FieldError("marking_index", f"no marking at position {index}")],
        )
    return models.Photo(
        **description.model_dump(mode="json", exclude={"marking_index"}),
        marking=entry.markings[index] if index is not None else None,
        sha256=processed.sha256,
        original_sha256=processed.original_sha256,
        media_type=processed.media_type,
        byte_size=len(processed.data),
        width=processed.width,
        height=processed.height,
        phash=processed.phash,
        citations=[],  # said so, or the revision's snapshot would read them from the database
    )


def file_keys(sha256: str, media_type: str) -> dict[str | None, str]:
    """The store keys of a photo: None for the image itself, then each thumbnail by name."""
    keys: dict[str | None, str] = {None: photo_key(sha256, EXTENSIONS[media_type])}
    for name, size in THUMBNAIL_SIZES.items():
        keys[name] = thumbnail_key(sha256, size, THUMBNAIL_TYPE[1])
    return keys


def _store_files(store: PhotoStore, processed: ProcessedPhoto, created: list[str]) -> None:
    keys = file_keys(processed.sha256, processed.media_type)
    contents = {None: processed.data} | {
        name: processed.thumbnails[size] for name, size in THUMBNAIL_SIZES.items()
    }
    for name, key in keys.items():
        if store.put(key, contents[name]):
            created.append(key)


def _remove_unused(
    engine: Engine | Connection, store: PhotoStore, sha256: str, created: list[str]
) -> None:
    if not created:
        return
    try:
        with Session(engine) as session:
            used = session.scalar(
                select(models.Photo.id).where(models.Photo.sha256 == sha256).limit(1)
            )
    except Exception:  # the database cannot say: keeping a whole file is the safe side
        return
    if used is None:
        for key in created:
            store.delete(key)
