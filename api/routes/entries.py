"""Entries: listing and reading them, and changing them and their parts.

Every write needs an API key (Authorization: Bearer), a change note (X-Change-Note) and,
when it changes something that exists, If-Match with the ETag it was read at. Each write is
one transaction (dependencies.WriteSession) and answers with the entry as the revision it
made holds it, and its new ETag.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from sqlalchemy.orm import Session

from api.auth import AdminKey, ChangeNote, EditorKey, IfMatchVersion, KeyFirstRoute
from api.dependencies import (
    BaseUrl,
    DbSession,
    IndexPath,
    MarkingMatcher,
    PageOf,
    SearchText,
    SlugPath,
    WriteSession,
)
from api.etags import etag
from api.problems import PROBLEM_RESPONSES, WRITE_RESPONSES
from api.responses import EntryDetail, EntryPage, EntrySummary, entry_detail, entry_url
from weaponsdb import editing, schemas
from weaponsdb.catalogue import read
from weaponsdb.catalogue.parts import COLLECTIONS, Part
from weaponsdb.catalogue.read import Snapshot
from weaponsdb.vocab import Category, Status

router = APIRouter(prefix="/v1", tags=["entries"], responses=PROBLEM_RESPONSES)
editing_router = APIRouter(
    prefix="/v1", tags=["editing"], responses=WRITE_RESPONSES, route_class=KeyFirstRoute
)


@router.get("/entries", summary="List and filter entries")
def list_entries(
    session: DbSession,
    base: BaseUrl,
    matcher: MarkingMatcher,
    paging: PageOf,
    category: Category | None = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. KP"),
    ] = None,
    calibre: Annotated[
        float | None, Query(gt=0, le=1000, description="Calibre in millimetres, e.g. 122")
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
    wikidata: Annotated[
        str | None,
        Query(pattern=schemas.WIKIDATA_ID, description="The entry's Wikidata item, e.g. Q1234567"),
    ] = None,
) -> EntryPage:
    where = read.EntryFilter(
        category=category,
        country=country.upper() if country else None,
        calibre_mm=Decimal(str(calibre)) if calibre is not None else None,
        text=q,
        marking=marking,
        status=status,
        wikidata=wikidata,
    )
    widened = matcher.widened(session, where)
    page = read.list_entries(session, widened, paging.limit, paging.cursor)
    items = [EntrySummary.of(entry, base) for entry in page.items]
    return EntryPage.of(page, items, paging.limit)


@dataclass(frozen=True)
class EntryAnswer:
    """Answers with an entry as a snapshot holds it (what a write left, or a read), with the
    sources it cites and its version as the ETag."""

    session: Session
    base: str
    response: Response

    def __call__(self, entry: Snapshot[schemas.EntryRecord]) -> EntryDetail:
        self.response.headers["ETag"] = etag(entry.number)
        return entry_detail(self.session, entry, self.base)


def write_answer(session: WriteSession, base: BaseUrl, response: Response) -> EntryAnswer:
    return EntryAnswer(session, base, response)


Answer = Annotated[EntryAnswer, Depends(write_answer)]


@router.get("/entries/{slug}", summary="One entry with everything attached and its sources")
def get_entry(slug: SlugPath, session: DbSession, base: BaseUrl, response: Response) -> EntryDetail:
    return EntryAnswer(session, base, response)(read.entry_snapshot(session, slug))


# --- writes --------------------------------------------------------------------------------


class Retraction(schemas.Record):
    reason: schemas.Text


def editor_change(
    slug: SlugPath, key: EditorKey, note: ChangeNote, version: IfMatchVersion
) -> editing.Change:
    return editing.Change(slug, version, key.name, note)


def admin_change(
    slug: SlugPath, key: AdminKey, note: ChangeNote, version: IfMatchVersion
) -> editing.Change:
    return editing.Change(slug, version, key.name, note)


EditorChange = Annotated[editing.Change, Depends(editor_change)]
AdminChange = Annotated[editing.Change, Depends(admin_change)]


@editing_router.post("/entries", status_code=201, summary="Create an entry (revision 1)")
def create_entry(
    record: schemas.EntryRecord,
    key: EditorKey,
    note: ChangeNote,
    session: WriteSession,
    answer: Answer,
) -> EntryDetail:
    created = editing.create_entry(session, record, key.name, note)
    answer.response.headers["Location"] = entry_url(answer.base, record.slug)
    return answer(created)


@editing_router.patch("/entries/{slug}", summary="Change an entry's own attributes")
def update_entry(
    changes: editing.EntryChanges, change: EditorChange, session: WriteSession, answer: Answer
) -> EntryDetail:
    return answer(editing.update_entry(session, change, changes))


@editing_router.post(
    "/entries/{slug}/retraction",
    summary="Retract an entry (admin): it stays readable, with the reason",
)
def retract_entry(
    retraction: Retraction, change: AdminChange, session: WriteSession, answer: Answer
) -> EntryDetail:
    return answer(editing.retract_entry(session, change, retraction.reason))


# --- the entry's parts, item by item: routes for each of parts.COLLECTIONS -----------------


class PartRoute:
    """A route of one part: *endpoint*, with the body it reads (its `record` parameter) of
    the part's own record class, so that each part's routes validate and document it."""

    def __init__(self, endpoint: Callable[..., EntryDetail], part: Part) -> None:
        signature = inspect.signature(endpoint, eval_str=True)
        self.__signature__ = signature.replace(
            parameters=[
                p.replace(annotation=part.record) if p.name == "record" else p
                for p in signature.parameters.values()
            ]
        )
        self.endpoint = endpoint

    def __call__(self, **values: Any) -> EntryDetail:
        return self.endpoint(**values)


def _register(part: Part) -> None:
    """add / replace / remove routes for one list an entry holds."""
    name = part.name
    singular = name.removesuffix("s")

    def add(
        record: schemas.Record, change: EditorChange, session: WriteSession, answer: Answer
    ) -> EntryDetail:
        return answer(editing.add_item(session, change, part, record))

    def replace(
        index: IndexPath,
        record: schemas.Record,
        change: EditorChange,
        session: WriteSession,
        answer: Answer,
    ) -> EntryDetail:
        return answer(editing.replace_item(session, change, part, index, record))

    def remove(
        index: IndexPath, change: EditorChange, session: WriteSession, answer: Answer
    ) -> EntryDetail:
        return answer(editing.remove_item(session, change, part, index))

    path = f"/entries/{{slug}}/{name}"
    editing_router.post(path, name=f"add_{singular}", summary=f"Add one of an entry's {name}")(
        PartRoute(add, part)
    )
    editing_router.put(
        f"{path}/{{index}}", name=f"replace_{singular}", summary=f"Change an entry's {singular}"
    )(PartRoute(replace, part))
    editing_router.delete(
        f"{path}/{{index}}",
        name=f"remove_{singular}",
        summary=f"Remove an entry's {singular} (its earlier revisions keep it)",
    )(remove)


for _part in COLLECTIONS.values():
    _register(_part)
