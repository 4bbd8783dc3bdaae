"""The pages of field work: signing in with a key, the map and timeline of documented
instances (and, for editors, pending observations), submitting an observation, the review
queue, and an observation side by side with its candidate entries."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

from api.dependencies import (
    DbSession,
    MarkingMatcher,
    PhotoMatching,
    Sessions,
    Store,
    TextReader,
    UploadLimits,
)
from api.problems import status_of
from api.web import signin
from api.web.mapping import Pin, instance_pins, pending_pins, timeline
from api.web.pages import field_errors, not_found, render
from api.web.world import outlines_svg
from weaponsdb import geo, keys, schemas
from weaponsdb.catalogue import read as catalogue
from weaponsdb.db import transaction
from weaponsdb.errors import (
    FieldError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    WeaponsdbError,
    invalid,
)
from weaponsdb.matching.matcher import Matcher
from weaponsdb.observations import reviewing, submitting
from weaponsdb.observations.records import Link, Submission, view_of
from weaponsdb.photos.ingest import Upload, file_keys
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.processing import THUMBNAIL_TYPE
from weaponsdb.photos.storage import PhotoStore
from weaponsdb.photos.validation import Limits
from weaponsdb.reading.reader import Reader
from weaponsdb.vocab import Category, ObservationState, Precision, Role

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
OBSERVE_PATH = "/observations/new"  # takes uploads: the body limit is the photos'
WORLD_PATH = "/maps/world.svg"
_DATE = TypeAdapter(schemas.PartialDate)
CANDIDATES_SHOWN = 3


def _who(request: Request, sessions: sessionmaker[Session]) -> keys.KeyHolder | None:
    return signin.holder(request, sessions)


def _sign_in_first(request: Request) -> Response:
    target = request.url.path
    return render(
        request,
        "signin.html",
        401,
        title="Sign in",
        next=target,
        errors={},
        message="Sign in with your API key to see this page.",
    )


# --- signing in ----------------------------------------------------------------------------


@router.get("/signin")
def signin_form(request: Request, next: str = "/") -> Response:
    return render(request, "signin.html", title="Sign in", next=signin.local(next), errors={})


@router.post("/signin")
async def signin_post(request: Request, sessions: Sessions) -> Response:
    form = await request.form()
    secret = str(form.get("key", "")).strip()
    target = signin.local(str(form.get("next", "/")))
    try:
        with sessions() as session:
            keys.authenticate(session, secret, Role.CONTRIBUTOR)
    except WeaponsdbError as error:
        return render(
            request, "signin.html", 401, title="Sign in", next=target, errors={"key": error.message}
        )
    return signin.signed_in(request, secret, target)


@router.post("/signout")
def signout() -> Response:
    return signin.signed_out()


# --- the map -------------------------------------------------------------------------------


@router.get(WORLD_PATH)
def world() -> Response:
    return Response(
        outlines_svg(),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


def _filter(
    entry: str, category: str, country: str, date_from: str, date_to: str
) -> tuple[geo.InstanceFilter, dict[str, str]]:
    errors: dict[str, str] = {}
    chosen: Category | None = None
    if category:
        try:
            chosen = Category(category)
        except ValueError:
            errors["category"] = "Choose a category from the list."
    if entry and not re.fullmatch(schemas.KEY_PATTERN, entry):
        errors["entry"] = "Choose an entry from the list."
    if country and not re.fullmatch(r"[A-Z]{2}", country):
        errors["country"] = "Choose a country from the list."
    dates = {}
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        try:
            dates[name] = _DATE.validate_python(value) if value else None
        except ValidationError:
            errors[name] = "Give a date as YYYY, YYYY-MM or YYYY-MM-DD."
    where = geo.InstanceFilter(
        entry or None, chosen, country or None, dates.get("date_from"), dates.get("date_to")
    )
    return where, errors


@router.get("/map")
def map_page(
    request: Request,
    session: DbSession,
    sessions: Sessions,
    entry: str = "",
    category: str = "",
    country: str = "",
    date_from: str = "",
    date_to: str = "",
) -> Response:
    country = country.strip().upper()
    where, errors = _filter(entry.strip(), category, country, date_from.strip(), date_to.strip())
    who = _who(request, sessions)
    editor = who is not None and reviewing.is_editor(who)
    pins: list[Pin] = []
    if not errors:
        pins = instance_pins(geo.located_instances(session, where))
        if editor:
            pins += pending_pins(session, where)
    everything = geo.located_instances(session, geo.InstanceFilter())
    return render(
        request,
        "map.html",
        422 if errors else 200,
        title="Map and timeline",
        section="map",
        pins=pins,
        years=timeline(pins),
        editor=editor,
        who=who,
        entries=sorted({(i.entry.slug, i.entry.name) for i in everything}, key=lambda e: e[1]),
        countries=sorted({i.country for i in everything if i.country}),
        filters={
            "entry": entry,
            "category": category,
            "country": country,
            "date_from": date_from,
            "date_to": date_to,
        },
        errors=errors,
    )


# --- submitting ------------------------------------------------------------------------------


def _submission_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: str(form.get(name, "")).strip()
        for name in Submission.model_fields
        if name != "markings"
    }
    markings = str(form.get("markings", ""))
    values["markings"] = [line.strip() for line in markings.splitlines() if line.strip()]
    return values


async def _uploads(form: FormData, limits: Limits) -> list[Upload]:
    found = []
    for item in form.getlist("files"):
        if isinstance(item, UploadFile):
            data = await item.read(limits.max_bytes + 1)
            if data:
                found.append(Upload(data, item.filename, item.content_type))
    return found


def _submit(
    sessions: sessionmaker[Session],
    store: PhotoStore,
    matcher: Matcher,
    photo_matcher: PhotoMatcher,
    who: keys.KeyHolder,
    values: dict[str, Any],
    uploads: list[Upload],
    limits: Limits,
    reader: Reader | None,
) -> int:
    submission = Submission.parse(values)
    with transaction(sessions) as session:
        row = submitting.submit(
            session, store, matcher, photo_matcher, who, submission, uploads, limits, reader
        )
        return row.id


def _observe_form(
    request: Request, status: int, form: dict[str, Any], errors: dict[str, str]
) -> Response:
    return render(
        request,
        "observe.html",
        status,
        title="Submit an observation",
        section="observe",
        form=form,
        errors=errors,
        precisions=[p.value for p in Precision],
    )


@router.get(OBSERVE_PATH)
def observe_form(request: Request, sessions: Sessions) -> Response:
    if _who(request, sessions) is None:
        return _sign_in_first(request)
    return _observe_form(request, 200, {"source_kind": "own documentation"}, {})


@router.post(OBSERVE_PATH)
async def observe(
    request: Request,
    sessions: Sessions,
    store: Store,
    matcher: MarkingMatcher,
    photo_matcher: PhotoMatching,
    limits: UploadLimits,
    reader: TextReader,
) -> Response:
    who = _who(request, sessions)
    if who is None:
        return _sign_in_first(request)
    form = await request.form()
    values = _submission_values(form)
    chosen = reader if form.get("read_markings") else None
    try:
        uploads = await _uploads(form, limits)
        number = await run_in_threadpool(
            _submit, sessions, store, matcher, photo_matcher, who, values, uploads, limits, chosen
        )
    except WeaponsdbError as error:
        shown = {**values, "markings": "\n".join(values["markings"])}
        problems = field_errors(InvalidInputError(error.message, error.errors))
        return _observe_form(request, _status(error), shown, problems)
    return Response(status_code=303, headers={"Location": f"/observations/{number}"})


def _status(error: WeaponsdbError) -> int:
    return status_of(error)[0]


# --- reviewing -----------------------------------------------------------------------------


@router.get("/review")
def review_queue(
    request: Request, session: DbSession, sessions: Sessions, state: str = "pending"
) -> Response:
    who = _who(request, sessions)
    if who is None:
        return _sign_in_first(request)
    try:
        chosen = ObservationState(state) if state else None
    except ValueError:
        chosen = ObservationState.PENDING
    page = reviewing.queue(session, who, chosen, catalogue.MAX_PAGE_SIZE)
    editor = reviewing.is_editor(who)
    return render(
        request,
        "review.html",
        title="Review queue" if editor else "Your observations",
        section="review",
        observations=[view_of(row, editor) for row in page.items],
        total=page.total,
        state=chosen.value if chosen else "",
        states=[s.value for s in ObservationState],
        editor=editor,
    )


def _candidates(session: Session, candidates: dict[str, Any]) -> list[dict[str, Any]]:
    """The first candidates with the entry's markings and a reference photo, to compare."""
    shown = []
    slugs = [c["slug"] for c in candidates.get("markings", [])[:CANDIDATES_SHOWN]]
    photos = catalogue.first_photos(session, slugs)
    for candidate in candidates.get("markings", [])[:CANDIDATES_SHOWN]:
        try:
            entry = catalogue.get_entry(session, candidate["slug"])
        except NotFoundError:
            continue
        shown.append(
            {
                **candidate,
                "markings": [m.text for m in entry.markings],
                "photo": photos.get(candidate["slug"]),
            }
        )
    return shown


@router.get("/observations/{number}")
def observation_page(request: Request, number: int, sessions: Sessions) -> Response:
    who = _who(request, sessions)
    if who is None:
        return _sign_in_first(request)
    try:
        with transaction(sessions) as session:  # an editor opening it is logged
            row = reviewing.opened(session, number, who)
            steps = reviewing.steps(session, number, who)
            editor = reviewing.is_editor(who)
            context: dict[str, Any] = {
                "observation": view_of(row, editor),
                "steps": steps,
                "candidates": _candidates(session, row.candidates),
                "photo_matches": row.candidates.get("photos", []),
            }
    except NotFoundError as error:
        return not_found(request, error.message)
    context |= {"editor": editor, "precisions": [p.value for p in Precision]}
    return render(
        request, "observation.html", title=f"Observation {number}", section="review", **context
    )


@router.get("/observations/{number}/photos/{position}")
def observation_photo(
    request: Request,
    number: int,
    position: int,
    session: DbSession,
    sessions: Sessions,
    store: Store,
    size: str = "",
) -> Response:
    """The working copy (never the original) for the contributor and editors."""
    who = _who(request, sessions)
    if who is None:
        return Response(status_code=401)
    try:
        row = reviewing.get(session, number, who)
    except NotFoundError:
        return Response(status_code=404)
    if not 0 <= position < len(row.photos):
        return Response(status_code=404)
    photo = row.photos[position]
    name = size if size in ("thumb", "medium") else None
    data = store.read(file_keys(photo.sha256, photo.media_type)[name])
    if data is None:
        return Response(status_code=404)
    media_type = THUMBNAIL_TYPE[0] if name else photo.media_type
    return Response(data, media_type=media_type, headers={"Cache-Control": "private, no-store"})


ACTIONS = {"comments": reviewing.comment, "requests": reviewing.request_more}


@router.post("/observations/{number}/{action}")
async def observation_action(
    request: Request, number: int, action: str, sessions: Sessions
) -> Response:
    who = _who(request, sessions)
    if who is None:
        return _sign_in_first(request)
    form = {name: str(value).strip() for name, value in (await request.form()).items()}
    try:
        await run_in_threadpool(_act, sessions, who, number, action, form)
    except NotFoundError as error:
        return not_found(request, error.message)
    except WeaponsdbError as error:
        message = "; ".join(f"{e.field}: {e.reason}" for e in error.errors) or error.message
        return render(
            request,
            "error.html",
            _status(error),
            title="The step was not taken",
            message=f"{error.message} ({message})",
        )
    return Response(status_code=303, headers={"Location": f"/observations/{number}"})


def _act(
    sessions: sessionmaker[Session],
    who: keys.KeyHolder,
    number: int,
    action: str,
    form: dict[str, str],
) -> None:
    if action not in ("comments", "requests", "decline", "link"):
        raise NotFoundError("No such step.")
    if action != "comments" and not reviewing.is_editor(who):
        raise ForbiddenError(
            "Only editors review observations.", [FieldError("key", "not an editor")]
        )
    note = form.get("note", "")
    if len(note) < 3:
        raise InvalidInputError("Say why, in a few words.", [FieldError("note", "too short")])
    with transaction(sessions) as session:
        if action == "link":
            values = {k: v for k, v in form.items() if v}
            try:
                request = Link.model_validate(values)
            except ValidationError as error:
                raise invalid(error, "The link is invalid.") from None
            reviewing.link(session, number, who, request)
        elif action == "decline":
            reviewing.decline(session, number, who, note)
        else:
            ACTIONS[action](session, number, who, note)
