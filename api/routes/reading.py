"""Reading the markings off a photo, and identifying the item from a photo. Nothing sent is
stored. The work runs in the server's thread pool (these are plain functions), so other
requests are answered while a photo is read; at most as many photos as there are cores are
read at once (Reader's own bound)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Form, Request, UploadFile
from pydantic import AfterValidator, BaseModel, Field

from api.dependencies import BaseUrl, DbSession, MarkingMatcher
from api.problems import PROBLEM_JSON, PROBLEM_RESPONSES, Problem
from api.responses import entry_url
from api.routes.photos import UPLOAD_PROBLEMS, MatchedPhoto, PhotoFile, _limits, _matcher, _upload
from weaponsdb.errors import FieldError, InvalidInputError
from weaponsdb.matching.matcher import MAX_MARKINGS, MAX_RESULTS, ObservedMarking
from weaponsdb.reading import identifying
from weaponsdb.reading.reader import Box, Reader, Reading
from weaponsdb.reading.scripts import parse_scripts
from weaponsdb.schemas import CountryCode
from weaponsdb.vocab import Category

router = APIRouter(prefix="/v1", tags=["reading"])
T = TypeVar("T")

READ_PATH, IDENTIFY_PATH = "/v1/read", "/v1/identify"
PATHS = (READ_PATH, IDENTIFY_PATH)
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": Problem,
        "content": {PROBLEM_JSON: {}},
        "description": "Tesseract or one of its language packs is missing on the server; "
        "the detail names what.",
    }
}
RESPONSES = {**PROBLEM_RESPONSES, **UPLOAD_PROBLEMS, **UNAVAILABLE}


def _parsed(name: str, parse: Callable[[str | None], T], value: str | None) -> T:
    """A form field parsed, or a 422 naming it with the reason."""
    try:
        return parse(value)
    except ValueError as error:
        raise InvalidInputError(
            f"Invalid {name}: {error}.", [FieldError(name, str(error))]
        ) from None


BoxForm = Annotated[
    str | None,
    Form(
        max_length=60,
        description="Where the marking is: x,y,width,height in the photo's pixels (upright). "
        "Without it the reader finds the text itself.",
        examples=["120,340,600,140"],
    ),
]
ScriptsForm = Annotated[
    str | None,
    Form(
        max_length=40,
        description="Scripts to try, as ISO 15924 codes separated by commas (Hang, Cyrl, "
        "Hani, Arab, Latn). Without it, all of them.",
        examples=["Hang"],
    ),
]


def _photo(
    request: Request, file: UploadFile, box: str | None, scripts: str | None
) -> identifying.Photo:
    upload = _upload(file, _limits(request))
    return identifying.Photo(
        data=upload.data,
        filename=upload.filename,
        content_type=upload.content_type,
        box=_parsed("box", Box.parse, box),
        scripts=_parsed("scripts", parse_scripts, scripts),
    )


def _reader(request: Request) -> Reader:
    reader: Reader = request.app.state.reader
    return reader


@router.post(
    "/read",
    summary="Read the markings off a photo",
    responses=RESPONSES,
)
def read(
    request: Request, file: PhotoFile, box: BoxForm = None, scripts: ScriptsForm = None
) -> Reading:
    """Multipart form with the photo in `file`. Returns each line of text read, where it is
    on the photo, the script, how sure the reader is and the other readings its passes made.
    The photo goes through the same checks as an upload (413, 415, 422); nothing is stored.
    Rate limited per client (429)."""
    photo = _photo(request, file, box, scripts)
    return identifying.read_upload(_reader(request), photo, _limits(request))


class IdentifiedOut(identifying.Identified):
    url: str = Field(description="Permanent link to the entry.")


class IdentificationOut(BaseModel):
    reading: Reading
    phash: str = Field(description="Perceptual hash of the photo, 16 hex digits.")
    candidates: list[IdentifiedOut] = Field(description="Best first; ties in slug order.")
    photo_matches: list[MatchedPhoto] = Field(description="Nearest reference photos first.")


@router.post(
    "/identify",
    summary="Identify the item in a photo: its markings read and matched, its look compared",
    responses=RESPONSES,
)
def identify(
    request: Request,
    session: DbSession,
    matcher: MarkingMatcher,
    base: BaseUrl,
    file: PhotoFile,
    box: BoxForm = None,
    scripts: ScriptsForm = None,
    markings: Annotated[
        list[Annotated[ObservedMarking, AfterValidator(str)]],
        Form(
            max_length=MAX_MARKINGS,
            description="Markings read by a person, as /v1/match takes them (repeat the field).",
        ),
    ] = [],  # noqa: B006 - FastAPI copies defaults per request
    category: Annotated[Category | None, Form()] = None,
    calibre_mm: Annotated[float | None, Form(gt=0, le=1000)] = None,
    country: Annotated[CountryCode | None, Form()] = None,
    limit: Annotated[int, Form(ge=1, le=MAX_RESULTS)] = 10,
) -> IdentificationOut:
    """Multipart form with the photo in `file`. Reads the markings on it, matches every
    reading and its alternatives against the catalogue (weighted by how sure the reading
    is), together with any markings typed in, and compares the photo with the reference
    photos. Each candidate says which reading met which catalogue text and how, and which
    reference photo it resembles. Nothing is stored. Rate limited per client (429)."""
    photo = _photo(request, file, box, scripts)
    evidence = identifying.Evidence(
        markings=markings,
        category=category.value if category else None,
        calibre_mm=calibre_mm,
        country=country,
    )
    found = identifying.identify(
        session,
        _reader(request),
        matcher,
        _matcher(request),
        photo,
        evidence,
        _limits(request),
        limit,
    )
    return IdentificationOut(
        reading=found.reading,
        phash=found.phash,
        candidates=[
            IdentifiedOut(**c.model_dump(), url=entry_url(base, c.slug)) for c in found.candidates
        ],
        photo_matches=[MatchedPhoto.with_links(m, base) for m in found.photo_matches],
    )
