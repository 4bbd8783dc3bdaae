"""What a route is given, declared once for every route and page.

The application's resources (settings, engine, sessions, matchers, photo store, upload
limits, the photo reader) are built once, in create_app, and reached only through the
aliases below; so are a read session, the write transaction, and the types of the path and
query parameters that routes share.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, FastAPI, Path, Query, Request
from pydantic import AfterValidator
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from api.health_check import HealthCheck
from api.rate_counts import SharedCounts
from weaponsdb.catalogue.read import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from weaponsdb.config import Settings
from weaponsdb.db import INTEGER_MAX, make_sessionmaker, transaction
from weaponsdb.matching.matcher import Matcher
from weaponsdb.photos.matching import PhotoMatcher
from weaponsdb.photos.storage import FileStore, PhotoStore
from weaponsdb.photos.validation import Limits
from weaponsdb.reading.engine import Tesseract
from weaponsdb.reading.reader import Reader
from weaponsdb.schemas import KEY_PATTERN, PRINTABLE_PATTERN, declared, printable

T = TypeVar("T")


@dataclass(frozen=True)
class Resources:
    """Everything the application holds for its whole life, one of each."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    matcher: Matcher
    photo_matcher: PhotoMatcher
    store: PhotoStore
    limits: Limits
    reader: Reader
    health: HealthCheck
    rate_counts: SharedCounts

    @classmethod
    def build(cls, settings: Settings, engine: Engine) -> Resources:
        reader = Reader(Tesseract.shared(settings.tessdata_dir))
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            matcher=Matcher(index_file=settings.match_index_file()),
            photo_matcher=PhotoMatcher(),
            store=FileStore(settings.images_dir),
            limits=Limits.of(settings),
            reader=reader,
            health=HealthCheck(engine, reader),
            rate_counts=SharedCounts(settings.rate_limit_file),
        )

    def install(self, app: FastAPI) -> None:
        app.state.resources = self


def get_resources(request: Request) -> Resources:
    """The application's resources. The hottest routes (a match, /healthz) take them from
    the request with this rather than by dependencies: FastAPI solves each dependency of a
    request on its own, about 40 microseconds each (measured), as much as the rest of a
    /healthz answer's routing."""
    resources: Resources = request.app.state.resources
    return resources


def _resource(pick: Callable[[Resources], T]) -> Callable[[Request], Awaitable[T]]:
    """A dependency giving one of the application's resources. Async, as are the other
    dependencies that neither block nor wait: FastAPI would send a plain function to the
    thread pool, and those hops were most of the cost of a cheap request such as /healthz."""

    async def resource(request: Request) -> T:
        return pick(get_resources(request))

    return resource


Sessions = Annotated[sessionmaker[Session], Depends(_resource(lambda r: r.sessions))]
AppSettings = Annotated[Settings, Depends(_resource(lambda r: r.settings))]
DbEngine = Annotated[Engine, Depends(_resource(lambda r: r.engine))]
MarkingMatcher = Annotated[Matcher, Depends(_resource(lambda r: r.matcher))]
PhotoMatching = Annotated[PhotoMatcher, Depends(_resource(lambda r: r.photo_matcher))]
Store = Annotated[PhotoStore, Depends(_resource(lambda r: r.store))]
UploadLimits = Annotated[Limits, Depends(_resource(lambda r: r.limits))]
RateCounts = Annotated[SharedCounts, Depends(_resource(lambda r: r.rate_counts))]
TextReader = Annotated[Reader, Depends(_resource(lambda r: r.reader))]


def get_session(sessions: Sessions) -> Iterator[Session]:
    with sessions() as session:
        yield session


def write_session(sessions: Sessions) -> Iterator[Session]:
    """The one transaction of a write: committed when the route returns, before the answer
    is sent (so an acknowledged write is stored); rolled back whole on any error."""
    with transaction(sessions) as session:
        yield session


DbSession = Annotated[Session, Depends(get_session)]
WriteSession = Annotated[Session, Depends(write_session, scope="function")]


def base_of(request: Request) -> str:
    """Where permalinks point: the configured public address, else the one asked for."""
    return (get_resources(request).settings.public_url or str(request.base_url)).rstrip("/")


async def base_url(request: Request) -> str:
    # Not through AppSettings: each dependency costs FastAPI a solve of its own per request.
    return base_of(request)


BaseUrl = Annotated[str, Depends(base_url)]

# --- parameters --------------------------------------------------------------------------

SlugPath = Annotated[
    str, Path(max_length=80, pattern=KEY_PATTERN, description="The entry's permanent slug.")
]
KeyPath = Annotated[str, Path(max_length=80, pattern=KEY_PATTERN, description="The source's key.")]
IndexPath = Annotated[int, Path(ge=0, le=100_000, description="Position in the list, from 0.")]
ObservationPath = Annotated[
    int, Path(ge=1, le=INTEGER_MAX, description="The observation's number.")
]
PositionPath = Annotated[int, Path(ge=0, le=100, description="Position of the photo, from 0.")]
NumberPath = Annotated[int, Path(ge=1, le=INTEGER_MAX, description="Revision number, from 1.")]


def revision_query(alias: str, description: str) -> Any:
    """A revision number in the query string, bounded as NumberPath is."""
    return Query(alias=alias, ge=1, le=INTEGER_MAX, description=description)


Sha256Path = Annotated[
    str, Path(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the stored image.")
]

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="Items per page.")]
KeyCursor = Annotated[
    str | None,
    Query(
        max_length=80,
        pattern=KEY_PATTERN,
        description="The `next_cursor` of the previous page: the key of its last item.",
    ),
]
NumberCursor = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,10}$",
        description="The `next_cursor` of the previous page: the number of its last revision.",
    ),
]


@dataclass(frozen=True)
class Paging:
    """Which page of a list: at most *limit* items, after *cursor*."""

    limit: int
    cursor: str | None


async def paging(limit: Limit = DEFAULT_PAGE_SIZE, cursor: KeyCursor = None) -> Paging:
    return Paging(limit, cursor)


async def revision_paging(limit: Limit = DEFAULT_PAGE_SIZE, cursor: NumberCursor = None) -> Paging:
    return Paging(limit, cursor)


# A page of a list in key order (entries, sources); a page of revisions, in number order.
PageOf = Annotated[Paging, Depends(paging)]
RevisionPageOf = Annotated[Paging, Depends(revision_paging)]

SearchText = Annotated[
    str | None,
    Query(min_length=1, max_length=200),
    AfterValidator(lambda text: printable(text) if text is not None else None),
    declared(pattern=PRINTABLE_PATTERN),
]
