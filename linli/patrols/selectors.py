"""Reads of the patrols app, scoped through ``for_user``: lists, one track, weekly coverage per grid."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404, HttpRequest
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.cases.models import Case, Channel
from linli.core.scoping import scope_for
from linli.patrols.models import Patrol, PatrolBuildingPass
from linli.patrols.services.recording import RULES, buildings_near, patrol_fixes
from linli.patrols.track import Pass, Track, buildings_passed, track_build
from linli.patrols.visits import VisitRef, visits_during
from linli.places.models import Grid, Level, Region
from linli.security.audit import audit_sensitive_read
from linli.security.denials import ScopeDenied

if TYPE_CHECKING:
    from linli.accounts.models import User


def patrols_for_user(user: User | Any) -> QuerySet[Patrol]:
    """Patrols the user may see: their own, and (``patrols.view``) those of their community or street."""
    return Patrol.objects.for_user(user).select_related("worker", "grid")


def patrol_for_user(user: User | Any, patrol_id: int) -> Patrol:
    """One patrol, or 404. A patrol that exists outside the user's scope is an audited ``ScopeDenied``."""
    patrol = patrols_for_user(user).filter(pk=patrol_id).first()
    if patrol is None:
        if Patrol.objects.filter(pk=patrol_id).exists():
            raise ScopeDenied(object_type="patrols.patrol", object_id=patrol_id)
        raise Http404
    return patrol


@dataclass(frozen=True)
class PassView:
    building_id: int
    name: str
    lat: float | None
    lng: float | None
    passed_at: dt.datetime


@dataclass
class TrackView:
    patrol: Patrol
    track: Track
    passes: list[PassView]
    cases: list[Case]
    visits: list[VisitRef]
    live: bool  # an active patrol: figures computed now, not stored

    @property
    def distance_m(self) -> float:
        return round(self.track.distance_m, 1)

    @property
    def duration_s(self) -> int:
        end = self.patrol.ended_at or timezone.now()
        return max(int((end - self.patrol.started_at).total_seconds()), 0)


def _pass_views(passes: list[Pass]) -> list[PassView]:
    names = {
        r.pk: r
        for r in Region.objects.filter(pk__in=[p.building_id for p in passes])
        .select_related("parent")
        .only("id", "name", "lat", "lng", "parent__name")
    }
    out = []
    for p in passes:
        b = names.get(p.building_id)
        if b is None:
            continue
        label = f"{b.parent.name}{b.name}" if b.parent is not None else b.name
        out.append(PassView(p.building_id, label, b.lat, b.lng, p.passed_at))
    return out


def patrol_cases(viewer: User | Any, patrol: Patrol) -> list[Case]:
    """Cases reported from this patrol's page, and patrol-channel cases the worker filed during it."""
    end = patrol.ended_at or timezone.now()
    window = Q(channel=Channel.GRID_PATROL, filed_by_id=patrol.worker_id, created_at__gte=patrol.started_at)
    window &= Q(created_at__lte=end)
    return list(
        Case.objects.for_user(viewer)
        .filter(Q(patrol_links__patrol=patrol) | window)
        .distinct()
        .order_by("created_at")[:100]
    )


def patrol_track_read(*, viewer: User | Any, patrol_id: int, request: HttpRequest | None = None) -> TrackView:
    """The track of one patrol for a viewer in scope. Anyone but the worker reading it is audited
    (``pii.read``, once per call): a track says where a named person was (PI-3)."""
    patrol = patrol_for_user(viewer, patrol_id)
    if viewer.pk != patrol.worker_id:
        audit_sensitive_read(
            viewer=viewer, obj=patrol, fields=["track"], purpose="查看网格员巡查轨迹", request=request
        )
    if patrol.track_purged_at is not None:
        return TrackView(patrol, Track(), [], patrol_cases(viewer, patrol), [], live=False)
    track = track_build(patrol_fixes(patrol.pk), RULES)
    live = patrol.is_active or patrol.summarized_at is None
    if live:
        passes = buildings_passed(
            track, buildings_near(track, radius_m=RULES.pass_radius_m), radius_m=RULES.pass_radius_m
        )
    else:
        passes = [
            Pass(building_id=b, grid_id=g, passed_at=at, distance_m=0.0)
            for b, g, at in PatrolBuildingPass.objects.filter(patrol=patrol)
            .order_by("passed_at", "building_id")
            .values_list("building_id", "grid_id", "passed_at")
        ]
    visits = visits_during(
        viewer=viewer,
        worker_id=patrol.worker_id,
        start=patrol.started_at,
        end=patrol.ended_at or timezone.now(),
    )
    return TrackView(patrol, track, _pass_views(passes), patrol_cases(viewer, patrol), visits, live=live)


# --- weekly coverage ---------------------------------------------------------------------------------
def week_start_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_bounds(week_start: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, local time (Asia/Shanghai)."""
    monday = week_start_of(week_start)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(monday, dt.time.min, tzinfo=tz)
    return start, dt.datetime.combine(monday + dt.timedelta(days=7), dt.time.min, tzinfo=tz)


def coverage_grids(user: User | Any) -> QuerySet[Grid]:
    """Grids whose coverage the user may see (``patrols.coverage``: their grid, community, street...)."""
    scope = scope_for(user, Capability.PATROLS_COVERAGE)
    if scope.is_global:
        return Grid.objects.all()
    q = Q(pk__in=sorted(scope.grid_ids)) if scope.grid_ids else Q(pk__in=[])
    for path in scope.region_paths:
        q |= Q(region_path__startswith=path)
    if scope.is_empty:
        return Grid.objects.none()
    return Grid.objects.filter(q)


@dataclass(frozen=True)
class GridCoverage:
    grid_id: int
    grid_name: str
    grid_code: str
    community_name: str
    buildings: int
    passed: int
    patrols: int
    distance_m: float

    @property
    def share(self) -> float | None:
        return self.passed / self.buildings if self.buildings else None

    @property
    def percent(self) -> float | None:
        return None if self.share is None else round(100 * self.share, 1)


def patrol_coverage_week(*, user: User | Any, week_start: dt.date) -> list[GridCoverage]:
    """Per grid in scope: the share of its buildings that ended patrols passed in the week (four queries,
    whatever the number of grids)."""
    start, end = week_bounds(week_start)
    grids_qs = coverage_grids(user)
    grids = list(grids_qs.select_related("community").order_by("code"))
    if not grids:
        return []
    totals = dict(
        Region.objects.filter(level=Level.BUILDING, grid__in=grids_qs)
        .order_by()
        .values("grid")
        .annotate(n=Count("id"))
        .values_list("grid", "n")
    )
    passed = dict(
        PatrolBuildingPass.objects.filter(grid__in=grids_qs, passed_at__gte=start, passed_at__lt=end)
        .order_by()
        .values("grid")
        .annotate(n=Count("building", distinct=True))
        .values_list("grid", "n")
    )
    walks = {
        row["grid"]: row
        for row in Patrol.objects.filter(grid__in=grids_qs, started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("grid")
        .annotate(n=Count("id"), m=Sum("distance_m"))
    }
    return [
        GridCoverage(
            grid_id=g.pk,
            grid_name=g.name,
            grid_code=g.code,
            community_name=g.community.name,
            buildings=totals.get(g.pk, 0),
            passed=passed.get(g.pk, 0),
            patrols=walks.get(g.pk, {}).get("n", 0),
            distance_m=round(walks.get(g.pk, {}).get("m") or 0.0, 1),
        )
        for g in grids
    ]
