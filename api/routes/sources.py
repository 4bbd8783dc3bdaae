"""Reading the sources behind the catalogue's claims."""

from fastapi import APIRouter, Response

from api.dependencies import Cursor, DbSession, KeyPath, Limit
from api.problems import PROBLEM_RESPONSES
from api.responses import SourcePage
from weaponsdb import catalogue, editing, schemas, to_records

router = APIRouter(prefix="/v1", tags=["sources"], responses=PROBLEM_RESPONSES)


@router.get("/sources", summary="List sources")
def list_sources(
    session: DbSession,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> SourcePage:
    page = catalogue.list_sources(session, limit, cursor)
    return SourcePage(
        items=[to_records.source(s) for s in page.items],
        total=page.total,
        limit=limit,
        next_cursor=page.next_cursor,
    )


@router.get("/sources/{key}", summary="One source")
def get_source(key: KeyPath, session: DbSession, response: Response) -> schemas.SourceRecord:
    record = to_records.source(catalogue.get_source(session, key))
    response.headers["ETag"] = f'"{editing.source_etag(record)}"'
    return record
