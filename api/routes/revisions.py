"""The history of entries: numbered revisions, diffs between them, and citations of them.
(A source's revisions are listed with the sources.)"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from pydantic import BaseModel, Field

from api.dependencies import (
    BaseUrl,
    DbSession,
    NumberPath,
    RevisionPageOf,
    SlugPath,
    revision_query,
)
from api.etags import etag
from api.problems import PROBLEM_RESPONSES
from api.responses import Page, cited_revision, entry_url, revision_url
from weaponsdb import citing, models, revisions, schemas
from weaponsdb.catalogue import convert
from weaponsdb.revisions import ENTRIES

router = APIRouter(prefix="/v1", tags=["revisions"], responses=PROBLEM_RESPONSES)

# A revision never changes, so whoever has it may keep it.
IMMUTABLE = "public, max-age=31536000, immutable"


class RevisionSummary(BaseModel):
    number: int
    created_at: dt.datetime
    author: str = Field(description="Name of the API key that made the change.")
    note: str
    url: str = Field(description="Permanent link to this revision.")

    @classmethod
    def of(cls, revision: models.Snapshotted, slug: str, base: str) -> RevisionSummary:
        return cls(
            number=revision.number,
            created_at=convert.utc(revision.created_at),
            author=revision.author,
            note=revision.note,
            url=revision_url(base, slug, revision.number),
        )


class RevisionList(Page[RevisionSummary]):
    """An entry's revisions, oldest first."""

    entry: str
    entry_url: str


class RevisionDetail(RevisionSummary):
    entry: str
    entry_url: str
    snapshot: schemas.EntryRecord = Field(description="The entry exactly as it then stood.")


class RevisionDiff(BaseModel):
    entry: str
    from_revision: int = Field(
        description="The earlier revision; 0 for before the entry was made (the patch of "
        "revision 1 adds the whole entry)."
    )
    to_revision: int
    from_url: str | None = Field(description="The earlier revision's permalink; none for 0.")
    to_url: str
    patch: list[dict[str, Any]] = Field(
        description="RFC 6902 JSON Patch that turns the older snapshot into the newer one."
    )


@router.get("/entries/{slug}/revisions", summary="An entry's revisions, oldest first")
def list_revisions(
    slug: SlugPath, session: DbSession, base: BaseUrl, paging: RevisionPageOf
) -> RevisionList:
    page = revisions.list_revisions(session, ENTRIES, slug, paging.limit, paging.cursor)
    items = [RevisionSummary.of(r, slug, base) for r in page.items]
    return RevisionList.of(page, items, paging.limit, entry=slug, entry_url=entry_url(base, slug))


@router.get(
    "/entries/{slug}/revisions/{number}", summary="An entry exactly as one revision left it"
)
def get_revision(
    slug: SlugPath, number: NumberPath, session: DbSession, base: BaseUrl, response: Response
) -> RevisionDetail:
    revision = revisions.get_revision(session, ENTRIES, slug, number)
    response.headers["Cache-Control"] = IMMUTABLE
    response.headers["ETag"] = etag(number)
    return RevisionDetail(
        **RevisionSummary.of(revision, slug, base).model_dump(),
        entry=slug,
        entry_url=entry_url(base, slug),
        snapshot=revisions.snapshot(ENTRIES, revision),
    )


@router.get(
    "/entries/{slug}/revisions/{number}/diff",
    summary="What changed between an earlier revision and this one",
)
def diff_revisions(
    slug: SlugPath,
    number: NumberPath,
    session: DbSession,
    base: BaseUrl,
    older: Annotated[
        int | None,
        revision_query("from", "The earlier revision; default: the one before."),
    ] = None,
) -> RevisionDiff:
    start = older if older is not None else number - 1
    after = revisions.get_revision(session, ENTRIES, slug, number)
    before = revisions.get_revision(session, ENTRIES, slug, start) if start else None
    return RevisionDiff(
        entry=slug,
        from_revision=start,
        to_revision=number,
        from_url=revision_url(base, slug, start) if start else None,
        to_url=revision_url(base, slug, number),
        patch=revisions.diff(before, after),
    )


CITATION_MEDIA_TYPES: dict[str, dict[str, Any]] = {
    media_type.split(";")[0]: {} for media_type, _ in citing.RENDERERS.values()
}


@router.get(
    "/entries/{slug}/cite",
    summary="A ready citation of a revision of the entry (default: the latest)",
    response_class=Response,
    responses={200: {"content": CITATION_MEDIA_TYPES, "description": "The citation"}},
)
def cite(
    slug: SlugPath,
    session: DbSession,
    base: BaseUrl,
    style: Annotated[
        citing.CitationFormat | None,
        Query(
            alias="format",
            description="Default: the format the Accept header asks for by its media type "
            "(CSL-JSON, BibTeX, RIS), else APA.",
        ),
    ] = None,
    accept: Annotated[str | None, Header(max_length=1000)] = None,
    number: Annotated[
        int | None,
        revision_query("revision", "Revision to cite; default: the latest."),
    ] = None,
    accessed: Annotated[
        dt.date | None, Query(description="When you read it, YYYY-MM-DD; default: today (UTC).")
    ] = None,
) -> Response:
    revision = (
        revisions.get_revision(session, ENTRIES, slug, number)
        if number is not None
        else revisions.latest_revision(session, ENTRIES, slug)
    )
    chosen = style or citing.negotiated(accept) or citing.CitationFormat.APA
    text, media_type = citing.render(cited_revision(revision, slug, base, accessed), chosen)
    return Response(text, media_type=media_type, headers={"Vary": "Accept"})
