"""Observations from the field: submitted by contributors, reviewed by editors, with their
evidence files and their chain of custody."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from api.auth import ContributorKey, EditorKey, KeyFirstRoute
from api.dependencies import (
    BaseUrl,
    DbSession,
    MarkingMatcher,
    ObservationPath,
    PhotoMatching,
    PositionPath,
    RevisionPageOf,
    Store,
    TextReader,
    UploadLimits,
    WriteSession,
)
from api.problems import WRITE_RESPONSES
from api.responses import Page
from api.routes.photos import UPLOAD_PROBLEMS, PhotoSize, upload_of
from weaponsdb import models
from weaponsdb.catalogue.convert import utc
from weaponsdb.errors import NotFoundError
from weaponsdb.keys import KeyHolder
from weaponsdb.observations import custody, evidence, reviewing, submitting
from weaponsdb.observations.records import Comment, Link, ObservationView, Submission, view_of
from weaponsdb.photos.ingest import file_keys
from weaponsdb.photos.processing import THUMBNAIL_TYPE
from weaponsdb.vocab import CustodyAction, ObservationState

router = APIRouter(
    prefix="/v1/observations",
    tags=["observations"],
    responses=WRITE_RESPONSES,
    route_class=KeyFirstRoute,
)
PATH = "/v1/observations"  # takes uploads: the body limit is the photos'
PRIVATE = "private, no-store"


class SubmissionForm(Submission):
    """The observation's fields, read from the form beside its photos."""

    model_config = ConfigDict(extra="ignore")  # the files are form fields too


class Step(BaseModel):
    number: int
    action: str
    author: str
    role: str
    note: str = Field(description="Why: the reason, request or comment.")
    state: str = Field(description="The observation's state after this step.")
    created_at: dt.datetime
    snapshot: dict[str, Any] | None = Field(
        description="The observation as it stood after the step; for editors only."
    )


def _view(row: models.Observation, key: KeyHolder) -> ObservationView:
    return view_of(row, reviewing.is_editor(key))


@router.post("", status_code=201, summary="Submit an observation", responses=UPLOAD_PROBLEMS)
def submit(
    key: ContributorKey,
    files: Annotated[list[UploadFile], File(description="One to ten photos of the item.")],
    form: Annotated[SubmissionForm, Form()],
    session: WriteSession,
    store: Store,
    matcher: MarkingMatcher,
    photo_matcher: PhotoMatching,
    limits: UploadLimits,
    reader: TextReader,
    base: BaseUrl,
    response: Response,
    read_markings: Annotated[
        bool,
        Form(
            description="Also read the markings off the photos with the photo reader "
            "(where it is installed; seconds per photo) and match what it reads."
        ),
    ] = False,
) -> ObservationView:
    """Multipart form: the photos in `files`, the rest as fields (`markings` repeated).
    Identification runs at once and its candidates are kept as they stood."""
    uploads = [upload_of(file, limits) for file in files]
    row = submitting.submit(
        session,
        store,
        matcher,
        photo_matcher,
        key,
        form,
        uploads,
        limits,
        reader if read_markings else None,
    )
    response.headers["Location"] = f"{base}{PATH}/{row.id}"
    return _view(row, key)


@router.get("", summary="The review queue (editors), or your observations (contributors)")
def list_observations(
    key: ContributorKey,
    session: DbSession,
    paging: RevisionPageOf,  # in number order, as revisions are
    state: Annotated[ObservationState | None, Query(description="Only those in it.")] = None,
) -> Page[ObservationView]:
    page = reviewing.queue(session, key, state, paging.limit, paging.cursor)
    return Page.of(page, [_view(row, key) for row in page.items], paging.limit)


@router.get("/{observation_id}", summary="One observation (opening it for review is logged)")
def get_observation(
    observation_id: ObservationPath, key: ContributorKey, session: WriteSession
) -> ObservationView:
    return _view(reviewing.opened(session, observation_id, key), key)


@router.get("/{observation_id}/revisions", summary="Every step of its review")
def list_steps(
    observation_id: ObservationPath, key: ContributorKey, session: DbSession
) -> list[Step]:
    editor = reviewing.is_editor(key)
    return [
        Step(
            number=step.number,
            action=step.action,
            author=step.author,
            role=step.role,
            note=step.note,
            state=step.state,
            created_at=utc(step.created_at),
            snapshot=step.snapshot if editor else None,
        )
        for step in reviewing.steps(session, observation_id, key)
    ]


@router.post("/{observation_id}/comments", status_code=201, summary="Comment in the thread")
def add_comment(
    observation_id: ObservationPath, body: Comment, key: ContributorKey, session: WriteSession
) -> ObservationView:
    """The contributor's comment on an observation an editor asked more of answers it: it
    is pending again."""
    return _view(reviewing.comment(session, observation_id, key, body.note), key)


@router.post("/{observation_id}/requests", summary="Ask the contributor for more")
def request_more(
    observation_id: ObservationPath, body: Comment, key: EditorKey, session: WriteSession
) -> ObservationView:
    return _view(reviewing.request_more(session, observation_id, key, body.note), key)


@router.post("/{observation_id}/decline", summary="Decline it, with the reason")
def decline(
    observation_id: ObservationPath, body: Comment, key: EditorKey, session: WriteSession
) -> ObservationView:
    return _view(reviewing.decline(session, observation_id, key, body.note), key)


@router.post("/{observation_id}/link", summary="Link it to an entry as a documented instance")
def link(
    observation_id: ObservationPath, body: Link, key: EditorKey, session: WriteSession
) -> ObservationView:
    return _view(reviewing.link(session, observation_id, key, body), key)


@router.get("/{observation_id}/custody", summary="Its chain of custody, exported (logged)")
def export_custody(
    observation_id: ObservationPath, key: ContributorKey, session: WriteSession
) -> custody.CustodyRecord:
    row = reviewing.get(session, observation_id, key)
    return custody.export(session, row, key.name)


def _photo(row: models.Observation, position: int) -> models.ObservationPhoto:
    if position >= len(row.photos):
        raise NotFoundError(f"Observation {row.id} has {len(row.photos)} photos.")
    return row.photos[position]


def _file(store: Store, key: str) -> bytes:
    data = store.read(key)
    if data is None:
        raise NotFoundError("The file is missing from the photo store; run `weaponsdb verify`.")
    return data


@router.get(
    "/{observation_id}/photos/{position}",
    summary="A photo's working copy, stripped of metadata",
    response_class=Response,
)
def get_observation_photo(
    observation_id: ObservationPath,
    position: PositionPath,
    key: ContributorKey,
    session: DbSession,
    store: Store,
    size: Annotated[PhotoSize | None, Query(description="thumb or medium.")] = None,
) -> Response:
    photo = _photo(reviewing.get(session, observation_id, key), position)
    file_key = file_keys(photo.sha256, photo.media_type)[size.value if size else None]
    media_type = THUMBNAIL_TYPE[0] if size else photo.media_type
    return Response(
        _file(store, file_key), media_type=media_type, headers={"Cache-Control": PRIVATE}
    )


@router.get(
    "/{observation_id}/photos/{position}/original",
    summary="The original as received, metadata and all (editors; logged)",
    response_class=Response,
)
def get_observation_original(
    observation_id: ObservationPath,
    position: PositionPath,
    key: EditorKey,
    session: WriteSession,
    store: Store,
) -> Response:
    row = reviewing.get(session, observation_id, key)
    photo = _photo(row, position)
    custody.append(
        session, row, CustodyAction.VIEWED, photo.original_sha256, key.name, note="original viewed"
    )
    data = _file(store, photo.original_key)
    return Response(data, media_type=photo.original_media_type, headers={"Cache-Control": PRIVATE})


@router.get(
    "/{observation_id}/photos/{position}/metadata",
    summary="The original's EXIF and GPS metadata (editors; logged)",
)
def get_original_metadata(
    observation_id: ObservationPath,
    position: PositionPath,
    key: EditorKey,
    session: WriteSession,
    store: Store,
) -> dict[str, Any]:
    row = reviewing.get(session, observation_id, key)
    photo = _photo(row, position)
    custody.append(
        session,
        row,
        CustodyAction.VIEWED,
        photo.original_sha256,
        key.name,
        note="original's metadata read",
    )
    return evidence.metadata(_file(store, photo.original_key))
