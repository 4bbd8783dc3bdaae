"""Reference photos: attaching one to an entry, and serving photos and thumbnails.
(Matching by photo is with the other matching, in match.py.)"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from api.auth import (
    VERSION_TAG_PATTERN,
    ChangeNote,
    EditorKey,
    KeyFirstRoute,
    precondition,
    version_of,
)
from api.dependencies import (
    BaseUrl,
    DbSession,
    PhotoMatching,
    Sha256Path,
    SlugPath,
    Store,
    TextReader,
    UploadLimits,
    WriteSession,
)
from api.etags import IMMUTABLE, etag, none_match
from api.problems import PROBLEM_JSON, PROBLEM_RESPONSES, WRITE_RESPONSES, Problem
from api.responses import MatchedPhoto, PhotoDetail, entry_url
from weaponsdb import editing, models
from weaponsdb.errors import FieldError, NotFoundError, PreconditionRequiredError
from weaponsdb.photos import ingest
from weaponsdb.photos.processing import THUMBNAIL_TYPE
from weaponsdb.photos.validation import ALLOWED, Limits
from weaponsdb.reading.identifying import Photo, proposed_markings
from weaponsdb.reading.reader import ReadLine

router = APIRouter(prefix="/v1", tags=["photos"], route_class=KeyFirstRoute)

UPLOAD_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {PROBLEM_JSON: {}}, "description": description}
    for status, description in (
        (413, "The photo is larger than the service accepts"),
        (415, f"Not an image of an allowed format ({ALLOWED})"),
        (422, "Invalid form fields, or a corrupt, truncated, mislabelled or too large image"),
    )
}
PhotoFile = Annotated[
    UploadFile,
    File(description=f"The photo: {ALLOWED}. Its name and type must match its content."),
]


class PhotoSize(StrEnum):
    THUMB = "thumb"
    MEDIUM = "medium"


class PhotoForm(ingest.PhotoDescription):
    """The photo's description, read from the form fields beside its file."""

    model_config = ConfigDict(extra="ignore")  # the file is a form field too


class PhotoAdded(BaseModel):
    entry: str
    entry_url: str
    entry_version: int = Field(description="The entry's new version (also the ETag).")
    position: int = Field(description="Position of the photo in the entry's photos.")
    photo: PhotoDetail
    stored_new_file: bool = Field(
        description="False when the same image was stored already (e.g. on another entry)."
    )
    near_duplicates: list[MatchedPhoto] = Field(
        description="Reference photos this one nearly repeats, as they stood before it."
    )
    proposed_markings: list[ReadLine] | None = Field(
        default=None,
        description="For a photo with view 'markings close-up': the markings the reader "
        "reads on it, for an editor to confirm and add as markings; they are not stored. "
        "null for other views, or where reading is unavailable.",
    )


def upload_of(file: UploadFile, limits: Limits) -> ingest.Upload:
    # One byte past the limit is enough to refuse it, with the limit named.
    data = file.file.read(limits.max_bytes + 1)
    return ingest.Upload(data, file.filename, file.content_type)


def _version(header: str | None, marking_index: int | None) -> int | None:
    """If-Match is optional, since adding a photo overwrites nothing, except with a marking:
    positions are only meaningful at the version they were read at."""
    if header is None and marking_index is not None:
        raise PreconditionRequiredError(
            "Send If-Match with the entry's ETag when naming a marking by its position, so "
            "the position is the one you read.",
            [FieldError(editing.IF_MATCH, "required with marking_index")],
        )
    return version_of(precondition(header)) if header is not None else None


@router.post(
    "/entries/{slug}/photos",
    status_code=201,
    summary="Attach a reference photo to an entry (a new revision)",
    responses={**WRITE_RESPONSES, **UPLOAD_PROBLEMS},
)
def add_photo(
    slug: SlugPath,
    key: EditorKey,
    note: ChangeNote,
    file: PhotoFile,
    description: Annotated[PhotoForm, Form()],
    session: WriteSession,
    store: Store,
    matcher: PhotoMatching,
    limits: UploadLimits,
    reader: TextReader,
    base: BaseUrl,
    response: Response,
    if_match_header: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The entry\'s ETag, e.g. "3". Optional, except with marking_index.',
            json_schema_extra={"pattern": VERSION_TAG_PATTERN},
        ),
    ] = None,
) -> PhotoAdded:
    """Multipart form. The image is checked (format, size, pixel count, whole), turned
    upright, re-encoded without any metadata, stored once by its hash, with thumbnails.
    Credit and licence are required."""
    version = _version(if_match_header, description.marking_index)
    change = editing.Change(slug, version, key.name, note)
    upload = upload_of(file, limits)
    # Read before the first write: the entry is not held while the reader works.
    proposed = proposed_markings(
        reader,
        Photo(data=upload.data, filename=upload.filename, content_type=upload.content_type),
        description.view,
        limits,
    )
    attached = ingest.attach_photo(session, store, matcher, change, upload, description, limits)
    response.headers["ETag"] = etag(attached.entry_version)
    detail = PhotoDetail.of(attached.record, base)
    response.headers["Location"] = detail.url
    return PhotoAdded(
        entry=slug,
        entry_url=entry_url(base, slug),
        entry_version=attached.entry_version,
        position=attached.position,
        photo=detail,
        stored_new_file=attached.stored_new_file,
        near_duplicates=[MatchedPhoto.with_links(m, base) for m in attached.near_duplicates],
        proposed_markings=proposed,
    )


@router.get(
    "/photos/{sha256}",
    summary="A stored photo, or one of its thumbnails",
    response_class=Response,
    responses={
        200: {
            "content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")},
            "description": "The image; cache it for good (its address is its hash).",
        },
        304: {"description": "Not modified: the If-None-Match ETag is current."},
        **PROBLEM_RESPONSES,
    },
)
def get_photo(
    sha256: Sha256Path,
    session: DbSession,
    store: Store,
    size: Annotated[
        PhotoSize | None,
        Query(description="A thumbnail instead: thumb (256 px long side) or medium (1024)."),
    ] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    media_type = session.scalar(
        select(models.Photo.media_type).where(models.Photo.sha256 == sha256).limit(1)
    )
    if media_type is None:
        raise NotFoundError(f"No photo has the hash {sha256}.")
    tag = etag(sha256 if size is None else f"{sha256}-{size.value}")
    headers = {"ETag": tag, "Cache-Control": IMMUTABLE}
    if none_match(if_none_match, tag):
        return Response(status_code=304, headers=headers)
    key = ingest.file_keys(sha256, media_type)[size.value if size else None]
    data = store.read(key)
    if data is None:
        raise NotFoundError(f"The file of photo {sha256} is missing from the photo store.")
    return Response(data, media_type=THUMBNAIL_TYPE[0] if size else media_type, headers=headers)
