"""Per-request resources: a database session from the application's session factory."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker


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
