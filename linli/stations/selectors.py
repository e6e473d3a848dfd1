"""Reads of stations: public (published stations, no sign-in) and staff (through the scoping helper)."""

from __future__ import annotations

from functools import reduce
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Prefetch, Q, QuerySet

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.core.scoping import scope_for
from linli.stations.models import Station, StationService

UserLike = User | AnonymousUser


def _menu_prefetch() -> Prefetch[Any]:
    return Prefetch(
        "menu",
        queryset=StationService.objects.filter(is_active=True, item__is_active=True).select_related("item"),
        to_attr="active_menu",
    )


def stations_for_user(*, user: UserLike) -> QuerySet[Station]:
    """Stations the user may see as staff (``stations.view`` in their regions)."""
    return Station.objects.for_user(user).select_related("region")


def _edit_q(user: UserLike) -> Q | None:
    scope = scope_for(user, Capability.STATIONS_EDIT)
    if scope.is_global:
        return Q()
    if not scope.region_paths:
        return None
    return reduce(lambda a, b: a | b, (Q(region_path__startswith=p) for p in scope.region_paths))


def stations_editable_for_user(*, user: UserLike) -> QuerySet[Station]:
    """Stations the user may edit: ``stations.edit`` anchored on a region containing the station's."""
    q = _edit_q(user)
    if q is None:
        return Station.objects.none()
    return Station.objects.filter(q).select_related("region")


def station_may_edit(*, user: UserLike, station: Station) -> bool:
    """The same rule in Python, for one loaded station."""
    scope = scope_for(user, Capability.STATIONS_EDIT)
    return scope.is_global or any(station.region_path.startswith(p) for p in scope.region_paths)


def station_for_edit(*, user: UserLike, station_id: int) -> Station | None:
    """The station, or None (→ 404) when it does not exist or is outside the user's edit scope."""
    return (
        stations_editable_for_user(user=user)
        .prefetch_related("periods", _menu_prefetch(), "photos", "checklist", "partners")
        .filter(pk=station_id)
        .first()
    )


def station_public(*, station_id: int) -> Station | None:
    """A published station with everything its detail page shows."""
    return (
        Station.objects.filter(pk=station_id, is_published=True)
        .select_related("region")
        .prefetch_related("periods", _menu_prefetch(), "photos", "checklist", "partners")
        .first()
    )


def stations_public(*, kind: str = "", item_id: int | None = None) -> QuerySet[Station]:
    """Published stations for the list page and API, in a stable order."""
    qs = Station.objects.filter(is_published=True)
    if kind:
        qs = qs.filter(kind=kind)
    if item_id is not None:
        qs = qs.filter(menu__item_id=item_id, menu__is_active=True)
    return qs.select_related("region").prefetch_related("periods").order_by("kind", "code")
