"""The bulk path for cases (hotline import, demo history): many cases in a few statements, same invariants.

``case_submit`` files one case at a time (a number, a locate, a routing lookup and a policy lookup per
case). An import of 10,000 hotline orders or a year of demo history does the same work set-wise:

- places: one ``get_locator().locate_many`` over all points, grid → community/street/district from one
  query, the estate per point from the locator's estate index; no point → the district (level blank);
- the ladder entry rung, the unit (``route_unit``, cached per category × place) and the deadlines
  (``deadlines_compute_many``) exactly as ``case_submit`` computes them, from each case's own time;
- numbers reserved in blocks: one ``UPDATE … RETURNING`` per day of the batch (``last = last + n``), inside
  the same transaction as the inserts, so numbers stay unique and gap-free;
- ``bulk_create`` of cases, then of their events (the first event is the same ``submit`` row
  ``case_submit`` writes; history adds the later steps), in batches.

What it does not do: notifications (history is history; an import's open orders show in the dispatch
queues) and photos.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from linli.cases.contact import phone_mask
from linli.cases.ladder import ladder_load
from linli.cases.models import (
    STATUS_INFO,
    Case,
    CaseEvent,
    CaseKind,
    CaseNumberCounter,
    Category,
    RoutingRule,
    Status,
)
from linli.cases.routing import path_prefixes
from linli.cases.services.submit import PUBLIC_BY_DEFAULT
from linli.cases.sla import deadlines_compute_many, policy_book_load
from linli.places.locator import get_locator
from linli.places.models import Grid, Level, Region

BATCH = 2000


@dataclass(frozen=True)
class Place:
    grid_id: int | None
    estate_id: int | None
    community_id: int | None
    street_id: int | None
    district_id: int
    region_path: str
    snapped: bool = False


@dataclass
class Step:
    """A later step of a history case (its event row): action, statuses, levels, time, public flag."""

    action: str
    from_status: str
    to_status: str
    at: datetime
    from_level: str = ""
    to_level: str = ""
    is_public: bool = True
    note: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class BulkCase:
    """One case to create. ``place`` comes from ``places_locate``; the final fields describe its history."""

    channel: str
    kind: str
    category_id: int | None
    text: str
    created_at: datetime
    place: Place
    lat: float | None = None
    lng: float | None = None
    title: str = ""
    address: str = ""
    contact_name: str = ""
    contact_phone: str = ""  # already validated and normalised by the caller
    external_id: str = ""
    # Where the history ended (blank status: the case is new and waits in the loop like a submitted one).
    status: str = ""
    level: str | None = None  # None: the entry rung; history sets where it was resolved
    escalation_count: int = 0
    unit_id: int | None = None  # None: routed like case_submit
    assignee_id: int | None = None
    accepted_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    result_text: str = ""
    rating: str = ""
    rated_at: datetime | None = None
    steps: list[Step] = field(default_factory=list)


class PlaceIndex:
    """Regions for turning a grid or estate id into a ``Place`` without a query per case."""

    def __init__(self) -> None:
        grids = list(Grid.objects.values_list("id", "community_id"))
        regions = Region.objects.filter(
            level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE]
        )
        self.by_path: dict[str, tuple[int, str]] = {}
        self.path_of: dict[int, str] = {}
        for rid, level, path in regions.values_list("id", "level", "path"):
            self.by_path[path] = (rid, level)
            self.path_of[rid] = path
        self.grid_community = dict(grids)
        self.districts = [rid for path, (rid, level) in self.by_path.items() if level == Level.DISTRICT]

    def place(self, *, grid_id: int | None, estate_id: int | None, snapped: bool = False) -> Place:
        if grid_id is None:
            if len(self.districts) != 1:
                raise ValueError("location_required")
            district = self.districts[0]
            return Place(None, None, None, None, district, self.path_of[district])
        community = self.grid_community[grid_id]
        deepest = self.path_of[estate_id] if estate_id is not None else self.path_of[community]
        ids = {self.by_path[p][1]: self.by_path[p][0] for p in path_prefixes(self.path_of[community])}
        return Place(
            grid_id=grid_id,
            estate_id=estate_id,
            community_id=community,
            street_id=ids.get(Level.STREET),
            district_id=ids[Level.DISTRICT],
            region_path=deepest,
            snapped=snapped,
        )


def places_locate(
    points: Sequence[tuple[float, float] | None], index: PlaceIndex | None = None
) -> list[Place | None]:
    """Places for (lat, lng) points in one bulk locate; None for a point outside the jurisdiction.

    A missing point gets the district (address-only, as in ``case_submit``).
    """
    index = index or PlaceIndex()
    locator = get_locator()
    which = [i for i, p in enumerate(points) if p is not None]
    out: list[Place | None] = [None] * len(points)
    for i, p in enumerate(points):
        if p is None:
            out[i] = index.place(grid_id=None, estate_id=None)
    if not which:
        return out
    lats = [points[i][0] for i in which]  # type: ignore[index]
    lngs = [points[i][1] for i in which]  # type: ignore[index]
    located = locator.locate_many(lats, lngs)
    grid_ids = located.grid_ids()
    snapped = located.snapped.tolist()
    for j, i in enumerate(which):
        gid = grid_ids[j]
        if gid is None:
            continue
        estate = locator.estate_at(lats[j], lngs[j])
        out[i] = index.place(grid_id=gid, estate_id=estate.id if estate else None, snapped=snapped[j])
    return out


class Router:
    """``route_unit`` for many cases: the rules and the category tree loaded once, then pure Python.

    The scoring is ``linli.cases.routing.route_unit``'s (deepest region, then nearest category);
    ``test_the_bulk_path_gives_the_same_case_as_case_submit`` holds the two together.
    """

    def __init__(self) -> None:
        self.parents = dict(Category.objects.values_list("id", "parent_id"))
        self.rules = list(
            RoutingRule.objects.filter(is_active=True, unit__is_active=True).values_list(
                "unit_id", "region__path", "category_id"
            )
        )
        self._cache: dict[tuple[int | None, str], int | None] = {}

    def _chain(self, category_id: int | None) -> list[int]:
        chain: list[int] = []
        current = category_id
        while current is not None and current not in chain:
            chain.append(current)
            current = self.parents.get(current)
        return chain

    def unit(self, category_id: int | None, region_path: str) -> int | None:
        key = (category_id, region_path)
        if key in self._cache:
            return self._cache[key]
        chain = self._chain(category_id)
        prefixes = set(path_prefixes(region_path))
        best: tuple[tuple[int, int], int] | None = None
        for unit_id, path, cat_id in self.rules:
            if path is not None and path not in prefixes:
                continue
            if cat_id is not None and cat_id not in chain:
                continue
            score = (len(path) if path else 0, 0 if cat_id is None else len(chain) - chain.index(cat_id))
            if best is None or score > best[0]:
                best = (score, unit_id)
        self._cache[key] = best[1] if best else None
        return self._cache[key]


def _reserve_numbers(days: Iterable[date]) -> dict[date, list[str]]:
    """Reserve a block of numbers per local day: ``last = last + n`` in one statement per day."""
    counts = Counter(days)
    table = CaseNumberCounter._meta.db_table
    sql = f"UPDATE {table} SET last = last + %s WHERE day = %s RETURNING last"  # noqa: S608 - model table
    out: dict[date, list[str]] = {}
    existing = set(CaseNumberCounter.objects.filter(day__in=list(counts)).values_list("day", flat=True))
    CaseNumberCounter.objects.bulk_create(
        [CaseNumberCounter(day=d, last=0) for d in counts if d not in existing], ignore_conflicts=True
    )
    with connection.cursor() as cursor:
        for day, n in sorted(counts.items()):
            cursor.execute(sql, [n, day])
            last = cursor.fetchone()[0]
            out[day] = [f"{day:%Y%m%d}-{v:06d}" for v in range(last - n + 1, last + 1)]
    return out


_EVENT_COLUMNS = (
    "case_id",
    "actor_role",
    "action",
    "from_status",
    "to_status",
    "from_level",
    "to_level",
    "note",
    "data",
    "is_public",
    "created_at",
)


def _events_insert(rows: Sequence[tuple[Any, ...]]) -> None:
    """Event rows with one ``executemany``: plain columns, adapted once (bulk_create spends most of its
    time compiling per-field SQL for rows this simple)."""
    if not rows:
        return
    ops = connection.ops
    table = CaseEvent._meta.db_table
    cols = ", ".join(_EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 - names from the model
    params = [
        (*row[:8], json.dumps(row[8], ensure_ascii=False), row[9], ops.adapt_datetimefield_value(row[10]))
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def cases_bulk_create(items: Sequence[BulkCase], *, batch_size: int = BATCH) -> list[int]:
    """Create the cases and their events; returns the new ids. Call inside ``transaction.atomic``."""
    if not connection.in_atomic_block:
        raise RuntimeError("cases_bulk_create must run inside the importing transaction")
    if not items:
        return []
    ladder = ladder_load()
    book = policy_book_load()
    router = Router()
    levels: list[str] = []
    terms = []
    for it in items:
        p = it.place
        level = ladder.entry(has_estate=p.estate_id is not None, has_community=p.community_id is not None)
        levels.append(level)
        terms.append(book.terms(kind=it.kind, category_id=it.category_id, level=level or "community"))
    due = deadlines_compute_many([it.created_at for it in items], terms)
    tz = timezone.get_default_timezone()
    numbers = _reserve_numbers(it.created_at.astimezone(tz).date() for it in items)
    cursor_by_day: dict[date, int] = defaultdict(int)

    cases: list[Case] = []
    for it, entry, d in zip(items, levels, due, strict=True):
        day = it.created_at.astimezone(tz).date()
        number = numbers[day][cursor_by_day[day]]
        cursor_by_day[day] += 1
        unit_id = it.unit_id if it.unit_id is not None else router.unit(it.category_id, it.place.region_path)
        status = it.status or Status.SUBMITTED
        info = STATUS_INFO[status]
        level = entry if it.level is None else it.level
        text = it.text.strip()
        cases.append(
            Case(
                number=number,
                kind=it.kind,
                category_id=it.category_id,
                channel=it.channel,
                title=(it.title.strip() or text.splitlines()[0])[:100],
                text=text,
                contact_name=it.contact_name[:50],
                contact_phone=it.contact_phone,
                contact_phone_masked=phone_mask(it.contact_phone),
                lat=it.lat,
                lng=it.lng,
                address=it.address[:200],
                grid_id=it.place.grid_id,
                estate_id=it.place.estate_id,
                community_id=it.place.community_id,
                street_id=it.place.street_id,
                district_id=it.place.district_id,
                region_path=it.place.region_path,
                unit_id=unit_id,
                assignee_id=it.assignee_id,
                status=status,
                status_category=info.category,
                level=level,
                resolved_level=(level or "district") if info.solved else "",
                escalation_count=it.escalation_count,
                level_started_at=it.created_at,
                triage_due_at=d.triage_due_at,
                triage_warn_at=d.triage_warn_at,
                resolve_due_at=d.resolve_due_at,
                warn_at=d.warn_at,
                accepted_at=it.accepted_at,
                resolved_at=it.resolved_at,
                closed_at=it.closed_at,
                result_text=it.result_text,
                rating=it.rating,
                rated_at=it.rated_at,
                is_public=it.kind in PUBLIC_BY_DEFAULT and it.kind != CaseKind.TIP_OFF,
                external_id=it.external_id[:64],
                created_at=it.created_at,
            )
        )
    ids: list[int] = []
    for start in range(0, len(cases), batch_size):
        chunk = cases[start : start + batch_size]
        Case.objects.bulk_create(chunk)
        ids.extend(c.pk for c in chunk)
    rows: list[tuple[Any, ...]] = []
    for case, it, entry in zip(cases, items, levels, strict=True):
        data = {"channel": it.channel, "unit_id": case.unit_id, "snapped": it.place.snapped}
        rows.append(
            (case.pk, "system", "submit", "", Status.SUBMITTED, "", entry, "", data, True, it.created_at)
        )
        for step in it.steps:
            rows.append(
                (
                    case.pk,
                    "system",
                    step.action,
                    step.from_status,
                    step.to_status,
                    step.from_level or case.level,
                    step.to_level or case.level,
                    step.note,
                    step.data,
                    step.is_public,
                    step.at,
                )
            )
        if len(rows) >= batch_size:
            _events_insert(rows)
            rows = []
    _events_insert(rows)
    return ids


def cases_bulk_create_atomic(items: Sequence[BulkCase], *, batch_size: int = BATCH) -> list[int]:
    with transaction.atomic():
        return cases_bulk_create(items, batch_size=batch_size)
