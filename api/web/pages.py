"""The web pages for people: browse, entry (with its citations) and search.

Server-rendered with Jinja2 from the core library, not over HTTP; one stylesheet and one
small script, both served from /static, and nothing loaded from anywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from api import problems
from api.dependencies import (
    BaseUrl,
    DbSession,
    MarkingMatcher,
    PhotoMatching,
    TextReader,
    UploadLimits,
)
from api.responses import cited_revision
from api.web import matches, reading
from api.web.mapping import instance_pins
from api.web.templating import HERE, templates
from weaponsdb import citing, models, revisions, schemas
from weaponsdb.catalogue import convert
from weaponsdb.catalogue import read as catalogue
from weaponsdb.db import INTEGER_MAX
from weaponsdb.errors import FieldError, InvalidInputError, NotFoundError, WeaponsdbError
from weaponsdb.matching.matcher import MAX_MARKINGS, MatchQuery
from weaponsdb.photos.matching import PhotoMatch, PhotoMatcher
from weaponsdb.photos.validation import Limits
from weaponsdb.revisions import ENTRIES
from weaponsdb.vocab import Category

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)

CITATION_LABELS = {
    citing.CitationFormat.APA: "APA",
    citing.CitationFormat.CHICAGO: "Chicago",
    citing.CitationFormat.BIBTEX: "BibTeX",
    citing.CitationFormat.CSL_JSON: "CSL-JSON",
}
SEARCH_PATH = "/search"
PHOTO_SEARCH_PATH = "/search/photo"
BROWSE_PAGE_SIZE = 50
RESULTS_SHOWN = 10
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


def sentence(reason: str) -> str:
    """The core library's reasons are clauses ("must be ..."); the page shows sentences."""
    reason = reason[:1].upper() + reason[1:]
    return reason if reason.endswith((".", "?", "!")) else reason + "."


def text_field(name: str, value: str, errors: list[FieldError]) -> str:
    """A form value as typed, or a reason to refuse it (kept next to the field)."""
    value = value.strip()
    if len(value) > MAX_FIELD_LENGTH:
        errors.append(FieldError(name, f"At most {MAX_FIELD_LENGTH} characters, please."))
        return ""
    try:
        return schemas.printable(value)
    except ValueError as error:
        errors.append(FieldError(name, sentence(str(error))))
        return ""


def category_field(value: str, errors: list[FieldError]) -> Category | None:
    if not value:
        return None
    try:
        return Category(value)
    except ValueError:
        errors.append(FieldError("category", "Choose a category from the list."))
        return None


@router.get("/")
@router.get("/entries")
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
        errors.append(FieldError("country", "Choose a country from the list."))
    text = text_field("q", q, errors)
    if cursor and not re.fullmatch(schemas.KEY_PATTERN, cursor):
        errors.append(FieldError("cursor", "This is not a cursor from a previous page's link."))
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
        chosen=None if problems else _chosen(where),
        errors=problems,
    )


def _chosen(where: catalogue.EntryFilter) -> str:
    """The query string that chooses the same entries from the CSV tables."""
    given = {"category": where.category, "country": where.country, "q": where.text}
    return urlencode({name: value for name, value in given.items() if value})


@router.get("/entries/{slug}")
def entry_page(request: Request, slug: str, session: DbSession, base: BaseUrl) -> Response:
    if len(slug) > 80 or not re.fullmatch(schemas.KEY_PATTERN, slug):
        return not_found(request, "No entry has that address.")
    try:
        entry = catalogue.get_entry(session, slug)
    except NotFoundError as error:
        return not_found(request, error.message)
    record = convert.entry_record(entry)
    try:
        revision: models.Snapshotted | None = revisions.latest_revision(session, ENTRIES, slug)
    except NotFoundError:
        revision = None
    related = catalogue.related_to(session, entry)
    return _entry(request, session, base, record, revision, related, entry.instances)


@router.get("/entries/{slug}/revisions/{number}")
def revision_page(
    request: Request, slug: str, number: int, session: DbSession, base: BaseUrl
) -> Response:
    """The entry exactly as one revision left it: the page to cite."""
    if len(slug) > 80 or not re.fullmatch(schemas.KEY_PATTERN, slug) or number > INTEGER_MAX:
        return not_found(request, "No revision has that address.")
    try:
        revision = revisions.get_revision(session, ENTRIES, slug, number)
        latest = revisions.latest_revision(session, ENTRIES, slug).number
    except NotFoundError as error:
        return not_found(request, error.message)
    record = revisions.snapshot(ENTRIES, revision)
    return _entry(request, session, base, record, revision, [], latest=latest)


def _entry(
    request: Request,
    session: Session,
    base: str,
    record: schemas.EntryRecord,
    revision: models.Snapshotted | None,
    related: list[models.Relation],
    instances: Sequence[models.Instance] = (),
    latest: int | None = None,
) -> Response:
    """An entry's page from its record: the current one, with its *instances* as stored
    (their map pins and anchors), or a revision's (*latest* then says which is current)."""
    sources = catalogue.sources_by_key(session, record.cited_source_keys())
    producers = catalogue.producers_by_key(session, {p.producer for p in record.producers})
    citations: list[tuple[str, str, str]] = []
    embedded: dict[str, Any] = {}
    if revision is not None:
        cited = cited_revision(revision, record.slug, base)
        citations = [
            (style.value, label, citing.render(cited, style)[0])
            for style, label in CITATION_LABELS.items()
        ]
        keywords = [n.text for n in record.names]
        embedded = {
            "meta": citing.meta_tags(cited, record.description, keywords),
            "json_ld": citing.json_ld(cited, record.description, keywords, base),
        }
    return render(
        request,
        "entry.html",
        pins=instance_pins([i for i in instances if i.latitude is not None]),
        instance_ids=[instance.id for instance in instances],
        title=record.name,
        entry=record,
        producers={p.key: convert.producer_record(p) for p in producers},
        targets=catalogue.entry_names(session, {r.target for r in record.relations}),
        related=related,
        sources={s.key: convert.source_record(s) for s in sources},
        revision=revision,
        revised=convert.utc(revision.created_at) if revision else None,
        citations=citations,
        embedded=embedded,
        latest=latest,
    )


def search_context(session: Session, title: str) -> dict[str, Any]:
    return {
        "title": title,
        "section": "search",
        "form": {"markings": "", "category": "", "calibre": "", "country": "", "box": ""},
        "countries": catalogue.countries(session),
        "errors": {},
        **matches.NONE_YET,
        "photo_results": None,
        "reading": None,
    }


def calibre_field(value: str, errors: list[FieldError]) -> float | None:
    """What people type: "122", "122 mm", "7.62", "7,62"."""
    text = value.strip().lower().removesuffix("mm").strip().replace(",", ".")
    if not text:
        return None
    try:
        calibre = float(text)
    except ValueError:
        calibre = -1.0
    if not 0 < calibre <= 1000:
        errors.append(
            FieldError("calibre", "Give the calibre in millimetres, such as 122 or 7.62.")
        )
        return None
    return calibre


def query_errors(error: ValidationError, lines: list[str]) -> list[FieldError]:
    """The matcher's validation, said of the form's fields; a marking by its line."""
    found: list[FieldError] = []
    for problem in error.errors():
        location = problem["loc"]
        field = {"calibre_mm": "calibre"}.get(str(location[0]), str(location[0]))
        reason = sentence(problem["msg"].removeprefix("Value error, "))
        if field == "markings" and len(location) > 1 and isinstance(location[1], int):
            reason = f"“{lines[location[1]]}”: {reason}"
        elif field == "markings" and problem["type"] == "too_long":
            reason = f"At most {MAX_MARKINGS} markings at once, one per line."
        found.append(FieldError(field, reason))
    return found


@router.get(SEARCH_PATH)
def search(
    request: Request,
    session: DbSession,
    matcher: MarkingMatcher,
    markings: str | None = None,
    category: str = "",
    calibre: str = "",
    country: str = "",
) -> Response:
    """The search form; with markings, the entries they match, best first."""
    lines = [line.strip() for line in (markings or "").splitlines() if line.strip()]
    context = search_context(session, "Identify from markings")
    context["form"] = {
        "markings": markings or "",
        "category": category,
        "calibre": calibre,
        "country": country.strip().upper(),
    }
    if markings is None:  # the empty form
        return render(request, "search.html", **context)
    errors: list[FieldError] = []
    if not lines:
        errors.append(FieldError("markings", "Type at least one marking, one per line."))
    chosen_category = category_field(category, errors)
    chosen_calibre = calibre_field(calibre, errors)
    query: MatchQuery | None = None
    try:
        query = MatchQuery(
            markings=lines,
            category=chosen_category,
            calibre_mm=chosen_calibre,
            country=context["form"]["country"] or None,
            limit=RESULTS_SHOWN,
        )
    except ValidationError as error:
        errors += [e for e in query_errors(error, lines) if lines or e.field != "markings"]
    if errors or query is None:
        context["errors"] = field_errors(InvalidInputError("", errors))
        context["title"] = "Check the markings: identify from markings"
        return render(request, "search.html", 422, **context)
    try:
        result = matcher.match(session, query)
    except InvalidInputError as error:
        context["errors"] = field_errors(error)
        return render(request, "search.html", 422, **context)
    matches.show(session, context, result)
    context["title"] = f"{len(result.candidates)} matches for {', '.join(lines)}"[:120]
    return render(request, "search.html", **context)


# Until the photo store (issue 4) lands with its own checks, the page checks an upload is
# an image of an accepted format before it would be handed to the photo matcher.
NO_PHOTO = "No photo came with the form: choose an image file, then upload it."
PHOTO_RESULTS = 10
PHOTO_MAX_DISTANCE = 20  # bits of 64; unrelated photos are about 32 apart


def photo_matches(
    matcher: PhotoMatcher, limits: Limits, session: Session, upload: UploadFile, data: bytes
) -> list[PhotoMatch]:
    """The reference photos nearest the uploaded one, after the same checks as any upload
    (a WeaponsdbError naming the reason otherwise)."""
    _, matches = matcher.match_photo(
        session,
        data,
        limits,
        PHOTO_RESULTS,
        PHOTO_MAX_DISTANCE,
        upload.filename,
        upload.content_type,
    )
    return matches


@router.post(PHOTO_SEARCH_PATH)
async def search_by_photo(
    request: Request,
    session: DbSession,
    matcher: PhotoMatching,
    limits: UploadLimits,
    reader: TextReader,
    marking_matcher: MarkingMatcher,
) -> Response:
    # Read by hand: a form without a file, or with an empty one, is the person's mistake
    # to explain on the page, not a validation problem in JSON.
    upload = (await request.form()).get("photo")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    context = search_context(session, "Identify from a photo")
    try:
        if not isinstance(upload, UploadFile) or not data:
            raise InvalidInputError(NO_PHOTO, [FieldError("photo", "no file")])
        # Decoding and hashing are CPU work: off the event loop, so other requests go on.
        context["photo_results"] = await run_in_threadpool(
            photo_matches, matcher, limits, session, upload, data
        )
        found = reading.Readers(reader, marking_matcher, limits)
        await reading.read_on_page(request, session, context, upload, data, found)
    except WeaponsdbError as error:
        field = error.errors[0].field if error.errors else "photo"
        context["errors"] = {"box" if field == "box" else "photo": error.message}
        context["title"] = "Check the photo: identify from a photo"
        return render(request, "search.html", problems.status_of(error)[0], **context)
    return render(request, "search.html", **context)
