"""Coverage planning for staff: the estates in the user's scope against the whole published network.

Distances use every published station, wherever it is (a resident walks to the nearest one, across any
boundary: "打破行政区划限制", seed 000); density counts the stations inside the scope against the scope's
area. Candidate sites for new stations are the estates' own representative points ("一小区一阵地": a
驿家 inside an estate), the ``MAX_CANDIDATES`` with the most uncovered population within reach.
"""

from __future__ import annotations

from functools import reduce

from django.db.models import Q

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.core.scoping import scope_for
from linli.places.models import Level, Region
from linli.stations.coverage import (
    CoverageReport,
    Point,
    SitingResult,
    coverage_compute,
    nearest_distances,
    reach_sets,
    siting_suggest,
)
from linli.stations.models import Station
from linli.stations.walking import radius_for_minutes

MAX_CANDIDATES = 200
MAX_K = 20


def _scope_paths(user: User) -> tuple[bool, tuple[str, ...]]:
    scope = scope_for(user, Capability.STATIONS_VIEW)
    return scope.is_global, scope.region_paths


def _path_q(field: str, paths: tuple[str, ...]) -> Q:
    return reduce(lambda a, b: a | b, (Q(**{f"{field}__startswith": p}) for p in paths))


def planning_estates(*, user: User) -> list[Point]:
    """Estates in the user's ``stations.view`` scope that have a point, as plain data."""
    is_global, paths = _scope_paths(user)
    qs = Region.objects.filter(level=Level.ESTATE, lat__isnull=False, lng__isnull=False)
    if not is_global:
        if not paths:
            return []
        qs = qs.filter(_path_q("path", paths))
    rows = qs.order_by("id").values_list("id", "name", "lat", "lng", "population")
    return [
        Point(i, name, lat, lng, pop)
        for i, name, lat, lng, pop in rows
        if lat is not None and lng is not None
    ]


def planning_area_km2(*, user: User) -> float | None:
    """The area of the user's scope: the regions their memberships are anchored on."""
    is_global, paths = _scope_paths(user)
    if is_global:
        areas = Region.objects.filter(level=Level.DISTRICT).values_list("area_m2", flat=True)
    elif paths:
        areas = Region.objects.filter(path__in=paths).values_list("area_m2", flat=True)
    else:
        return None
    total = sum(a for a in areas if a)
    return total / 1e6 if total else None


def published_station_points() -> list[Point]:
    return [
        Point(s["id"], s["name"], s["lat"], s["lng"])
        for s in Station.objects.filter(is_published=True).order_by("id").values("id", "name", "lat", "lng")
    ]


def coverage_for_user(*, user: User) -> CoverageReport:
    is_global, paths = _scope_paths(user)
    in_scope = Station.objects.filter(is_published=True)
    if not is_global:
        in_scope = in_scope.filter(_path_q("region_path", paths)) if paths else in_scope.none()
    return coverage_compute(
        estates=planning_estates(user=user),
        stations=published_station_points(),
        area_km2=planning_area_km2(user=user),
        stations_in_area=in_scope.count(),
    )


def candidate_sites(estates: list[Point], stations: list[Point], *, minutes: int, limit: int) -> list[Point]:
    """Estate points ranked by the uncovered population within reach (the most promising first)."""
    radius = radius_for_minutes(minutes)
    dist, _ = nearest_distances(estates, stations)
    uncovered = [e for e, d in zip(estates, dist.tolist(), strict=True) if d > radius and e.population > 0]
    if not uncovered:
        return []
    # Candidates reaching each uncovered estate, then per candidate the population it could bring in.
    reach = reach_sets(uncovered, estates, radius)
    gain = [0] * len(estates)
    for e, js in zip(uncovered, reach, strict=True):
        for j in js:
            gain[j] += e.population
    ranked = sorted((i for i in range(len(estates)) if gain[i] > 0), key=lambda i: (-gain[i], estates[i].id))
    return [estates[i] for i in ranked[:limit]]


def siting_for_user(*, user: User, k: int, minutes: int = 5, seed: int = 0, workers: int = 1) -> SitingResult:
    k = max(1, min(k, MAX_K))
    estates = planning_estates(user=user)
    stations = published_station_points()
    candidates = candidate_sites(estates, stations, minutes=minutes, limit=MAX_CANDIDATES)
    return siting_suggest(
        estates=estates,
        stations=stations,
        candidates=candidates,
        k=k,
        minutes=minutes,
        seed=seed,
        workers=workers,
    )
