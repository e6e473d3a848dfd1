"""The bulk path for cases (hotline import, demo history): many cases in a few statements, same invariants.

``case_submit`` files one case at a time (a number, a locate, a routing lookup and a policy lookup per
case). An import of 10,000 hotline orders or a year of demo history does the same work set-wise, batch
by batch (``cases_bulk_write``; ``cases_bulk_create`` is one batch):

- places: one ``get_locator().locate_many`` per batch of points, grid → community/street/district from
  one query, the estate per point from the locator's estate index; no point → the district (level blank);
- the ladder entry rung, the unit (``route_unit``, cached per category × place) and the deadlines
  (``deadlines_compute_many``) exactly as ``case_submit`` computes them, from each case's own time
  (``bulk_rows.Preparer``);
- numbers reserved in blocks per batch: ``last = last + n`` per day, the counters locked in day order,
  inside the same transaction as the inserts, so numbers stay unique and gap-free;
- the cases, then their events (the first event is the same ``submit`` row ``case_submit`` writes;
  history adds the later steps). On PostgreSQL by binary ``COPY`` (``linli.integrations.pgcopy``), the
  next batch prepared meanwhile in a helper thread; elsewhere (SQLite) by ``bulk_create`` and one
  ``executemany``. Both run in the caller's transaction: an error anywhere, the numbers included,
  leaves nothing.

What it does not do: notifications (history is history; an import's open orders show in the dispatch
queues) and photos.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from django.db import connection, transaction

from linli.cases.models import (
    Case,
    CaseEvent,
    CaseNumberCounter,
)
from linli.cases.routing import path_prefixes
from linli.integrations.bulk_rows import (
    CASE_SET,
    EVENT_COLUMNS,
    PreparedBatch,
    Preparer,
    case_numbers,
    known_positions,
)
from linli.places.locator import LocatorIndex, get_locator
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
    points: Sequence[tuple[float, float] | None],
    index: PlaceIndex | None = None,
    locator: LocatorIndex | None = None,
) -> list[Place | None]:
    """Places for (lat, lng) points in one bulk locate; None for a point outside the jurisdiction.

    A missing point gets the district (address-only, as in ``case_submit``). The estate comes from one
    bulk query of the locator's estate tree (``estate_at``'s rule: the smallest estate index hit). Pass
    ``index`` and ``locator`` (taken in the importing thread) to run it where no query may be made.
    """
    index = index or PlaceIndex()
    locator = locator or get_locator()
    which = [i for i, p in enumerate(points) if p is not None]
    out: list[Place | None] = [None] * len(points)
    for i, p in enumerate(points):
        if p is None:
            out[i] = index.place(grid_id=None, estate_id=None)
    if not which:
        return out
    lats = np.array([points[i][0] for i in which], dtype=np.float64)  # type: ignore[index]
    lngs = np.array([points[i][1] for i in which], dtype=np.float64)  # type: ignore[index]
    located = locator.locate_many(lats, lngs)
    grid_ids = located.grid_ids()
    snapped = located.snapped.tolist()
    estates = _estates_at(locator, lats, lngs)
    cache: dict[tuple[int, int | None, bool], Place] = {}
    for j, i in enumerate(which):
        gid = grid_ids[j]
        if gid is None:
            continue
        key = (gid, estates[j], snapped[j])
        place = cache.get(key)
        if place is None:
            place = cache[key] = index.place(grid_id=gid, estate_id=estates[j], snapped=snapped[j])
        out[i] = place
    return out


def _estates_at(locator: Any, lats: Any, lngs: Any) -> list[int | None]:
    """``locator.estate_at`` for many points in one tree query: per point the smallest estate index hit."""
    n = len(lats)
    if not locator.estate_refs:
        return [None] * n
    inputs, hits = locator.estate_tree.query(shapely.points(lngs, lats), predicate="intersects")
    first = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first, inputs, hits)
    refs = locator.estate_refs
    return [None if k == np.iinfo(np.int64).max else refs[k].id for k in first.tolist()]


def _reserve_numbers(counts: dict[date, int]) -> dict[date, int]:
    """Reserve a block of numbers per local day (``last = last + n``, one statement per day, days in order);
    returns each day's first number of the block."""
    table = CaseNumberCounter._meta.db_table
    sql = f"UPDATE {table} SET last = last + %s WHERE day = %s RETURNING last"  # noqa: S608 - model table
    existing = set(CaseNumberCounter.objects.filter(day__in=list(counts)).values_list("day", flat=True))
    CaseNumberCounter.objects.bulk_create(
        [CaseNumberCounter(day=d, last=0) for d in counts if d not in existing], ignore_conflicts=True
    )
    first: dict[date, int] = {}
    with connection.cursor() as cursor:
        for day, n in sorted(counts.items()):
            cursor.execute(sql, [n, day])
            first[day] = cursor.fetchone()[0] - n + 1
    return first


def _events_insert(rows: Sequence[tuple[Any, ...]]) -> None:
    """Event rows with one ``executemany`` (SQLite): plain columns, adapted once (bulk_create spends most
    of its time compiling per-field SQL for rows this simple)."""
    if not rows:
        return
    ops = connection.ops
    table = CaseEvent._meta.db_table
    cols = ", ".join(EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(EVENT_COLUMNS))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 - names from the model
    params = [(*row[:9], row[9], ops.adapt_datetimefield_value(row[10])) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


@dataclass
class BulkResult:
    """What ``cases_bulk_write`` stored: the new case ids (in the order of the items) and how many items it
    skipped because a case with their channel and external id was stored before (``skip_known``)."""

    ids: list[int] = field(default_factory=list)
    skipped: int = 0


def cases_bulk_create(
    items: Sequence[BulkCase], *, batch_size: int = BATCH, copy: bool | None = None
) -> list[int]:
    """Create the cases and their events; returns the new ids. Call inside ``transaction.atomic``.

    PostgreSQL: by ``COPY`` (``linli.integrations.pgcopy``); other databases (SQLite in tests and small
    installs): ``bulk_create`` and one ``executemany``. Both write the same rows; the caller's transaction
    makes either all or nothing. ``copy=False`` forces the portable path (the tests compare the two).
    """
    return cases_bulk_write([items], batch_size=batch_size, copy=copy).ids


def cases_bulk_write(
    batches: Iterable[Sequence[BulkCase]],
    *,
    skip_known: bool = False,
    batch_size: int = BATCH,
    copy: bool | None = None,
) -> BulkResult:
    """Create the cases of every batch and their events, batch by batch, in the caller's transaction.

    ``batches`` may be a generator that reads and checks a file as it goes: on PostgreSQL it is drawn, and
    each batch prepared (``Preparer`` in ``bulk_rows``: rung, unit, deadlines, row values, sealed phone), in a helper
    thread while this thread stores the batch before (numbers, ids, two ``COPY``), so the database works
    while Python reads. The generator and the preparation must not query the database (the connection is
    this thread's, and busy with a COPY); what they need is loaded before. ``skip_known``: an item whose
    (channel, external id) is already stored — by an earlier import or an earlier batch — is skipped.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("cases_bulk_write must run inside the importing transaction")
    if copy is None:
        copy = connection.vendor == "postgresql"
    prepare = Preparer(sealed=copy)
    result = BulkResult()
    if not copy:
        for items in batches:
            if items:
                _orm_store(prepare(items), result, skip_known=skip_known, batch_size=batch_size)
        return result
    from linli.integrations.pgcopy import CopyStore, prepared_aside

    prepared = prepared_aside(batches, prepare)
    try:
        with CopyStore(skip_known=skip_known) as store:
            for batch in prepared:
                store.write(batch, result)
    finally:
        prepared.close()  # on an error here: stop the helper thread now, not when collected
    return result


def _orm_stored(channel: str, external_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(external_ids), 5000):  # SQLite's limit on parameters per statement
        chunk = external_ids[start : start + 5000]
        query = Case.objects.filter(channel=channel, external_id__in=chunk)
        found.update(query.values_list("external_id", flat=True))
    return found


def _orm_store(batch: PreparedBatch, result: BulkResult, *, skip_known: bool, batch_size: int) -> None:
    """SQLite and other backends: ``bulk_create`` (the encrypted field encrypts, the blind index is
    computed in ``pre_save``) and the events by ``executemany``."""
    keep = known_positions(batch, _orm_stored) if skip_known else range(len(batch.rows))
    result.skipped += len(batch.rows) - len(keep)
    days = [batch.days[i] for i in keep]
    numbers = case_numbers(days, _reserve_numbers(Counter(days)))
    cases = [
        Case(**dict(zip(CASE_SET, (n, *batch.rows[i]), strict=True)))
        for n, i in zip(numbers, keep, strict=True)
    ]
    for start in range(0, len(cases), batch_size):
        Case.objects.bulk_create(cases[start : start + batch_size])
    events = [(c.pk, *e) for c, i in zip(cases, keep, strict=True) for e in batch.events[i]]
    for start in range(0, len(events), batch_size):
        _events_insert(events[start : start + batch_size])
    result.ids.extend(c.pk for c in cases)


def cases_bulk_create_atomic(items: Sequence[BulkCase], *, batch_size: int = BATCH) -> list[int]:
    with transaction.atomic():
        return cases_bulk_create(items, batch_size=batch_size)
