"""Evidence files of an observation: each photo checked as every upload is, kept exactly as
received (the original, for editors, under originals/), and a working copy stripped of its
metadata with its thumbnails; every file written is a line of the custody log. The
original's metadata (EXIF, GPS: sensitive) is read for editors on request."""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import ExifTags, Image
from sqlalchemy import Connection, Engine, or_, select
from sqlalchemy.orm import Session

from weaponsdb import models
from weaponsdb.errors import FieldError, InvalidInputError, WeaponsdbError
from weaponsdb.observations import custody
from weaponsdb.photos.ingest import Upload, file_keys
from weaponsdb.photos.processing import THUMBNAIL_SIZES, ProcessedPhoto, process
from weaponsdb.photos.storage import PhotoStore, original_key
from weaponsdb.photos.validation import CheckedImage, Limits, check_upload
from weaponsdb.vocab import CustodyAction

FIELD = "files"
MAX_PHOTOS = 10


@dataclass(frozen=True)
class Received:
    upload: Upload
    checked: CheckedImage
    processed: ProcessedPhoto

    @property
    def original_key(self) -> str:
        return original_key(self.processed.original_sha256, self.checked.format.extensions[0][1:])


def receive(uploads: list[Upload], limits: Limits) -> list[Received]:
    """Every photo checked and processed before anything is written; a refusal names the
    photo by its position (files[1])."""
    if not uploads:
        raise InvalidInputError(
            "An observation needs at least one photo.", [FieldError(FIELD, "at least one photo")]
        )
    if len(uploads) > MAX_PHOTOS:
        raise InvalidInputError(
            f"An observation takes at most {MAX_PHOTOS} photos.",
            [FieldError(FIELD, f"more than {MAX_PHOTOS} photos")],
        )
    received = []
    for position, upload in enumerate(uploads):
        try:
            checked = check_upload(upload.data, limits, upload.filename, upload.content_type)
        except WeaponsdbError as error:
            error.errors = [FieldError(f"{FIELD}[{position}]", e.reason) for e in error.errors]
            raise
        received.append(Received(upload, checked, process(checked)))
    return received


def store(
    session: Session,
    store: PhotoStore,
    observation: models.Observation,
    received: Received,
    position: int,
    actor: str,
    created: list[str],
) -> models.ObservationPhoto:
    """Write the original and the working copies, and log each in the custody log."""
    processed = received.processed
    original = received.original_key
    if store.put(original, received.upload.data):
        created.append(original)
    custody.append(
        session,
        observation,
        CustodyAction.RECEIVED,
        processed.original_sha256,
        actor,
        file_key=original,
        note=f"photo {position} as received ({received.upload.filename or 'unnamed'})",
    )
    keys = file_keys(processed.sha256, processed.media_type)
    contents = {None: processed.data} | {
        name: processed.thumbnails[size] for name, size in THUMBNAIL_SIZES.items()
    }
    for name, key in keys.items():
        if store.put(key, contents[name]):
            created.append(key)
        custody.append(
            session,
            observation,
            CustodyAction.DERIVED,
            hashlib.sha256(contents[name]).hexdigest(),
            actor,
            file_key=key,
            derived_from=processed.original_sha256,
            note=f"{name or 'working copy'} of photo {position}, stripped of metadata",
        )
    return models.ObservationPhoto(
        position=position,
        filename=received.upload.filename,
        original_sha256=processed.original_sha256,
        original_key=original,
        original_media_type=received.checked.format.media_type,
        original_byte_size=len(received.upload.data),
        sha256=processed.sha256,
        media_type=processed.media_type,
        byte_size=len(processed.data),
        width=processed.width,
        height=processed.height,
        phash=processed.phash,
    )


def remove_unused(engine: Engine | Connection, store: PhotoStore, created: list[str]) -> None:
    """After a failed submission: remove the files it created that no row uses."""
    if not created:
        return
    try:
        with Session(engine) as session:
            for key in created:
                sha256 = key.rsplit("/", 1)[-1].split(".")[0]
                used = session.scalar(
                    select(models.ObservationPhoto.id)
                    .where(
                        or_(
                            models.ObservationPhoto.original_sha256 == sha256,
                            models.ObservationPhoto.sha256 == sha256,
                        )
                    )
                    .limit(1)
                ) or session.scalar(
                    select(models.Photo.id).where(models.Photo.sha256 == sha256).limit(1)
                )
                if used is None:
                    store.delete(key)
    except Exception:  # the database cannot say: keeping a whole file is the safe side
        return


def metadata(data: bytes) -> dict[str, Any]:
    """The original's EXIF and GPS tags by name, as text or numbers (for editors only)."""
    with Image.open(io.BytesIO(data)) as image:
        exif = image.getexif()
        tags = {_name(ExifTags.TAGS, tag): _plain(value) for tag, value in exif.items()}
        details = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        return {
            "format": image.format,
            "size": list(image.size),
            "exif": tags | {_name(ExifTags.TAGS, t): _plain(v) for t, v in details.items()},
            "gps": {_name(ExifTags.GPSTAGS, t): _plain(v) for t, v in gps.items()},
        }


def _name(table: dict[int, str], tag: int) -> str:
    return table.get(tag, f"tag {tag}")


def _plain(value: object) -> object:
    if isinstance(value, bytes):
        return value.hex() if len(value) <= 64 else f"{len(value)} bytes"
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if isinstance(value, int | str):
        return value
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
