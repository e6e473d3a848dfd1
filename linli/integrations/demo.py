"""A year of case history for the demo district, through the bulk path (``linli.integrations.bulk``).

Plausible rather than real: categories weighted by group and season (drains and noise in summer, fire
safety in winter, greening in spring), calls by hour of day, channels in realistic shares, resolution
times from a log-normal per level, ratings mostly satisfied, and about 70 / 20 / 10 % of solved cases
resolved at community (estate included) / street / district. The last two weeks still have open cases.

Deterministic (one seeded ``random.Random``; times count back from today's date) and idempotent: each
generated case has an external id ``demo-<seed>-<n>``; ids already present are skipped, so a re-run adds
nothing and a larger ``--history`` adds only the difference.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from linli.cases.models import Case, CaseKind, Category, Channel, LadderLevel, Rating, Status
from linli.integrations.bulk import BulkCase, Place, PlaceIndex, Step, cases_bulk_create, places_locate
from linli.places.models import Grid

DEFAULT_HISTORY = 50_000
DEFAULT_SEED = 20261122
CHUNK = 10_000
# How residents reach us (shares of all cases).
CHANNELS = [
    (Channel.RESIDENT, 45),
    (Channel.HOTLINE, 20),
    (Channel.BUILDING_QR, 14),
    (Channel.GRID_PATROL, 12),
    (Channel.WINDOW, 6),
    (Channel.OPEN311, 3),
]
# Group weight, and the months (1–12) when it peaks.
GROUPS: dict[str, tuple[float, tuple[int, ...]]] = {
    "city": (14, ()),
    "property": (16, ()),
    "road": (9, (1, 2, 12)),
    "drain": (8, (6, 7, 8)),
    "noise": (9, (6, 7, 8, 9)),
    "fire": (4, (11, 12, 1, 2)),
    "parking": (8, ()),
    "greening": (4, (3, 4, 5)),
    "waste": (6, ()),
    "dispute": (5, (1, 2)),
    "elderly": (4, (12, 1)),
}
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 11, 8, 9, 11, 12, 11, 10, 9, 8, 6, 4, 2, 1]
# Median working hours to resolve, by the level that resolved it.
MEDIAN_HOURS = {LadderLevel.COMMUNITY: 30.0, LadderLevel.STREET: 80.0, LadderLevel.DISTRICT: 160.0}
PHRASES = [
    "已经好几天了",
    "希望尽快处理",
    "影响居民出行",
    "老人小孩不安全",
    "多次反映未解决",
    "请有关部门看看",
]
RESULTS = ["已现场处置完毕", "已协调责任单位整改到位", "已维修恢复", "已清理完毕,纳入日常巡查", "已答复居民"]


@dataclass(frozen=True)
class Draft:
    category: Category
    created: datetime
    lat: float
    lng: float
    channel: str


@dataclass(frozen=True)
class HistoryResult:
    created: int
    skipped: int
    seconds: float
    message: str


def _leaves() -> list[tuple[Category, float, tuple[int, ...]]]:
    rows = list(Category.objects.filter(is_active=True).select_related("parent"))
    parents = {c.parent_id for c in rows}
    out = []
    for c in rows:
        if c.pk in parents or c.parent is None:
            continue
        weight, peak = GROUPS.get(c.parent.code, (2.0, ()))
        siblings = sum(1 for x in rows if x.parent_id == c.parent_id)
        out.append((c, weight / max(siblings, 1), peak))
    return out


def _grids() -> list[tuple[float, float, float, float, int]]:
    return [
        (g.min_lat, g.min_lng, g.max_lat, g.max_lng, max(g.households, 50))
        for g in Grid.objects.exclude(min_lat=None).order_by("code")
        if g.min_lat is not None and g.min_lng is not None and g.max_lat is not None and g.max_lng is not None
    ]


def cases_seed_history(*, size: int = DEFAULT_HISTORY, seed: int = DEFAULT_SEED) -> HistoryResult:
    """Generate ``size`` cases over the past year (skipping those already there)."""
    started = time.perf_counter()
    leaves, grids = _leaves(), _grids()
    if size <= 0 or not leaves or not grids:
        return HistoryResult(0, 0, 0.0, "未生成历史工单(缺少分类或网格)。")
    prefix = f"demo-{seed}-"
    existing = set(Case.objects.filter(external_id__startswith=prefix).values_list("external_id", flat=True))
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    tz = timezone.get_default_timezone()
    today = timezone.localdate()
    start = datetime(today.year, today.month, today.day, tzinfo=tz) - timedelta(days=365)
    grid_weights = [g[4] for g in grids]
    index = PlaceIndex()
    created = skipped = 0
    for chunk_start in range(0, size, CHUNK):
        n = min(CHUNK, size - chunk_start)
        drafts = [
            _draft(rng, leaves, grids, grid_weights, start) for _ in range(n)
        ]  # always drawn: determinism
        ids = [f"{prefix}{chunk_start + i:07d}" for i in range(n)]
        places = places_locate([(d.lat, d.lng) for d in drafts], index)
        items: list[BulkCase] = []
        now = timezone.now()
        for ext, d, place in zip(ids, drafts, places, strict=True):
            if ext in existing or place is None:
                skipped += ext in existing
                continue
            items.append(_history(rng_for(seed, ext), ext, d, place, now))
        with transaction.atomic():
            cases_bulk_create(items)
        created += len(items)
    seconds = time.perf_counter() - started
    if created:
        message = f"已生成近一年的历史工单 {created} 件(用时 {seconds:.1f} 秒)。"
    else:
        message = f"历史工单已存在({skipped} 件),未重复生成。"
    return HistoryResult(created, skipped, seconds, message)


def rng_for(seed: int, ext: str) -> random.Random:
    """A per-case generator: a case's history does not depend on which others were skipped."""
    return random.Random(f"{seed}:{ext}")  # noqa: S311 - demo data, not secrets


def _draft(
    rng: random.Random,
    leaves: list[tuple[Category, float, tuple[int, ...]]],
    grids: list[tuple[float, float, float, float, int]],
    grid_weights: list[int],
    start: datetime,
) -> Draft:
    day = rng.randrange(365)
    when = start + timedelta(days=day)
    month = when.month
    weights = [w * (2.5 if month in peak else 1.0) for _, w, peak in leaves]
    category = rng.choices(leaves, weights=weights)[0][0]
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    created = when + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
    g = rng.choices(grids, weights=grid_weights)[0]
    # Inside the grid's box, away from its edges (most boxes are mostly grid).
    lat = g[0] + (g[2] - g[0]) * (0.25 + 0.5 * rng.random())
    lng = g[1] + (g[3] - g[1]) * (0.25 + 0.5 * rng.random())
    channel = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
    return Draft(category=category, created=created, lat=lat, lng=lng, channel=channel)


def _history(rng: random.Random, ext: str, d: Draft, place: Place, now: datetime) -> BulkCase:
    category, created = d.category, d.created
    kind = category.default_kind if rng.random() < 0.9 else CaseKind.SUGGESTION
    item = BulkCase(
        channel=d.channel,
        kind=kind,
        category_id=category.pk,
        text=f"{category.name},{rng.choice(PHRASES)}。",
        created_at=created,
        place=place,
        lat=d.lat,
        lng=d.lng,
        external_id=ext,
    )
    entry = LadderLevel.ESTATE if item.place.estate_id is not None else LadderLevel.COMMUNITY
    age_days = (now - created).total_seconds() / 86400
    roll = rng.random()
    if roll < 0.03:
        item.status = Status.REJECTED
        item.level = entry
        item.steps = [Step("reject", Status.SUBMITTED, Status.REJECTED, created + timedelta(hours=3))]
        return item
    if roll < 0.05:
        item.status = Status.WITHDRAWN
        item.level = entry
        item.steps = [Step("withdraw", Status.SUBMITTED, Status.WITHDRAWN, created + timedelta(hours=1))]
        return item
    bucket = rng.choices(
        [LadderLevel.COMMUNITY, LadderLevel.STREET, LadderLevel.DISTRICT], weights=[70, 20, 10]
    )[0]
    level = entry if bucket == LadderLevel.COMMUNITY else bucket
    hours = rng.lognormvariate(math.log(MEDIAN_HOURS[bucket]), 0.6)
    t = created
    steps: list[Step] = []
    rungs = [LadderLevel.ESTATE, LadderLevel.COMMUNITY, LadderLevel.STREET, LadderLevel.DISTRICT]
    path = rungs[rungs.index(entry) + 1 : rungs.index(level) + 1]
    previous = entry
    for nxt in path:  # one rung at a time, as the sweep moves it
        t += timedelta(hours=hours / (len(path) + 2))
        steps.append(Step("escalate_timed", Status.SUBMITTED, Status.SUBMITTED, t, previous, nxt))
        previous = nxt
    item.level = level
    item.escalation_count = len(path)
    finish = created + timedelta(hours=hours)
    if finish > now - timedelta(hours=2) or age_days < 1:
        # Still in the loop: somewhere between submitted and in progress.
        stage = rng.choice([Status.SUBMITTED, Status.ASSIGNED, Status.IN_PROGRESS])
        item.status = stage
        if stage != Status.SUBMITTED:
            t_assign = min(t + timedelta(hours=2), now)
            steps.append(Step("assign", Status.SUBMITTED, Status.ASSIGNED, t_assign, level, level))
            if stage == Status.IN_PROGRESS:
                item.accepted_at = min(t_assign + timedelta(hours=1), now)
                steps.append(
                    Step("accept", Status.ASSIGNED, Status.IN_PROGRESS, item.accepted_at, level, level)
                )
        item.steps = steps
        return item
    t_assign = t + timedelta(hours=min(2.0, hours / 10))
    item.accepted_at = t_assign + timedelta(hours=min(2.0, hours / 10))
    item.resolved_at = finish
    item.result_text = rng.choice(RESULTS)
    steps += [
        Step("assign", Status.SUBMITTED, Status.ASSIGNED, t_assign, level, level),
        Step("accept", Status.ASSIGNED, Status.IN_PROGRESS, item.accepted_at, level, level),
        Step("resolve", Status.IN_PROGRESS, Status.RESOLVED, finish, level, level),
    ]
    rated = rng.random() < 0.8
    if finish > now - timedelta(days=7) and not rated:
        item.status = Status.RESOLVED  # still inside the rating period
    else:
        item.status = Status.CLOSED
        if rated:
            item.rating = rng.choices(
                [Rating.SATISFIED, Rating.BASIC, Rating.UNSATISFIED], weights=[76, 17, 7]
            )[0]
            item.rated_at = finish + timedelta(hours=rng.uniform(1, 48))
            item.closed_at = item.rated_at
            steps.append(Step("rate", Status.RESOLVED, Status.CLOSED, item.rated_at, level, level))
        else:
            item.closed_at = finish + timedelta(days=7)
            steps.append(Step("auto_close", Status.RESOLVED, Status.CLOSED, item.closed_at, level, level))
    item.steps = steps
    return item
