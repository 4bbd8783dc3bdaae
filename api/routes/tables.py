"""The catalogue as spreadsheets: entries and documented instances as CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from api.dependencies import BaseUrl, DbSession
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


def _csv(text: str, name: str) -> Response:
    return Response(
        text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def chosen_entries(
    category: Category | None = None, country: Country = None, status: Status = Status.PUBLISHED
) -> EntryFilter:
    return EntryFilter(
        category=category, country=country.upper() if country else None, status=status
    )


Chosen = Annotated[EntryFilter, Depends(chosen_entries)]


@router.get(
    "/entries.csv",
    summary="Entries as CSV, one row each",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def entries_csv(session: DbSession, base: BaseUrl, where: Chosen) -> Response:
    """Columns: slug, name, status, category, calibre_mm, calibre_designation, country,
    family, description, names, markings, producers (several values separated by ' | '),
    url (the entry's page)."""
    text = tabular.entries_csv(session, where, _page(base))
    return _csv(text, "entries.csv")


@router.get(
    "/instances.csv",
    summary="Documented instances as CSV, one row each",
    response_class=Response,
    responses=CSV_RESPONSE,
)
def instances_csv(session: DbSession, base: BaseUrl, where: Chosen) -> Response:
    """Columns: entry (slug), entry_name, event, place, country, date, description, sources
    (keys of the sources cited, separated by ' | '), url (the entry's page). `category`,
    `country` and `status` choose the entries."""
    text = tabular.instances_csv(session, where, _page(base))
    return _csv(text, "instances.csv")


def _page(base: str) -> str:
    return f"{base}/entries/{{slug}}"
