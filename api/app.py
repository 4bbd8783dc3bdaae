"""The FastAPI application: wiring of settings, database and routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from api import problems
from api.routes import entries, health, sources
from weaponsdb import __version__
from weaponsdb.config import Settings, get_settings
from weaponsdb.db import make_engine, make_sessionmaker

DESCRIPTION = """
An open reference database for identifying weapons and munitions from what can be seen on
them: entries with their names in every script, identifying features, markings, reference
photos and the sources behind every claim.

Errors are `application/problem+json` (RFC 9457): `detail` says what went wrong, `code` is
stable for programs, and `errors` names each offending field with the reason.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    # The docs pages' scripts are served by the service itself, not fetched from a CDN.
    app = FastAPIOffline(
        title="weaponsdb",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = make_sessionmaker(engine)
    problems.install(app)
    for module in (health, entries, sources):
        app.include_router(module.router)
    return app
