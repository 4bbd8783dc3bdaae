"""The web pages for people: browse, entry (with its citations) and search.

Server-rendered with Jinja2 from the core library, not over HTTP; one stylesheet and one
small script, both served from /static, and nothing loaded from anywhere else.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.dependencies import BaseUrl, DbSession
from api.responses import cited_revision
from weaponsdb import catalogue, citing, models, revisions, schemas, to_records
from weaponsdb.errors import FieldError, InvalidInputError, NotFoundError
from weaponsdb.vocab import Category, Confidence

HERE = Path(__file__).resolve().parent
templates = Jinja2Templates(directory=HERE / "templates")


def millimetres(value: Decimal | float | str) -> str:
    """122.00 as "122", 7.620 as "7.62"."""
    return format(Decimal(str(value)).normalize(), "f")


templates.env.filters["country_name"] = schemas.country_name
templates.env.filters["mm"] = millimetres
templates.env.globals["categories"] = [category.value for category in Category]
templates.env.globals["confidence_help"] = {
    Confidence.CONFIRMED.value: "established by several independent sources or physical evidence",
    Confidence.REPORTED.value: "stated by the source, not independently confirmed",
    Confidence.INFERRED.value: "follows from what the source says, though it does not say it",
    Confidence.DISPUTED.value: "stated by the source and contradicted elsewhere",
}

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

CITATION_LABELS = {
    citing.CitationFormat.APA: "APA",
    citing.CitationFormat.CHICAGO: "Chicago",
    citing.CitationFormat.BIBTEX: "BibTeX",
    citing.CitationFormat.CSL_JSON: "CSL-JSON",
}
BROWSE_PAGE_SIZE = 50
MAX_FIELD_LENGTH = 200


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    return templates.TemplateResponse(request, template, context, status_code=status)


def not_found(request: Request, message: str) -> Response:
    return render(request, "error.html", 404, title="Not found", message=message)


def field_errors(error: InvalidInputError) -> dict[str, str]:
    """Messages by form field: "markings[2]" belongs to the markings box, and so on."""
    by_field: dict[str, str] = {}
    for problem in error.errors:
        field = re.split(r"[\[.]", problem.field, maxsplit=1)[0]
        by_field.setdefault(field, problem.reason)
    return by_field or {"form": error.message}


def text_field(name: str, value: str, errors: list[FieldError]) -> str:
    """A form value as typed, or a reason to refuse it (kept next to the field)."""
    value = value.strip()
    if len(value) > MAX_FIELD_LENGTH:
        errors.append(FieldError(name, f"at most {MAX_FIELD_LENGTH} characters"))
        return ""
    try:
        return schemas.printable(value)
    except ValueError as error:
        errors.append(FieldError(name, str(error)))
        return ""


def category_field(value: str, errors: list[FieldError]) -> Category | None:
    if not value:
        return None
    try:
        return Category(value)
    except ValueError:
        errors.append(FieldError("category", "not one of the categories in the list"))
        return None


@router.get("/entries")
def entries_redirect() -> Response:
    return RedirectResponse("/", status_code=308)


@router.get("/")
def browse(
    request: Request,
    session: DbSession,
    category: str = "",
    country: str = "",
    q: str = "",
    cursor: str = "",
) -> Response:
    errors: list[FieldError] = []
    chosen_category = category_field(category, errors)
    country = text_field("country", country, errors).upper()
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors.append(FieldError("country", "not a two-letter country code"))
    text = text_field("q", q, errors)
    where = catalogue.EntryFilter(
        category=chosen_category, country=country or None, text=text or None
    )
    page: catalogue.Page[models.Entry] = catalogue.Page([], 0, None)
    if errors:
        problems = field_errors(InvalidInputError("", errors))
    else:
        try:
            page = catalogue.list_entries(session, where, BROWSE_PAGE_SIZE, cursor or None)
            problems = {}
        except InvalidInputError as error:
            problems = field_errors(error)
    return render(
        request,
        "browse.html",
        200 if not problems else 422,
        title="Browse entries",
        section="browse",
        page=page,
        countries=catalogue.countries(session),
        filters={"category": category, "country": country, "q": text},
        errors=problems,
    )


@router.get("/entries/{slug}")
def entry_page(request: Request, slug: str, session: DbSession, base: BaseUrl) -> Response:
    if len(slug) > 80 or not re.fullmatch(schemas.KEY_PATTERN, slug):
        return not_found(request, "No entry has that address.")
    try:
        entry = catalogue.get_entry(session, slug)
    except NotFoundError as error:
        return not_found(request, error.message)
    record = to_records.entry(entry)
    sources = catalogue.sources_by_key(session, record.cited_source_keys())
    try:
        revision: models.Revision | None = revisions.latest_revision(session, slug)
    except NotFoundError:
        revision = None
    citations: list[tuple[str, str, str]] = []
    if revision is not None:
        cited = cited_revision(revision, slug, base)
        citations = [
            (style.value, label, citing.render(cited, style)[0])
            for style, label in CITATION_LABELS.items()
        ]
    return render(
        request,
        "entry.html",
        title=record.name,
        entry=record,
        producers={p.producer.key: to_records.producer(p.producer) for p in entry.producers},
        targets={r.target.slug: r.target.name for r in entry.relations},
        related=catalogue.related_to(session, entry),
        sources={s.key: to_records.source(s) for s in sources},
        revision=revision,
        revised=to_records.utc(revision.created_at) if revision else None,
        citations=citations,
    )
