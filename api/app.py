"""The FastAPI application: wiring of settings, database and routes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy import Engine

from api import openapi, problems
from api.dependencies import Resources
from api.headers import SecurityHeaders, allow_cross_origin_reads
from api.limits import RateLimit, RequestBodyLimits
from api.rate_counts import SharedCounts
from api.routes import (
    entries,
    health,
    instances,
    match,
    observations,
    photos,
    reading,
    reconcile,
    revisions,
    sources,
    tables,
)
from api.telemetry import COLLECTIONS, Metrics, RequestTelemetry, configure_access_log
from api.web import fieldwork, pages
from weaponsdb import __version__
from weaponsdb.config import Settings, get_settings
from weaponsdb.db import make_engine

# How long a shutdown waits for the match index's loading threads to finish their reads.
SETTLE_SECONDS = 10

DESCRIPTION = """
An open reference database for identifying weapons and munitions from what can be seen on
them: entries with their names in every script, identifying features, markings, reference
photos and the sources behind every claim.

Errors are `application/problem+json` (RFC 9457): `detail` says what went wrong, `code` is
stable for programs, and `errors` names each offending field with the reason.
"""


def create_app(settings: Settings | None = None, engine: Engine | None = None) -> FastAPI:
    settings = settings or get_settings()
    engine = engine or make_engine(
        settings.database_url, statement_timeout_ms=settings.statement_timeout_ms
    )

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        resources.matcher.warm(resources.sessions)  # answers /healthz meanwhile
        COLLECTIONS.serving()
        yield
        await asyncio.to_thread(resources.matcher.settle, SETTLE_SECONDS)
        engine.dispose()
        resources.rate_counts.close()

    resources = Resources.build(settings, engine)

    # The docs pages' scripts are served by the service itself, not fetched from a CDN.
    app = FastAPIOffline(
        title="weaponsdb",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        generate_unique_id_function=openapi.operation_id,
    )
    resources.install(app)
    problems.install(app)
    for router in (
        health.router,
        tables.router,
        entries.router,
        match.router,
        sources.router,
        entries.editing_router,
        sources.editing_router,
        revisions.router,
        photos.router,
        reading.router,
        observations.router,
        instances.router,
        reconcile.router,
    ):
        app.include_router(router)
    pages.mount(app)
    app.include_router(fieldwork.router)
    protect(app, settings, resources.rate_counts)
    openapi.describe(app, rate_limited_paths=(*MATCH_PATHS, match.BATCH_PATH))
    return app


# The search pages run the same matchers, so they share the same limits.
MATCH_PATHS = (
    "/v1/match",
    "/v1/match/photo",
    pages.SEARCH_PATH,
    pages.PHOTO_SEARCH_PATH,
    *reading.PATHS,
    reconcile.PATH,
)
# Room for the form fields and part headers beside the photo in a multipart upload, so that
# a photo over the limit is refused by the photo checks, which say so for that file.
MULTIPART_ALLOWANCE = 64 * 1024


def protect(app: FastAPI, settings: Settings, counts: SharedCounts) -> None:
    """Middleware, innermost first: unexpected errors as problems, body size and time, rate limits,
    CORS, security headers, and telemetry outermost so that it sees every answer, refusals
    included."""

    def body_limit(path: str) -> int:
        uploads = path.endswith("/photos") or path in (
            observations.PATH,
            fieldwork.OBSERVE_PATH,
            "/v1/match/photo",
            pages.PHOTO_SEARCH_PATH,
            *reading.PATHS,
        )
        return (
            settings.max_upload_bytes + MULTIPART_ALLOWANCE if uploads else settings.max_body_bytes
        )

    app.add_middleware(problems.UnexpectedErrors)
    app.add_middleware(
        RequestBodyLimits, limit_for=body_limit, timeout=settings.request_body_timeout_seconds
    )
    app.add_middleware(
        RateLimit,
        limits=dict.fromkeys(MATCH_PATHS, settings.match_rate_limit),
        counts=counts,
    )
    allow_cross_origin_reads(app, settings.cors_origins)
    app.add_middleware(SecurityHeaders)
    metrics = Metrics()
    app.add_middleware(RequestTelemetry, metrics=metrics)
    app.add_route("/metrics", metrics.exposition, include_in_schema=False)
    configure_access_log()
