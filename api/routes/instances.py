"""Documented instances on a map: GeoJSON (RFC 7946)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from api.dependencies import BaseUrl, DbSession
from api.problems import PROBLEM_RESPONSES
from weaponsdb import geo
from weaponsdb.schemas import KEY_PATTERN, CountryCode, PartialDate
from weaponsdb.vocab import Category

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
    country: Annotated[CountryCode | None, Query(description="Where it was documented.")] = None,
    date_from: Annotated[PartialDate | None, Query()] = None,
    date_to: Annotated[PartialDate | None, Query()] = None,
) -> JSONResponse:
    """Instances of published entries that have coordinates, each a Point at the precision
    its reviewer published (`precision`: exact, place, region, country)."""
    where = geo.InstanceFilter(entry, category, country, date_from, date_to)
    collection: dict[str, Any] = geo.feature_collection(session, where, base)
    return JSONResponse(collection, media_type=geo.MEDIA_TYPE)
