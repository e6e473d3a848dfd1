"""Reads of the steward registry (staff, scoped) and of the public 三亮 card (active stewards only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from linli.people.models import Steward, StewardKind, StewardStatus
from linli.places.models import Level, Region


@dataclass(frozen=True)
class StewardFilters:
    kind: str = ""
    status: str = ""
    grid_id: int | None = None
    community_id: int | None = None


def stewards_for_user(user: Any, filters: StewardFilters | None = None) -> QuerySet[Steward]:
    f = filters or StewardFilters()
    qs = Steward.objects.for_user(user).select_related("community", "grid", "user")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.grid_id:
        qs = qs.filter(grid_id=f.grid_id)
    if f.community_id:
        qs = qs.filter(community_id=f.community_id)
    return qs.order_by("region_path", "kind", "name", "id")


def steward_for_user(user: Any, steward_id: int) -> Steward | None:
    return (
        Steward.objects.for_user(user)
        .select_related("community", "grid", "user")
        .prefetch_related("buildings", "events__actor")
        .filter(pk=steward_id)
        .first()
    )


@dataclass(frozen=True)
class BuildingCard:
    building: Region
    estate: Region | None
    community: Region | None
    grid_name: str
    grid_workers: list[Steward]
    stewards: list[Steward]


def building_card(code: str) -> BuildingCard | None:
    """What the 三亮 card of a building shows: ACTIVE stewards who look after it, and the ACTIVE grid
    workers of its grid (a grid worker covers every building of the grid without listing them)."""
    building = (
        Region.objects.filter(code=code, level=Level.BUILDING)
        .select_related("grid", "parent__parent")
        .first()
    )
    if building is None:
        return None
    active = Steward.objects.filter(status=StewardStatus.ACTIVE)
    mine = Q(buildings=building)
    if building.grid_id:
        mine |= Q(kind=StewardKind.GRID_WORKER, grid_id=building.grid_id)
    people = list(active.filter(mine).distinct().order_by("kind", "name", "id"))
    estate = building.parent
    return BuildingCard(
        building=building,
        estate=estate,
        community=estate.parent if estate is not None else None,
        grid_name=building.grid.name if building.grid else "",
        grid_workers=[s for s in people if s.kind == StewardKind.GRID_WORKER],
        stewards=[s for s in people if s.kind != StewardKind.GRID_WORKER],
    )
