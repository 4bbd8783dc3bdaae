"""The Identify page's photo form reads the markings on the photo too: what was read fills
the markings box (each line editable, the alternatives listed beside it), and the entries
those lines match are shown at once; correcting a line and searching again matches again.
The reading runs in the thread pool, off the event loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request

from api.web import matches
from weaponsdb.errors import FieldError, InvalidInputError, WeaponsdbError
from weaponsdb.matching.matcher import MAX_MARKINGS, Matcher, MatchQuery
from weaponsdb.photos.validation import Limits
from weaponsdb.reading import identifying
from weaponsdb.reading.reader import Box, Reader, Reading

RESULTS_SHOWN = 10


@dataclass(frozen=True)
class Readers:
    """What the page reads and matches with."""

    reader: Reader
    matcher: Matcher
    limits: Limits


def _box(text: str) -> Box | None:
    try:
        return Box.parse(text)
    except ValueError as error:
        raise InvalidInputError(f"The box {error}.", [FieldError("box", str(error))]) from None


async def read_on_page(
    request: Request,
    session: Session,
    context: dict[str, Any],
    upload: UploadFile,
    data: bytes,
    readers: Readers,
) -> None:
    """Adds to the page's *context* what was read on the photo and what it matches, or why
    nothing could be read. A box the person typed or dragged is read alone."""
    form = await request.form()
    box_text = form.get("box")
    context["form"]["box"] = box_text if isinstance(box_text, str) else ""
    reader = readers.reader
    missing = reader.engine.missing()
    if missing:
        context["reading_unavailable"] = "Reading markings is unavailable on this server."
        return
    photo = identifying.Photo(
        data=data,
        filename=upload.filename,
        content_type=upload.content_type,
        box=_box(context["form"]["box"]),
    )
    reading: Reading = await run_in_threadpool(
        identifying.read_upload, reader, photo, readers.limits
    )
    context["reading"] = reading
    lines = [line.text for line in reading.lines][:MAX_MARKINGS]
    context["form"]["markings"] = "\n".join(lines)
    if lines:
        _match(session, readers.matcher, context, lines)


def _match(session: Session, matcher: Matcher, context: dict[str, Any], lines: list[str]) -> None:
    try:
        query = MatchQuery(markings=lines, limit=RESULTS_SHOWN)
        result = matcher.match(session, query)
    except (ValidationError, WeaponsdbError):
        return  # a line with no legible character: the person corrects it and searches
    matches.show(session, context, result)
