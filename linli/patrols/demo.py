"""Demo patrols: a few weeks of plausible walks by the grid workers of 建国门社区's first grids.

Each patrol starts at a building of the grid, visits a dozen of its buildings in nearest-neighbour order
on foot (1.1–1.5 m/s, a fix every 5 s with a few metres of GPS noise, the odd poor fix), and ends back
near where it started; about one patrol in four reports a problem found on the way, through the real
case submission (channel grid_patrol) at the time of the patrol. History is written directly (like an
import: the services refuse starts older than a day), then each patrol is summarised by the service.

Deterministic and idempotent: patrols are keyed by ``client_key`` ("demo-<grid>-<date>-<n>"); a re-run
adds only what is missing. Weeks are counted back from today, so the coverage page always has data.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from dataclasses import dataclass

import numpy as np
from django.db import transaction
from django.utils import timezone

from linli.accounts.models import Membership
from linli.accounts.roles import Role
from linli.cases.models import Category
from linli.patrols.models import Patrol, PatrolEvent, PatrolPoint, PatrolStatus
from linli.patrols.services import patrol_problem_report, patrol_summarize
from linli.places.demo import names
from linli.places.demo.geography import DISTRICT_CODE
from linli.places.geometry import local_transformer
from linli.places.models import Grid, Level, Region

SEED = 2026
GRIDS = 3
WEEKS = 3
PER_WEEK = (3, 5)  # patrols per grid per week, inclusive range
STOPS = 8
USUAL_SHARE = 0.6  # the share of a grid's buildings its worker usually walks past
PROBLEMS = (
    ("city.litter", "楼栋旁垃圾桶满溢,周边有散落垃圾"),
    ("road.streetlight", "小区主干道路灯不亮"),
    ("road.manhole", "人行道井盖松动"),
    ("", "单元门禁损坏,无法正常关闭"),
    ("", "楼道堆放杂物,影响消防通道"),
)


@dataclass(frozen=True)
class DemoPatrolsResult:
    patrols: int
    points: int
    cases: int
    message: str


def _route(
    rng: random.Random,
    usual: list[tuple[float, float]],
    others: list[tuple[float, float]],
    origin: tuple[float, float],
) -> np.ndarray:
    """Metric (x, y) of a walk through some of the worker's usual buildings (now and then one more), in
    nearest-neighbour order and back: weekly coverage is high but rarely complete, as in real grids."""
    transformer = local_transformer(round(origin[0], 6), round(origin[1], 6))
    chosen = rng.sample(usual, rng.randint(min(2, len(usual)), min(STOPS, len(usual))))
    if others and rng.random() < 0.3:
        chosen.append(rng.choice(others))
    x, y = transformer.transform([b[1] for b in chosen], [b[0] for b in chosen])
    todo = [(float(a), float(b)) for a, b in zip(x, y, strict=True)]
    path = [todo.pop(0)]
    while todo:
        last = path[-1]
        nearest = min(range(len(todo)), key=lambda i: math.dist(last, todo[i]))
        path.append(todo.pop(nearest))
    path.append(path[0])
    return np.array(path)


def _fixes(
    rng: random.Random, route: np.ndarray, origin: tuple[float, float], start: dt.datetime
) -> list[PatrolPoint]:
    transformer = local_transformer(round(origin[0], 6), round(origin[1], 6))
    speed = rng.uniform(1.1, 1.5)
    step = speed * 5.0
    xs: list[float] = []
    ys: list[float] = []
    for (x0, y0), (x1, y1) in itertools.pairwise(route):
        length = math.hypot(x1 - x0, y1 - y0)
        n = max(int(length // step), 1)
        for k in range(n):
            # Offset a few metres from the building line, as a path beside the buildings would be.
            xs.append(x0 + (x1 - x0) * k / n + rng.gauss(0, 3) + 8)
            ys.append(y0 + (y1 - y0) * k / n + rng.gauss(0, 3) + 8)
    lngs, lats = transformer.transform(xs, ys, direction="INVERSE")
    rows = []
    for seq, (lat, lng) in enumerate(zip(lats, lngs, strict=True)):
        poor = rng.random() < 0.02
        rows.append(
            PatrolPoint(
                client_seq=seq,
                recorded_at=start + dt.timedelta(seconds=5 * seq),
                lat=round(float(lat), 7),
                lng=round(float(lng), 7),
                accuracy_m=round(rng.uniform(150, 400) if poor else rng.uniform(4, 25), 1),
            )
        )
    return rows


def patrols_seed_demo(
    *, district_code: str = DISTRICT_CODE, seed: int = SEED, today: dt.date | None = None
) -> DemoPatrolsResult:
    community = (
        Region.objects.filter(
            level=Level.COMMUNITY, name=names.LEAD_COMMUNITIES[0], path__contains=f"/{district_code}/"
        )
        .order_by("code")
        .first()
    )
    if community is None:
        return DemoPatrolsResult(0, 0, 0, "未找到建国门社区,未生成演示巡查。")
    grids = list(Grid.objects.filter(community=community).order_by("code")[:GRIDS])
    workers = {
        m.grid_id: m.user
        for m in Membership.objects.filter(role=Role.GRID_WORKER, grid__in=grids, is_active=True)
        .select_related("user")
        .order_by("user__username")
    }
    categories = {c.code: c.pk for c in Category.objects.filter(code__in=[p[0] for p in PROBLEMS if p[0]])}
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data
    today = today or timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    tz = timezone.get_current_timezone()
    existing = set(Patrol.objects.filter(client_key__startswith="demo-").values_list("client_key", flat=True))
    made = points = cases = 0
    for grid in grids:
        worker = workers.get(grid.pk)
        buildings = [
            (la, ln)
            for la, ln in Region.objects.filter(
                level=Level.BUILDING, grid=grid, lat__isnull=False
            ).values_list("lat", "lng")
            if la is not None and ln is not None
        ]
        if worker is None or len(buildings) < 2:
            continue
        origin: tuple[float, float] = (grid.lng or buildings[0][1], grid.lat or buildings[0][0])
        usual = rng.sample(buildings, max(2, math.ceil(len(buildings) * USUAL_SHARE)))
        others = [b for b in buildings if b not in usual]
        for week in range(WEEKS, -1, -1):
            days = sorted(rng.sample(range(5), rng.randint(*PER_WEEK)))
            for n, weekday in enumerate(days):
                day = monday - dt.timedelta(weeks=week) + dt.timedelta(days=weekday)
                start = dt.datetime.combine(
                    day, dt.time(9 if n % 2 == 0 else 14, rng.randint(0, 45)), tzinfo=tz
                )
                key = f"demo-{grid.code}-{day:%Y%m%d}-{n}"
                route = _route(rng, usual, others, origin)
                fixes = _fixes(rng, route, origin, start)
                report = rng.random() < 0.25
                code, text = PROBLEMS[rng.randrange(len(PROBLEMS))]
                if key in existing or start + dt.timedelta(seconds=5 * len(fixes)) > timezone.now():
                    continue
                end = fixes[-1].recorded_at
                with transaction.atomic():
                    patrol = Patrol.objects.create(
                        worker=worker,
                        grid=grid,
                        region_path=grid.region_path,
                        client_key=key,
                        status=PatrolStatus.ENDED,
                        started_at=start,
                        ended_at=end,
                    )
                    for row in fixes:
                        row.patrol = patrol
                    PatrolPoint.objects.bulk_create(fixes, batch_size=1000)
                    PatrolEvent.objects.bulk_create(
                        [
                            PatrolEvent(
                                patrol=patrol, actor=worker, action="start", to_status=PatrolStatus.ACTIVE
                            ),
                            PatrolEvent(
                                patrol=patrol,
                                actor=worker,
                                action="end",
                                from_status=PatrolStatus.ACTIVE,
                                to_status=PatrolStatus.ENDED,
                            ),
                        ]
                    )
                patrol_summarize(patrol_id=patrol.pk)
                made += 1
                points += len(fixes)
                if report:
                    at = fixes[len(fixes) // 2]
                    patrol_problem_report(
                        patrol_id=patrol.pk,
                        worker=worker,
                        text=text,
                        lat=at.lat,
                        lng=at.lng,
                        category_id=categories.get(code),
                        idempotency_key=f"{key}-problem",
                        now=at.recorded_at,
                    )
                    cases += 1
    return DemoPatrolsResult(
        made, points, cases, f"演示巡查:新增{made}次巡查({points}个轨迹点),巡查上报问题{cases}件。"
    )
