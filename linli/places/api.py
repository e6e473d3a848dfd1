"""Places endpoints: locate a point, list and read grids and regions, GeoJSON map layers.

No ``from __future__ import annotations`` here: ninja's ``@paginate`` wrapper resolves string annotations
in its own module, where ``Level`` does not exist (``/regions`` answered 500 for every request).
"""

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.places.locator import LocateError, get_locator
from linli.places.models import Level
from linli.places.selectors import (
    feature_collection,
    grid_detail_for_user,
    grid_list_for_user,
    map_layer_public,
    region_list_for_user,
)
from linli.security.ratelimit import rate_limit_enforce

router = Router(tags=["places"])


class RefOut(Schema):
    id: int
    name: str
    code: str


class LocateIn(Schema):
    # No range here: an out-of-range, NaN or swapped pair gets the locator's specific 400 code
    # (invalid_coordinates, outside_china); only what is not a number at all is a 422 invalid_input.
    lat: float = Field(..., description="latitude, WGS84 (-90..90)")
    lng: float = Field(..., description="longitude, WGS84 (-180..180)")


class LocateOut(Schema):
    lat: float
    lng: float
    grid: RefOut
    estate: RefOut | None
    community: RefOut
    street: RefOut
    district: RefOut
    snapped: bool = Field(..., description="outside every grid; the nearest grid within tolerance was given")
    distance_m: float


@router.get("/locate", response={200: LocateOut, 400: ErrorOut, 422: ErrorOut, 429: ErrorOut}, auth=None)
def locate(request: HttpRequest, params: Query[LocateIn]) -> Any:
    """Which grid, estate, community, street and district contain the point (WGS84)."""
    rate_limit_enforce(request, rule="public_api")  # public and anonymous: bounded per client IP (CFG-2)
    try:
        loc = get_locator().locate(params.lat, params.lng)
    except LocateError as exc:
        raise ApiError(exc.code, exc.message, status=400) from exc
    return {
        "lat": loc.lat,
        "lng": loc.lng,
        "grid": loc.grid,
        "estate": loc.estate,
        "community": loc.community,
        "street": loc.street,
        "district": loc.district,
        "snapped": loc.snapped,
        "distance_m": round(loc.distance_m, 1),
    }


class GridOut(Schema):
    id: int
    code: str
    name: str
    households: int
    community_id: int
    community_name: str = Field(..., alias="community.name")
    lat: float | None
    lng: float | None
    area_m2: float | None


class WorkerOut(Schema):
    id: int
    name: str


class GridDetailOut(GridOut):
    street_name: str
    workers: list[WorkerOut]
    boundary: dict[str, Any] | None


@router.get("/grids", response=list[GridOut], auth=session_or_token)
@paginate(CappedPagination)
def grid_list(request: HttpRequest, community_id: int | None = None) -> Any:
    """Grids the caller may see, in code order."""
    return grid_list_for_user(user=request.user, community_id=community_id)  # type: ignore[arg-type]


@router.get("/grids/{grid_id}", response={200: GridDetailOut, 404: ErrorOut}, auth=session_or_token)
def grid_detail(request: HttpRequest, grid_id: int) -> Any:
    grid = grid_detail_for_user(user=request.user, grid_id=grid_id)  # type: ignore[arg-type]
    if grid is None:
        raise Http404
    return {
        "id": grid.id,
        "code": grid.code,
        "name": grid.name,
        "households": grid.households,
        "community_id": grid.community_id,
        "community.name": grid.community.name,
        "street_name": grid.community.parent.name if grid.community.parent else "",
        "lat": grid.lat,
        "lng": grid.lng,
        "area_m2": grid.area_m2,
        "boundary": grid.boundary,
        "workers": [{"id": m.user.id, "name": str(m.user)} for m in grid.worker_memberships],  # type: ignore[attr-defined]
    }


class RegionOut(Schema):
    id: int
    parent_id: int | None
    level: str
    code: str
    name: str
    lat: float | None
    lng: float | None
    households: int


@router.get("/regions", response=list[RegionOut], auth=session_or_token)
@paginate(CappedPagination)
def region_list(request: HttpRequest, level: Level | None = None, parent_id: int | None = None) -> Any:
    return region_list_for_user(user=request.user, level=level, parent_id=parent_id)  # type: ignore[arg-type]


@router.get("/layers/{level}", response={200: dict[str, Any], 400: ErrorOut}, auth=None)
def public_layer(request: HttpRequest, level: str) -> Any:
    """GeoJSON boundaries of districts, streets or communities for the public map (no personal data)."""
    if level not in {Level.DISTRICT, Level.STREET, Level.COMMUNITY}:
        raise ApiError("invalid_layer", "图层只能是 district、street 或 community", status=400)
    features = [
        {
            "type": "Feature",
            "id": r.id,
            "geometry": r.boundary,
            "properties": {
                "id": r.id,
                "name": r.name,
                "code": r.code,
                "level": r.level,
                "parent_id": r.parent_id,
            },
        }
        for r in map_layer_public(level=level)
    ]
    return feature_collection(features)


@router.get("/grid-layer", response=dict[str, Any], auth=session_or_token)
def grid_layer(request: HttpRequest, community_id: int | None = None) -> Any:
    """GeoJSON of the grids the caller may see (worker names are on the grid detail, not here)."""
    features = [
        {
            "type": "Feature",
            "id": g.id,
            "geometry": g.boundary,
            "properties": {
                "id": g.id,
                "name": g.name,
                "code": g.code,
                "community": g.community.name,
                "households": g.households,
            },
        }
        for g in grid_list_for_user(user=request.user, community_id=community_id)  # type: ignore[arg-type]
    ]
    return feature_collection(features)
