"""Documented instances on a map: GeoJSON (RFC 7946)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.dependencies import BaseUrl, DbSession
from api.problems import PROBLEM_RESPONSES
from weaponsdb import geo
from weaponsdb.schemas import KEY_PATTERN
from weaponsdb.vocab import Category

DATE = r"^[0-9]{4}(-[0-9]{2}){0,2}$"
router = APIRouter(prefix="/v1", tags=["instances"], responses=PROBLEM_RESPONSES)


@router.get(
    "/instances.geojson",
    summary="Documented instances with coordinates, as GeoJSON",
    response_class=JSONResponse,
    responses={200: {"content": {geo.MEDIA_TYPE: {}}, "description": "A FeatureCollection."}},
)
def instances_geojson(
    session: DbSession,
    base: BaseUrl,
    entry: Annotated[
        str | None, Query(max_length=80, pattern=KEY_PATTERN, description="An entry's slug.")
    ] = None,
    category: Category | None = None,
    country: Annotated[
        str | None,
        Query(pattern=r"^[A-Za-z]{2}$", description="Where it was documented: ISO 3166-1 code."),
    ] = None,
    date_from: Annotated[
        str | None, Query(pattern=DATE, description="YYYY, YYYY-MM or date.")
    ] = None,
    date_to: Annotated[
        str | None, Query(pattern=DATE, description="YYYY, YYYY-MM or date.")
    ] = None,
) -> JSONResponse:
    """Instances of published entries that have coordinates, each a Point at the precision
    its reviewer published (`precision`: exact, place, region, country)."""
    # Dates compare as text, by their common prefix: a filter needs no calendar check.
    where = geo.InstanceFilter(
        entry, category, country.upper() if country else None, date_from, date_to
    )
    collection: dict[str, Any] = geo.feature_collection(session, where, base)
    return JSONResponse(collection, media_type=geo.MEDIA_TYPE)
