"""Reads of the household register, always through the user's ``people.view`` scope (``for_user``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from linli.accounts.roles import Capability
from linli.people.access import for_capability
from linli.people.models import Household, Resident, ResidentMove, ResidentStatus
from linli.places.models import Grid, Level, Region


@dataclass(frozen=True)
class RegisterFilters:
    community_id: int | None = None
    grid_id: int | None = None
    building_id: int | None = None
    status: str = ResidentStatus.PRESENT  # "" = all
    registration: str = ""
    tag: str = ""
    room: str = ""  # 单元/房号 fragment, e.g. "2-302" or "302"


def _place_filters(qs: QuerySet[Any], f: RegisterFilters) -> QuerySet[Any]:
    if f.grid_id:
        qs = qs.filter(grid_id=f.grid_id)
    if f.building_id:
        building = Region.objects.filter(pk=f.building_id, level=Level.BUILDING).only("path").first()
        qs = qs.filter(region_path=building.path) if building else qs.none()
    if f.community_id:
        community = Region.objects.filter(pk=f.community_id, level=Level.COMMUNITY).only("path").first()
        qs = qs.filter(region_path__startswith=community.path) if community else qs.none()
    return qs


def residents_for_user(user: Any, filters: RegisterFilters | None = None) -> QuerySet[Resident]:
    f = filters or RegisterFilters()
    qs = _place_filters(Resident.objects.for_user(user), f).select_related(
        "household__building__parent", "grid"
    )
    if f.status:
        qs = qs.filter(status=f.status)
    if f.registration:
        qs = qs.filter(registration=f.registration)
    if f.tag:
        qs = qs.filter(tags__contains=f",{f.tag.strip()},")
    if f.room:
        unit, _, room = f.room.strip().rpartition("-")
        qs = qs.filter(household__room__startswith=room)
        if unit:
            qs = qs.filter(household__unit_no=unit)
    return qs.order_by("region_path", "household__unit_no", "household__room", "id")


def resident_for_user(user: Any, resident_id: int) -> Resident | None:
    return (
        Resident.objects.for_user(user)
        .select_related("household__building__parent", "grid")
        .filter(pk=resident_id)
        .first()
    )


def residents_lookup(
    user: Any, *, id_number: str = "", phone: str = "", name: str = ""
) -> QuerySet[Resident]:
    """Exact lookup by ID number or phone (blind index), or by full name, inside the user's scope.
    Called from POST handlers only: none of these values may travel in a URL (PI-8)."""
    qs = Resident.objects.for_user(user).select_related("household__building__parent")
    if id_number:
        qs = qs.filter(id_number_index__matches=id_number)
    if phone:
        qs = qs.filter(phone_index__matches=phone)
    if name:
        qs = qs.filter(name=name.strip())
    if not (id_number or phone or name):
        return qs.none()
    return qs.order_by("status", "region_path", "id")


def households_for_user(user: Any, filters: RegisterFilters | None = None) -> QuerySet[Household]:
    f = filters or RegisterFilters()
    qs = _place_filters(Household.objects.for_user(user), f).select_related("building__parent", "grid")
    if f.room:
        unit, _, room = f.room.strip().rpartition("-")
        qs = qs.filter(room__startswith=room)
        if unit:
            qs = qs.filter(unit_no=unit)
    return qs.annotate(
        present_count=Count("residents", filter=Q(residents__status=ResidentStatus.PRESENT))
    ).order_by("region_path", "unit_no", "room")


def household_for_user(user: Any, household_id: int) -> Household | None:
    return (
        Household.objects.for_user(user)
        .select_related("building__parent", "grid")
        .filter(pk=household_id)
        .first()
    )


def household_residents(household: Household) -> QuerySet[Resident]:
    return household.residents.order_by("status", "relation", "id")


def household_moves(household: Household) -> QuerySet[ResidentMove]:
    return household.moves.select_related("resident", "actor")


def buildings_for_user(user: Any, capability: str = Capability.VIEW_PEOPLE) -> QuerySet[Region]:
    """Buildings where ``user`` holds ``capability`` (by region subtree or by the building's grid)."""
    qs = Region.objects.filter(level=Level.BUILDING)
    return for_capability(qs, user, capability).select_related("grid", "parent").order_by("path")


def building_for_user(user: Any, building_id: int, capability: str = Capability.VIEW_PEOPLE) -> Region | None:
    return buildings_for_user(user, capability).filter(pk=building_id).first()


def grids_for_user(user: Any) -> QuerySet[Grid]:
    """Grids whose people the user sees (for the filter boxes)."""
    from linli.core.scoping import scope_for

    scope = scope_for(user, Capability.VIEW_PEOPLE)
    qs = Grid.objects.select_related("community")
    if scope.is_global:
        return qs
    q = Q(pk__in=sorted(scope.grid_ids))
    for path in scope.region_paths:
        q |= Q(region_path__startswith=path)
    return qs.filter(q) if (scope.grid_ids or scope.region_paths) else qs.none()


def grid_building_counts(user: Any) -> list[dict[str, Any]]:
    """My households, grouped by building: one row per building in scope with its household counts."""
    buildings = list(buildings_for_user(user))
    counts = dict(
        Household.objects.for_user(user)
        .order_by()
        .values("building_id")
        .annotate(n=Count("id"))
        .values_list("building_id", "n")
    )
    people = dict(
        Resident.objects.for_user(user)
        .filter(status=ResidentStatus.PRESENT)
        .order_by()
        .values("household__building_id")
        .annotate(n=Count("id"))
        .values_list("household__building_id", "n")
    )
    return [
        {"building": b, "households": counts.get(b.pk, 0), "residents": people.get(b.pk, 0)}
        for b in buildings
    ]
