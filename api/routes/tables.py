"""The catalogue as spreadsheets: entries and documented instances as CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.dependencies import BaseUrl, DbSession, SearchText
from api.problems import PROBLEM_RESPONSES
from weaponsdb import tabular
from weaponsdb.catalogue.read import EntryFilter
from weaponsdb.vocab import Category, Status

router = APIRouter(prefix="/v1", tags=["entries"], responses=PROBLEM_RESPONSES)

CSV = "text/csv; charset=utf-8"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "A CSV file, with a header"}
}
Country = Annotated[
    str | None, Query(pattern=r"^[A-Za-z]{2}$", description="ISO 3166-1 alpha-2 code, e.g. KP")
]


ForExcel = Annotated[
    bool,
    Query(
        description="Begin the file with a byte order mark, so that Excel reads it as UTF-8 "
        "(without one it shows Hangul and Cyrillic garbled). Off by default: scripts reading "
        "CSV take the mark for part of the first column's name."
    ),
]


def _csv(text: str, name: str, excel: bool) -> Response:
    return Response(
        tabular.for_excel(text) if excel else text,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def chosen_entries(
    category: Category | None = None,
    country: Country = None,
    q: Annotated[SearchText, Query(description="Text in a name, designation or alias")] = None,
    status: Status = Status.PUBLISHED,
) -> EntryFilter:
    return EntryFilter(
        category=category, country=country.upper() if country else None, text=q, status=status
    )


Chosen = Annotated[EntryFilter, Depends(chosen_entries)]


@router.get(
    "/entries.csv",
    summary="Entries as CSV, one row each",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def entries_csv(
    session: DbSession, base: BaseUrl, where: Chosen, excel: ForExcel = False
) -> Response:
    """Columns: slug, name, status, category, calibre_mm, calibre_designation, country,
    family, description, names, markings, producers (several values separated by ' | '),
    url (the entry's page)."""
    text = tabular.entries_csv(session, where, _page(base))
    return _csv(text, "entries.csv", excel)


@router.get(
    "/instances.csv",
    summary="Documented instances as CSV, one row each",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def instances_csv(
    session: DbSession, base: BaseUrl, where: Chosen, excel: ForExcel = False
) -> Response:
    """Columns: entry (slug), entry_name, event, place, country, date, description, sources
    (keys of the sources cited, separated by ' | '), url (the entry's page). `category`,
    `country`, `q` and `status` choose the entries."""
    text = tabular.instances_csv(session, where, _page(base))
    return _csv(text, "instances.csv", excel)


def _page(base: str) -> str:
    return f"{base}/entries/{{slug}}"
