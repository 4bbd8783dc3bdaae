"""Reference photos: uploading one to an entry, serving photos and thumbnails, and matching
a photo against the reference photos."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select

from api.auth import ChangeNote, EditorKey, entry_etag, if_match, if_match_version
from api.dependencies import BaseUrl, DbSession, SlugPath, get_sessions
from api.problems import PROBLEM_JSON, PROBLEM_RESPONSES, WRITE_RESPONSES, Problem
from api.responses import PhotoDetail, entry_url, photo_urls
from weaponsdb import editing, models
from weaponsdb.config import Settings
from weaponsdb.errors import FieldError, NotFoundError, PreconditionRequiredError
from weaponsdb.photos import ingest
from weaponsdb.photos.matching import PhotoMatch, PhotoMatcher
from weaponsdb.photos.processing import THUMBNAIL_TYPE
from weaponsdb.photos.similarity import BITS
from weaponsdb.photos.storage import FileStore
from weaponsdb.photos.validation import ALLOWED, Limits
from weaponsdb.reading.identifying import proposed_markings
from weaponsdb.reading.reader import ReadLine

router = APIRouter(prefix="/v1", tags=["photos"])

# A photo never changes: its address is the hash of its bytes.
IMMUTABLE = "public, max-age=31536000, immutable"
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


class PhotoMatches(BaseModel):
    phash: str = Field(description="Perceptual hash of the photo sent, 16 hex digits.")
    items: list[MatchedPhoto] = Field(description="Nearest first.")


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _limits(request: Request) -> Limits:
    return Limits.of(_settings(request))


def _matcher(request: Request) -> PhotoMatcher:
    matcher: PhotoMatcher = request.app.state.photo_matcher
    return matcher


def _upload(file: UploadFile, limits: Limits) -> ingest.Upload:
    # One byte past the limit is enough to refuse it, with the limit named.
    data = file.file.read(limits.max_bytes + 1)
    return ingest.Upload(data, file.filename, file.content_type)


def _version(header: str | None, marking_index: str | None) -> int | None:
    """If-Match is optional, since adding a photo overwrites nothing, except with a marking:
    positions are only meaningful at the version they were read at."""
    if header is None and marking_index not in (None, ""):
        raise PreconditionRequiredError(
            "Send If-Match with the entry's ETag when naming a marking by its position, so "
            "the position is the one you read.",
            [FieldError(editing.IF_MATCH, "required with marking_index")],
        )
    return if_match_version(if_match(header)) if header is not None else None


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
    request: Request,
    response: Response,
    base: BaseUrl,
    file: PhotoFile,
    credit: Annotated[str, Form(max_length=200, description="Who took it, as credited.")],
    licence: Annotated[str, Form(max_length=200, description="e.g. CC BY 4.0.")],
    caption: Annotated[str | None, Form(max_length=4000)] = None,
    view: Annotated[str | None, Form(max_length=40, description="e.g. side.")] = None,
    source_url: Annotated[str | None, Form(max_length=2000)] = None,
    captured_on: Annotated[str | None, Form(max_length=10, description="YYYY[-MM[-DD]]")] = None,
    marking_index: Annotated[
        str | None, Form(max_length=6, description="Position of the marking shown, from 0.")
    ] = None,
    if_match_header: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='The entry\'s ETag, e.g. "3". Optional, except with marking_index.',
        ),
    ] = None,
) -> PhotoAdded:
    """Multipart form. The image is checked (format, size, pixel count, whole), turned
    upright, re-encoded without any metadata, stored once by its hash, with thumbnails.
    Credit and licence are required."""
    description = ingest.PhotoDescription.parse(
        {
            "credit": credit,
            "licence": licence,
            "caption": caption,
            "view": view,
            "source_url": source_url,
            "captured_on": captured_on,
            "marking_index": marking_index,
        }
    )
    change = editing.Change(slug, _version(if_match_header, marking_index), key.name, note)
    limits = _limits(request)
    upload = _upload(file, limits)
    attached = ingest.attach_photo(
        get_sessions(request),
        FileStore(_settings(request).images_dir),
        _matcher(request),
        change,
        upload,
        description,
        limits,
    )
    response.headers["ETag"] = entry_etag(attached.entry_version)
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
        proposed_markings=proposed_markings(request.app.state.reader, upload.data, view),
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
    sha256: Annotated[
        str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the stored image.")
    ],
    session: DbSession,
    request: Request,
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
    etag = f'"{sha256}"' if size is None else f'"{sha256}-{size.value}"'
    headers = {"ETag": etag, "Cache-Control": IMMUTABLE}
    if if_none_match is not None and _matches_etag(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    key = ingest.file_keys(sha256, media_type)[size.value if size else None]
    data = FileStore(_settings(request).images_dir).read(key)
    if data is None:
        raise NotFoundError(f"The file of photo {sha256} is missing from the photo store.")
    return Response(data, media_type=THUMBNAIL_TYPE[0] if size else media_type, headers=headers)


def _matches_etag(if_none_match: str, etag: str) -> bool:
    """RFC 9110: If-None-Match compares weakly, and * matches any current representation."""
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


@router.post(
    "/match/photo",
    summary="Find the reference photos nearest a photo",
    responses={**PROBLEM_RESPONSES, **UPLOAD_PROBLEMS},
)
def match_photo(
    file: PhotoFile,
    session: DbSession,
    request: Request,
    base: BaseUrl,
    limit: Annotated[int, Form(ge=1, le=50, description="How many photos at most.")] = 10,
    max_distance: Annotated[
        int, Form(ge=0, le=BITS, description="Farthest pHash distance to report, in bits.")
    ] = 20,
) -> PhotoMatches:
    """Multipart form with the photo in `file`. Compares its perceptual hash (pHash) with
    those of every reference photo: resized, recompressed and slightly cropped copies come
    out near (a few bits), unrelated photos about 32 bits apart. Nothing is stored."""
    limits = _limits(request)
    upload = _upload(file, limits)
    phash, matches = _matcher(request).match_photo(
        session, upload.data, limits, limit, max_distance, upload.filename, upload.content_type
    )
    return PhotoMatches(phash=phash, items=[MatchedPhoto.with_links(m, base) for m in matches])
