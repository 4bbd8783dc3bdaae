"""Liveness and readiness: is the database reachable and migrated?"""

import os

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from api.dependencies import DbEngine, TextReader
from api.responses import Health
from weaponsdb.db import current_revision, head_revision

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Service health", response_model=Health)
def healthz(engine: DbEngine, reader: TextReader) -> JSONResponse:
    """The database decides whether the service is up; reading photos is reported apart,
    since everything else works without it."""
    expected = head_revision()
    missing = reader.engine.missing()
    reading = "ok" if not missing else "unavailable: missing " + "; ".join(missing)
    try:
        revision = current_revision(engine)
    except SQLAlchemyError:
        health = Health(
            status="unavailable",
            database="unreachable",
            schema_revision=None,
            expected_revision=expected,
            reading=reading,
            worker=os.getpid(),
        )
        return JSONResponse(health.model_dump(), status_code=503)
    healthy = revision == expected
    health = Health(
        status="ok" if healthy else "unavailable",
        database="ok" if healthy else "not migrated to the expected revision",
        schema_revision=revision,
        expected_revision=expected,
        reading=reading,
        worker=os.getpid(),
    )
    return JSONResponse(health.model_dump(), status_code=200 if healthy else 503)
