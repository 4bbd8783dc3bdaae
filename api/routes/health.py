"""Liveness and readiness: is the database reachable and migrated, is the match index
built?"""

import os

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.dependencies import get_resources
from api.responses import Health

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="Service health", response_model=Health)
async def healthz(request: Request) -> JSONResponse:
    """The database decides whether the service is up (checked at most once a second);
    reading photos and the match index are reported apart, since the rest works without
    them (while the index is built, matches are answered from the database)."""
    # Resources from the request, not by dependencies (see get_resources). A recent result
    # is given at once; a new check may wait on the database, off the loop.
    resources = get_resources(request)
    check, matcher = resources.health, resources.matcher
    checked = check.fresh()
    if checked is None:
        checked = await run_in_threadpool(check.check)
    if not checked.reachable:
        database = "unreachable"
    elif not checked.healthy:
        database = "not migrated to the expected revision"
    else:
        database = "ok"
    health = Health(
        status="ok" if checked.healthy else "unavailable",
        database=database,
        schema_revision=checked.revision,
        expected_revision=checked.expected,
        reading=checked.reading,
        matching_index=matcher.state(),
        worker=os.getpid(),
    )
    return JSONResponse(health.model_dump(), status_code=200 if checked.healthy else 503)
