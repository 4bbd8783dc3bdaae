"""Reading catalogue entries."""

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.auth import entry_etag
from api.dependencies import (
    BaseUrl,
    Cursor,
    DbSession,
    Limit,
    MarkingMatcher,
    SearchText,
    SlugPath,
)
from api.problems import PROBLEM_RESPONSES
from api.responses import EntryDetail, EntryPage, EntrySummary, entry_detail
from weaponsdb import catalogue
from weaponsdb.vocab import Category, Status

router = APIRouter(prefix="/v1", tags=["entries"], responses=PROBLEM_RESPONSES)


@router.get("/entries", summary="List and filter entries")
def list_entries(
    session: DbSession,
    base: BaseUrl,
    matcher: MarkingMatcher,
    category: Category | None = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. KP"),
    ] = None,
    calibre: Annotated[
        Decimal | None, Query(gt=0, le=1000, description="Calibre in millimetres, e.g. 122")
    ] = None,
    q: Annotated[SearchText, Query(description="Text in a name, designation or alias")] = None,
    marking: Annotated[
        SearchText,
        Query(
            description="A marking as read: entries whose markings contain it or match it "
            "the way POST /v1/match does (any script, misread, '?' and '*' for illegible "
            "characters). Ranked matching is POST /v1/match."
        ),
    ] = None,
    status: Status = Status.PUBLISHED,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EntryPage:
    where = catalogue.EntryFilter(
        category=category,
        country=country.upper() if country else None,
        calibre_mm=calibre,
        text=q,
        marking=marking,
        status=status,
    )
    page = catalogue.list_entries(session, matcher.widened(session, where), limit, cursor)
    return EntryPage(
        items=[EntrySummary.of(entry, base) for entry in page.items],
        total=page.total,
        limit=limit,
        next_cursor=page.next_cursor,
    )


@router.get("/entries/{slug}", summary="One entry with everything attached and its sources")
def get_entry(slug: SlugPath, session: DbSession, base: BaseUrl, response: Response) -> EntryDetail:
    entry = catalogue.get_entry(session, slug)
    response.headers["ETag"] = entry_etag(entry.version)
    return entry_detail(session, entry, base)
