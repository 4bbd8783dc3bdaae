"""Per-request resources: a database session from the application's session factory."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Query, Request
from pydantic import AfterValidator
from sqlalchemy.orm import Session, sessionmaker

from weaponsdb.catalogue import MAX_PAGE_SIZE
from weaponsdb.matching.matcher import Matcher
from weaponsdb.schemas import KEY_PATTERN, printable


def get_sessions(request: Request) -> sessionmaker[Session]:
    sessions: sessionmaker[Session] = request.app.state.sessions
    return sessions


def get_session(request: Request) -> Iterator[Session]:
    with get_sessions(request)() as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]


def base_url(request: Request) -> str:
    """Where permalinks point: the configured public address, else the one asked for."""
    configured: str | None = request.app.state.settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


BaseUrl = Annotated[str, Depends(base_url)]


Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
Cursor = Annotated[
    str | None,
    Query(
        max_length=200,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="The `next_cursor` of the previous page.",
    ),
]

SearchText = Annotated[
    str | None,
    Query(min_length=1, max_length=200),
    AfterValidator(lambda text: printable(text) if text is not None else None),
]

SlugPath = Annotated[
    str, Path(max_length=80, pattern=KEY_PATTERN, description="The entry's permanent slug.")
]
KeyPath = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The source's key.")]


def get_matcher(request: Request) -> Matcher:
    matcher: Matcher = request.app.state.matcher
    return matcher


MarkingMatcher = Annotated[Matcher, Depends(get_matcher)]
