"""Recording a patrol from the phone: start, upload points in batches, end, and the track summary.

The phone may be offline for a while: it buffers fixes and replays requests. Every write here is safe to
repeat. A start carries the phone's ``client_key`` (a retried start returns the same patrol); each fix
carries the phone's sequence number, and the (patrol, sequence) unique key with insert-or-ignore
(``bulk_create(ignore_conflicts=True)``: ``INSERT OR IGNORE`` on SQLite, ``ON CONFLICT DO NOTHING`` on
PostgreSQL) stores each fix once whatever the order or number of retries; ending an ended patrol answers
the patrol as it is.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.core.scoping import scope_for
from linli.patrols.errors import PatrolError, PatrolTransitionError
from linli.patrols.models import Patrol, PatrolBuildingPass, PatrolEvent, PatrolPoint, PatrolStatus
from linli.patrols.track import (
    BuildingPoint,
    Fix,
    Track,
    TrackRules,
    buildings_passed,
    degrees_margin,
    track_build,
)
from linli.patrols.transitions import patrol_transition
from linli.places.geometry import GeometryError, validate_lat_lng
from linli.places.locator import LocateError, get_locator
from linli.places.models import Grid, Level, Region

if TYPE_CHECKING:
    from linli.accounts.models import User

MAX_BATCH = 500
MAX_SEQ = 10_000_000
CLOCK_SKEW = timedelta(minutes=5)  # phones' clocks drift; allow this much into the future
EARLY_FIX = timedelta(minutes=10)  # fixes taken just before the start tap (GPS warming up) are kept
LATEST_START = timedelta(hours=24)  # an offline start replayed later than this is refused
_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{8,64}$")
RULES = TrackRules()


@dataclass(frozen=True)
class PointIn:
    seq: int
    at: datetime
    lat: float
    lng: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Rejected:
    seq: int
    code: str
    message: str


@dataclass
class UploadResult:
    patrol: Patrol
    received: int
    stored: int  # new rows inserted by this call (as far as this call could tell)
    duplicates: int  # already stored (a retry) or repeated inside the batch
    rejected: list[Rejected] = field(default_factory=list)


@dataclass(frozen=True)
class StartResult:
    patrol: Patrol
    created: bool


def _recorder_grids(worker: User) -> frozenset[int]:
    scope = scope_for(worker, Capability.PATROLS_RECORD)
    return scope.grid_ids


def _own_patrol(patrol_id: int, worker: User) -> Patrol:
    patrol = Patrol.objects.filter(pk=patrol_id, worker=worker).first()
    if patrol is None:
        raise PatrolError("not_found", "巡查不存在", status=404)
    return patrol


def _choose_grid(worker: User, grid_id: int | None, lat: float | None, lng: float | None) -> Grid:
    grids = _recorder_grids(worker)
    if not grids:
        raise PatrolError("not_a_grid_worker", "只有网格员可以开始巡查", status=403)
    if grid_id is not None:
        if grid_id not in grids:
            raise PatrolError("grid_not_yours", "只能巡查自己负责的网格", status=403)
        chosen = grid_id
    elif len(grids) == 1:
        chosen = next(iter(grids))
    else:
        located = None
        if lat is not None and lng is not None:
            try:
                located = get_locator().locate(lat, lng).grid.id
            except LocateError:
                located = None
        if located not in grids:
            raise PatrolError("grid_required", "您负责多个网格,请选择本次巡查的网格")
        chosen = int(located)
    return Grid.objects.get(pk=chosen)


def patrol_start(
    *,
    worker: User,
    client_key: str,
    grid_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    started_at: datetime | None = None,
    now: datetime | None = None,
) -> StartResult:
    """Start a patrol (or return the one this ``client_key`` already started). An abandoned open patrol of
    the same worker is ended first, at its last fix."""
    if not _KEY.match(client_key or ""):
        raise PatrolError("invalid_client_key", "客户端编号应为8–64位字母、数字或 _ . : -")
    existing = Patrol.objects.filter(worker=worker, client_key=client_key).first()
    if existing is not None:
        return StartResult(existing, created=False)
    now = now or timezone.now()
    started_at = started_at or now
    if started_at > now + CLOCK_SKEW or started_at < now - LATEST_START:
        raise PatrolError("invalid_started_at", "开始时间不正确(请检查手机时间)")
    grid = _choose_grid(worker, grid_id, lat, lng)
    try:
        with transaction.atomic():
            for stale in Patrol.objects.filter(worker=worker, status=PatrolStatus.ACTIVE).values_list(
                "pk", flat=True
            ):
                # Ended meanwhile (the phone's queued 结束 arrived first): nothing left to do.
                with contextlib.suppress(PatrolTransitionError):
                    _auto_end(stale, note="开始新的巡查时自动结束")
            patrol = Patrol.objects.create(
                worker=worker,
                grid=grid,
                region_path=grid.region_path,
                client_key=client_key,
                started_at=min(started_at, now + CLOCK_SKEW),
            )
            PatrolEvent.objects.create(
                patrol=patrol, actor=worker, action="start", from_status="", to_status=patrol.status
            )
    except IntegrityError:
        # A concurrent replay of the same start won the unique key; theirs is the patrol.
        again = Patrol.objects.filter(worker=worker, client_key=client_key).first()
        if again is None:
            raise PatrolError("patrol_already_active", "已有进行中的巡查,请稍后重试", status=409) from None
        return StartResult(again, created=False)
    return StartResult(patrol, created=True)


def _last_fix_at(patrol_id: int) -> datetime | None:
    value: datetime | None = PatrolPoint.objects.filter(patrol_id=patrol_id).aggregate(m=Max("recorded_at"))[
        "m"
    ]
    return value


def _auto_end(patrol_id: int, *, note: str, cap: datetime | None = None) -> Patrol:
    patrol = Patrol.objects.get(pk=patrol_id)
    end = _last_fix_at(patrol_id) or patrol.started_at
    end = max(end, patrol.started_at)
    if cap is not None:
        end = min(end, cap)
    patrol_transition(patrol_id=patrol_id, action="auto_end", actor=None, fields={"ended_at": end}, note=note)
    return patrol_summarize(patrol_id=patrol_id)


def patrol_end(
    *, patrol_id: int, worker: User, ended_at: datetime | None = None, now: datetime | None = None
) -> Patrol:
    """End the worker's patrol and summarise its track. Ending it again returns it unchanged."""
    patrol = _own_patrol(patrol_id, worker)
    if patrol.status == PatrolStatus.ENDED:
        return patrol  # a replay from the phone's queue
    now = now or timezone.now()
    ended_at = ended_at or now
    if ended_at > now + CLOCK_SKEW:
        raise PatrolError("invalid_ended_at", "结束时间不正确(请检查手机时间)")
    ended_at = max(ended_at, patrol.started_at)
    patrol = patrol_transition(patrol_id=patrol.pk, action="end", actor=worker, fields={"ended_at": ended_at})
    return patrol_summarize(patrol_id=patrol.pk)


def _check(p: PointIn, *, low: datetime, high: datetime, future: datetime) -> Rejected | None:
    if not (0 <= p.seq <= MAX_SEQ):
        return Rejected(p.seq, "invalid_seq", f"序号应在0到{MAX_SEQ}之间")
    try:
        validate_lat_lng(p.lat, p.lng)
    except GeometryError as exc:
        return Rejected(p.seq, exc.code, exc.message)
    if p.accuracy_m is not None and not (math.isfinite(p.accuracy_m) and p.accuracy_m >= 0):
        return Rejected(p.seq, "invalid_accuracy", "定位精度应为非负数")
    if p.at > future:
        return Rejected(p.seq, "timestamp_in_future", "定位时间晚于当前时间(请检查手机时间)")
    if not (low <= p.at <= high):
        return Rejected(p.seq, "timestamp_out_of_range", "定位时间不在本次巡查的时间范围内")
    return None


def patrol_points_upload(
    *, patrol_id: int, worker: User, points: Sequence[PointIn], now: datetime | None = None
) -> UploadResult:
    """Store a batch of fixes: idempotent, order-free. Invalid fixes, fixes outside the time of the patrol
    and fixes outside the jurisdiction are refused one by one (codes in ``rejected``); the rest of the
    batch is stored. Implausible jumps are kept and flagged when the track is built (``track.py``)."""
    patrol = _own_patrol(patrol_id, worker)
    if patrol.track_purged_at is not None:
        raise PatrolError("track_purged", "该巡查的轨迹已过保存期限并删除", status=409)
    if len(points) > MAX_BATCH:
        raise PatrolError("batch_too_large", f"每批最多上传{MAX_BATCH}个定位点")
    now = now or timezone.now()
    low = patrol.started_at - EARLY_FIX
    future = now + CLOCK_SKEW
    high = min(future, patrol.ended_at + timedelta(minutes=1)) if patrol.ended_at else future
    rejected: list[Rejected] = []
    valid: dict[int, PointIn] = {}
    repeated = 0
    for p in points:
        problem = _check(p, low=low, high=high, future=future)
        if problem is not None:
            rejected.append(problem)
        elif p.seq in valid:
            repeated += 1  # the same fix twice in one batch: the first copy is kept
        else:
            valid[p.seq] = p
    if valid:
        located = get_locator().locate_many([p.lat for p in valid.values()], [p.lng for p in valid.values()])
        for p, outside in zip(list(valid.values()), located.outside.tolist(), strict=True):
            if outside:
                rejected.append(Rejected(p.seq, "outside_jurisdiction", "定位点不在本辖区范围内"))
                del valid[p.seq]
    existing = set(
        PatrolPoint.objects.filter(patrol=patrol, client_seq__in=list(valid)).values_list(
            "client_seq", flat=True
        )
    )
    rows = [
        PatrolPoint(
            patrol=patrol, client_seq=p.seq, recorded_at=p.at, lat=p.lat, lng=p.lng, accuracy_m=p.accuracy_m
        )
        for p in valid.values()
        if p.seq not in existing
    ]
    PatrolPoint.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    if rows and patrol.status == PatrolStatus.ENDED:
        patrol = patrol_summarize(patrol_id=patrol.pk)  # late fixes from the phone's offline buffer
    return UploadResult(
        patrol=patrol,
        received=len(points),
        stored=len(rows),
        duplicates=len(existing) + repeated,
        rejected=sorted(rejected, key=lambda r: r.seq),
    )


def patrol_fixes(patrol_id: int) -> list[Fix]:
    return [
        Fix(seq=s, at=at, lat=lat, lng=lng, accuracy_m=acc)
        for s, at, lat, lng, acc in PatrolPoint.objects.filter(patrol_id=patrol_id)
        .order_by()
        .values_list("client_seq", "recorded_at", "lat", "lng", "accuracy_m")
    ]


def buildings_near(track: Track, *, radius_m: float) -> list[BuildingPoint]:
    """Building points inside the track's bounding box widened by the radius (the region bbox index)."""
    fixes = track.accepted
    if not fixes:
        return []
    lat_mid = (min(f.lat for f in fixes) + max(f.lat for f in fixes)) / 2
    dlng, dlat = degrees_margin(lat_mid, radius_m * 1.5)
    rows = Region.objects.filter(
        level=Level.BUILDING,
        lat__isnull=False,
        min_lng__gte=min(f.lng for f in fixes) - dlng,
        min_lng__lte=max(f.lng for f in fixes) + dlng,
        min_lat__gte=min(f.lat for f in fixes) - dlat,
        min_lat__lte=max(f.lat for f in fixes) + dlat,
    ).values_list("id", "lat", "lng", "grid_id")
    return [
        BuildingPoint(id=i, lat=la, lng=ln, grid_id=g)
        for i, la, ln, g in rows
        if la is not None and ln is not None
    ]


def patrol_summarize(*, patrol_id: int) -> Patrol:
    """Rebuild the stored summary (distance, counts) and the buildings passed from the stored fixes."""
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().get(pk=patrol_id)
        if patrol.track_purged_at is not None:
            return patrol
        track = track_build(patrol_fixes(patrol_id), RULES)
        passes = buildings_passed(
            track, buildings_near(track, radius_m=RULES.pass_radius_m), radius_m=RULES.pass_radius_m
        )
        PatrolBuildingPass.objects.filter(patrol=patrol).delete()
        PatrolBuildingPass.objects.bulk_create(
            [
                PatrolBuildingPass(
                    patrol=patrol, building_id=s.building_id, grid_id=s.grid_id, passed_at=s.passed_at
                )
                for s in passes
            ],
            batch_size=500,
        )
        patrol.distance_m = round(track.distance_m, 1)
        patrol.point_count = track.point_count
        patrol.flagged_count = len(track.flagged)
        patrol.building_count = len(passes)
        patrol.summarized_at = timezone.now()
        patrol.save(
            update_fields=[
                "distance_m",
                "point_count",
                "flagged_count",
                "building_count",
                "summarized_at",
                "updated_at",
            ]
        )
    return patrol


def patrols_close_stale(*, now: datetime | None = None, max_hours: int) -> int:
    """End patrols left open longer than ``max_hours`` (phone lost, app closed) at their last fix."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=max_hours)
    ids = list(
        Patrol.objects.filter(status=PatrolStatus.ACTIVE, started_at__lt=cutoff).values_list("pk", flat=True)
    )
    closed = 0
    for patrol_id in ids:
        started = Patrol.objects.filter(pk=patrol_id).values_list("started_at", flat=True).first()
        if started is None:
            continue
        try:
            with transaction.atomic():
                _auto_end(
                    patrol_id,
                    note=f"超过{max_hours}小时未结束,系统自动结束",
                    cap=started + timedelta(hours=max_hours),
                )
        except PatrolError:
            continue  # ended meanwhile by the worker or a concurrent sweep
        closed += 1
    return closed
