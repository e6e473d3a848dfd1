"""Writes for places. Every geometry change bumps the version stamp so locators rebuild once."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.db.models import F

from linli.places.geometry import GeometryError, geometry_from_geojson, geometry_to_geojson, summarize
from linli.places.models import PARENT_LEVEL, GeometryVersion, Grid, Level, Region


class PlacesError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def geometry_version_bump() -> None:
    """Called inside the transaction that changed geometry; the stamp commits with the change."""
    from linli.places.locator import locator_geometry_changed

    token = uuid.uuid4().hex
    updated = GeometryVersion.objects.filter(pk=1).update(version=F("version") + 1, token=token)
    if not updated:
        GeometryVersion.objects.update_or_create(pk=1, defaults={"version": 1, "token": token})
    # Re-read the stamp on this process's next lookup: now, once committed, and after a rollback.
    locator_geometry_changed()


def _apply_geometry(obj: Region | Grid, boundary: Any | None, *, point: tuple[float, float] | None) -> None:
    if boundary is not None:
        geom = geometry_from_geojson(boundary)
        summary = summarize(geom)
        obj.boundary = geometry_to_geojson(geom)
        obj.min_lng, obj.min_lat, obj.max_lng, obj.max_lat = (
            summary.min_lng,
            summary.min_lat,
            summary.max_lng,
            summary.max_lat,
        )
        obj.lat, obj.lng, obj.area_m2 = summary.lat, summary.lng, summary.area_m2
    elif point is not None:
        lat, lng = point
        obj.boundary = None
        obj.lat, obj.lng = lat, lng
        obj.min_lng = obj.max_lng = lng
        obj.min_lat = obj.max_lat = lat
        obj.area_m2 = None


def region_placement_check(*, parent: Region | None, level: str, code: str, name: str) -> None:
    """Where a new region may go: the parent one level up (none for the district), a code without "/"
    that its parent does not have yet. Raises PlacesError; the admin form calls it before saving."""
    expected_parent = PARENT_LEVEL.get(level, "?")
    if expected_parent == "?":
        raise PlacesError("invalid_level", f"未知层级: {level}")
    if (parent is None) != (expected_parent is None) or (
        parent is not None and parent.level != expected_parent
    ):
        raise PlacesError("invalid_parent", f"{name}: 上级层级不正确")
    if not code or "/" in code:
        raise PlacesError("invalid_code", f"{name}: 编码不能为空或包含“/”")
    if Region.objects.filter(path=(parent.path if parent else "/") + code + "/").exists():
        raise PlacesError("duplicate_code", f"{name}: 该上级下已有此编码")


def region_create(
    *,
    parent: Region | None,
    level: str,
    code: str,
    name: str,
    boundary: Any | None = None,
    point: tuple[float, float] | None = None,
    households: int = 0,
    population: int = 0,
    address: str = "",
    bump_version: bool = True,
) -> Region:
    region_placement_check(parent=parent, level=level, code=code, name=name)
    region = Region(
        parent=parent,
        level=level,
        code=code,
        name=name,
        households=households,
        population=population,
        address=address,
        path=(parent.path if parent else "/") + code + "/",
    )
    try:
        _apply_geometry(region, boundary, point=point)
    except GeometryError as exc:
        raise PlacesError(exc.code, f"{name}: {exc.message}") from exc
    with transaction.atomic():
        region.save()
        if bump_version and (boundary is not None or level == Level.BUILDING):
            geometry_version_bump()
    return region


def region_set_boundary(*, region: Region, boundary: Any) -> Region:
    try:
        _apply_geometry(region, boundary, point=None)
    except GeometryError as exc:
        raise PlacesError(exc.code, f"{region.name}: {exc.message}") from exc
    with transaction.atomic():
        region.save(
            update_fields=[
                "boundary",
                "lat",
                "lng",
                "min_lng",
                "min_lat",
                "max_lng",
                "max_lat",
                "area_m2",
                "updated_at",
            ]
        )
        geometry_version_bump()
    return region


_GEOMETRY_FIELDS = ["boundary", "lat", "lng", "min_lng", "min_lat", "max_lng", "max_lat", "area_m2"]


def region_update(
    *,
    region: Region,
    name: str,
    households: int,
    population: int,
    address: str,
    boundary: Any | None = None,
    point: tuple[float, float] | None = None,
    bump_version: bool = True,
) -> Region:
    """Rename a region and replace its figures; geometry only when given (None keeps the stored one)."""
    renamed = region.name != name
    region.name, region.households, region.population, region.address = name, households, population, address
    fields = ["name", "households", "population", "address", "updated_at"]
    if boundary is not None or point is not None:
        try:
            _apply_geometry(region, boundary, point=point)
        except GeometryError as exc:
            raise PlacesError(exc.code, f"{name}: {exc.message}") from exc
        fields += _GEOMETRY_FIELDS
    with transaction.atomic():
        region.save(update_fields=fields)
        # The locator's answers name the regions too (a case's community in the submission answer).
        if bump_version and (boundary is not None or point is not None or renamed):
            geometry_version_bump()
    return region


def grid_create(
    *, community: Region, code: str, name: str, boundary: Any, households: int = 0, bump_version: bool = True
) -> Grid:
    if community.level != Level.COMMUNITY:
        raise PlacesError("invalid_parent", f"{name}: 网格必须属于社区")
    grid = Grid(community=community, code=code, name=name, households=households, region_path=community.path)
    try:
        _apply_geometry(grid, boundary, point=None)
    except GeometryError as exc:
        raise PlacesError(exc.code, f"{name}: {exc.message}") from exc
    with transaction.atomic():
        grid.save()
        if bump_version:
            geometry_version_bump()
    return grid


def grid_set_boundary(*, grid: Grid, boundary: Any) -> Grid:
    try:
        _apply_geometry(grid, boundary, point=None)
    except GeometryError as exc:
        raise PlacesError(exc.code, f"{grid.name}: {exc.message}") from exc
    with transaction.atomic():
        grid.save(
            update_fields=[
                "boundary",
                "lat",
                "lng",
                "min_lng",
                "min_lat",
                "max_lng",
                "max_lat",
                "area_m2",
                "updated_at",
            ]
        )
        geometry_version_bump()
    return grid


def grid_update(
    *,
    grid: Grid,
    community: Region,
    name: str,
    households: int,
    boundary: Any | None = None,
    bump_version: bool = True,
) -> Grid:
    """Rename a grid, move it to another community, replace its boundary (None keeps the stored one)."""
    if community.level != Level.COMMUNITY:
        raise PlacesError("invalid_parent", f"{name}: 网格必须属于社区")
    moved = grid.community_id != community.id
    renamed = grid.name != name
    grid.name, grid.households = name, households
    # region_path is denormalised from the community: it moves with it so scoped queries stay right.
    grid.community, grid.region_path = community, community.path
    fields = ["name", "households", "community", "region_path", "updated_at"]
    if boundary is not None:
        try:
            _apply_geometry(grid, boundary, point=None)
        except GeometryError as exc:
            raise PlacesError(exc.code, f"{name}: {exc.message}") from exc
        fields += _GEOMETRY_FIELDS
    with transaction.atomic():
        grid.save(update_fields=fields)
        # The locator's grid → community chain changes with a move, its names with a rename.
        if bump_version and (boundary is not None or moved or renamed):
            geometry_version_bump()
    return grid


def buildings_assign_grids() -> int:
    """Set each building's grid from its point (after grids change). Returns how many changed."""
    from linli.places.locator import get_locator

    locator = get_locator()
    buildings = list(
        Region.objects.filter(level=Level.BUILDING, lat__isnull=False).only("id", "lat", "lng", "grid_id")
    )
    if not buildings:
        return 0
    result = locator.locate_many([b.lat for b in buildings], [b.lng for b in buildings])  # type: ignore[misc]
    changed: list[Region] = []
    for building, grid_id in zip(buildings, result.grid_ids(), strict=True):
        new = grid_id if grid_id is not None else None
        if building.grid_id != new:
            building.grid_id = new
            changed.append(building)
    with transaction.atomic():
        Region.objects.bulk_update(changed, ["grid"], batch_size=500)
    return len(changed)
