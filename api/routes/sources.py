"""Sources, the publications behind the catalogue's claims: reading them, adding and
changing them (an API key and a change note; If-Match with the ETag to change one), and
their revisions."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth import ChangeNote, EditorKey, IfMatchTag
from api.dependencies import BaseUrl, DbSession, KeyPath, PageOf, RevisionPageOf, WriteSession
from api.etags import etag
from api.problems import PROBLEM_RESPONSES, WRITE_RESPONSES
from api.responses import Page, SourcePage
from weaponsdb import editing, revisions, schemas
from weaponsdb.catalogue import convert, read
from weaponsdb.revisions import SOURCES

router = APIRouter(prefix="/v1", tags=["sources"], responses=PROBLEM_RESPONSES)
editing_router = APIRouter(prefix="/v1", tags=["editing"], responses=WRITE_RESPONSES)


class SourceRevisionPage(Page[schemas.SourceRevisionRecord]):
    """A source's revisions, oldest first, each with the source as it then stood."""


@router.get("/sources", summary="List sources")
def list_sources(session: DbSession, paging: PageOf) -> SourcePage:
    page = read.list_sources(session, paging.limit, paging.cursor)
    return SourcePage.of(page, [convert.source_record(s) for s in page.items], paging.limit)


@router.get("/sources/{key}", summary="One source")
def get_source(key: KeyPath, session: DbSession, response: Response) -> schemas.SourceRecord:
    return _answer(convert.source_record(read.get_source(session, key)), response)


def _answer(record: schemas.SourceRecord, response: Response) -> schemas.SourceRecord:
    response.headers["ETag"] = etag(editing.source_etag(record))
    return record


def source_url(base: str, key: str) -> str:
    return f"{base}/v1/sources/{key}"


@editing_router.post("/sources", status_code=201, summary="Add a source")
def create_source(
    record: schemas.SourceRecord,
    key: EditorKey,
    note: ChangeNote,
    session: WriteSession,
    response: Response,
    base: BaseUrl,
) -> schemas.SourceRecord:
    created = editing.create_source(session, record, key.name, note)
    response.headers["Location"] = source_url(base, record.key)
    return _answer(created.record, response)


@editing_router.put("/sources/{key}", summary="Change a source (its key is permanent)")
def update_source(
    key: KeyPath,
    record: schemas.SourceRecord,
    holder: EditorKey,
    note: ChangeNote,
    tag: IfMatchTag,
    session: WriteSession,
    response: Response,
) -> schemas.SourceRecord:
    changed = editing.update_source(session, key, tag, record, holder.name, note)
    return _answer(changed.record, response)


@router.get(
    "/sources/{key}/revisions",
    summary="A source's revisions, oldest first, each with the source as it then stood",
)
def list_source_revisions(
    key: KeyPath, session: DbSession, paging: RevisionPageOf
) -> SourceRevisionPage:
    page = revisions.list_revisions(session, SOURCES, key, paging.limit, paging.cursor)
    items = [revisions.history_record(SOURCES, revision, key) for revision in page.items]
    return SourceRevisionPage.of(page, items, paging.limit)
