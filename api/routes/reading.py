"""Reading the markings off a photo, and identifying the item from a photo. Nothing sent is
stored. The work runs in the server's thread pool (these are plain functions), so other
requests are answered while a photo is read; at most as many photos as there are cores are
read at once (Reader's own bound)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, UploadFile
from pydantic import AfterValidator, BaseModel, Field

from api.dependencies import (
    BaseUrl,
    DbSession,
    MarkingMatcher,
    PhotoMatching,
    TextReader,
    UploadLimits,
)
from api.problems import PROBLEM_RESPONSES
from api.responses import MatchedPhoto, entry_url
from api.routes.photos import UPLOAD_PROBLEMS, PhotoFile, upload_of
from weaponsdb.errors import FieldError, InvalidInputError
from weaponsdb.matching.matcher import MAX_MARKINGS, MAX_RESULTS, ObservedMarking
from weaponsdb.reading import identifying
from weaponsdb.reading.reader import BOX_PATTERN, Box, Reading
from weaponsdb.reading.scripts import SCRIPTS_PATTERN, parse_scripts
from weaponsdb.schemas import CountryCode
from weaponsdb.vocab import Category

router = APIRouter(prefix="/v1", tags=["reading"])
T = TypeVar("T")

READ_PATH, IDENTIFY_PATH = "/v1/read", "/v1/identify"
PATHS = (READ_PATH, IDENTIFY_PATH)
RESPONSES = {**PROBLEM_RESPONSES, **UPLOAD_PROBLEMS}


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
        json_schema_extra={"pattern": BOX_PATTERN},
        description="Where the marking is: x,y,width,height in the photo's pixels (upright). "
        "Without it the reader finds the text itself.",
        examples=["120,340,600,140"],
    ),
]
ScriptsForm = Annotated[
    str | None,
    Form(
        max_length=40,
        json_schema_extra={"pattern": SCRIPTS_PATTERN},
        description="Scripts to try, as ISO 15924 codes separated by commas (Hang, Cyrl, "
        "Hani, Arab, Latn). Without it, all of them.",
        examples=["Hang"],
    ),
]


def _photo(
    file: UploadFile, limits: UploadLimits, box: str | None, scripts: str | None
) -> identifying.Photo:
    upload = upload_of(file, limits)
    return identifying.Photo(
        data=upload.data,
        filename=upload.filename,
        content_type=upload.content_type,
        box=_parsed("box", Box.parse, box),
        scripts=_parsed("scripts", parse_scripts, scripts),
    )


@router.post(
    "/read",
    summary="Read the markings off a photo",
    responses=RESPONSES,
)
def read(
    reader: TextReader,
    limits: UploadLimits,
    file: PhotoFile,
    box: BoxForm = None,
    scripts: ScriptsForm = None,
) -> Reading:
    """Multipart form with the photo in `file`. Returns each line of text read, where it is
    on the photo, the script, how sure the reader is and the other readings its passes made.
    The photo goes through the same checks as an upload (413, 415, 422); nothing is stored.
    Rate limited per client (429)."""
    return identifying.read_upload(reader, _photo(file, limits, box, scripts), limits)


class IdentifiedOut(identifying.Identified):
    url: str = Field(description="Permanent link to the entry.")


class IdentificationOut(BaseModel):
    reading: Reading
    phash: str = Field(description="Perceptual hash of the photo, 16 hex digits.")
    candidates: list[IdentifiedOut] = Field(description="Best first; ties in slug order.")
    confident: bool = Field(
        description="Whether the first candidate is likely enough to be the one; the "
        "candidates are listed either way (a partial reading names several entries)."
    )
    photo_matches: list[MatchedPhoto] = Field(description="Nearest reference photos first.")


@router.post(
    "/identify",
    summary="Identify the item in a photo: its markings read and matched, its look compared",
    responses=RESPONSES,
)
def identify(
    session: DbSession,
    reader: TextReader,
    matcher: MarkingMatcher,
    photo_matcher: PhotoMatching,
    limits: UploadLimits,
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
    photo = _photo(file, limits, box, scripts)
    evidence = identifying.Evidence(
        markings=markings,
        category=category.value if category else None,
        calibre_mm=calibre_mm,
        country=country,
    )
    found = identifying.identify(
        session,
        reader,
        matcher,
        photo_matcher,
        photo,
        evidence,
        limits,
        limit,
    )
    return IdentificationOut(
        reading=found.reading,
        phash=found.phash,
        candidates=[
            IdentifiedOut(**c.model_dump(), url=entry_url(base, c.slug)) for c in found.candidates
        ],
        confident=found.confident,
        photo_matches=[MatchedPhoto.with_links(m, base) for m in found.photo_matches],
    )
