"""Reads for places. Scoped reads go through ``for_user``; the public map layer shows no people."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.places.models import Grid, Level, Region


def grid_list_for_user(*, user: User, community_id: int | None = None) -> QuerySet[Grid]:
    qs = Grid.objects.for_user(user).select_related("community", "community__parent")
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    return qs


def grid_workers_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "memberships",
        queryset=Membership.objects.filter(role=Role.GRID_WORKER, is_active=True).select_related("user"),
        to_attr="worker_memberships",
    )


def grid_detail_for_user(*, user: User, grid_id: int) -> Grid | None:
    return (
        Grid.objects.for_user(user)
        .select_related("community", "community__parent", "community__parent__parent")
        .prefetch_related(grid_workers_prefetch())
        .filter(pk=grid_id)
        .first()
    )


def region_list_for_user(
    *, user: User, level: str | None = None, parent_id: int | None = None
) -> QuerySet[Region]:
    qs = Region.objects.for_user(user)
    if level:
        qs = qs.filter(level=level)
    if parent_id is not None:
        qs = qs.filter(parent_id=parent_id)
    return qs


def map_layer_public(*, level: str) -> QuerySet[Region]:
    """Boundaries of districts, streets or communities for the public map (names only, no people)."""
    if level not in {Level.DISTRICT, Level.STREET, Level.COMMUNITY}:
        return Region.objects.none()
    return Region.objects.filter(level=level).only("id", "name", "code", "level", "boundary", "parent_id")


def feature_collection(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": rows}
