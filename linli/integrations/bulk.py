"""The bulk path for cases (hotline import, demo history): many cases in a few statements, same invariants.

``case_submit`` files one case at a time (a number, a locate, a routing lookup and a policy lookup per
case). An import of 10,000 hotline orders or a year of demo history does the same work set-wise:

- places: one ``get_locator().locate_many`` over all points, grid → community/street/district from one
  query, the estate per point from the locator's estate index; no point → the district (level blank);
- the ladder entry rung, the unit (``route_unit``, cached per category × place) and the deadlines
  (``deadlines_compute_many``) exactly as ``case_submit`` computes them, from each case's own time;
- numbers reserved in blocks: one ``UPDATE … RETURNING`` per day of the batch (``last = last + n``), inside
  the same transaction as the inserts, so numbers stay unique and gap-free;
- the cases, then their events (the first event is the same ``submit`` row ``case_submit`` writes;
  history adds the later steps). On PostgreSQL by ``COPY``: the case ids drawn from the id sequence
  first (``nextval`` over ``generate_series``, so the events can name their case and a later ordinary
  insert continues after them), the phone encrypted and blind-indexed here as the fields would, every
  other column at the model's default. Elsewhere (SQLite) by ``bulk_create`` and one ``executemany``.
  Both run in the caller's transaction: an error anywhere, the numbers included, leaves nothing.

What it does not do: notifications (history is history; an import's open orders show in the dispatch
queues) and photos.
"""

from __future__ import annotations

import base64
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
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
from linli.security import crypto
from linli.security.fields import EncryptedTextField

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

    A missing point gets the district (address-only, as in ``case_submit``). The estate comes from one
    bulk query of the locator's estate tree (``estate_at``'s rule: the smallest estate index hit).
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


# The case columns the bulk path sets, in the order of the rows it builds; every other column gets the
# model's default (``_case_tail``). ``contact_phone`` is plaintext here; each writer stores it encrypted.
_CASE_SET = (
    "number",
    "kind",
    "category_id",
    "channel",
    "title",
    "text",
    "contact_name",
    "contact_phone",
    "contact_phone_masked",
    "lat",
    "lng",
    "address",
    "grid_id",
    "estate_id",
    "community_id",
    "street_id",
    "district_id",
    "region_path",
    "unit_id",
    "assignee_id",
    "status",
    "status_category",
    "level",
    "resolved_level",
    "escalation_count",
    "level_started_at",
    "triage_due_at",
    "triage_warn_at",
    "resolve_due_at",
    "warn_at",
    "accepted_at",
    "resolved_at",
    "closed_at",
    "result_text",
    "rating",
    "rated_at",
    "is_public",
    "external_id",
    "created_at",
)
_PHONE_AT = _CASE_SET.index("contact_phone")
_UNIT_AT = _CASE_SET.index("unit_id")
_LEVEL_AT = _CASE_SET.index("level")

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
    """Event rows with one ``executemany`` (SQLite): plain columns, adapted once (bulk_create spends most
    of its time compiling per-field SQL for rows this simple)."""
    if not rows:
        return
    ops = connection.ops
    table = CaseEvent._meta.db_table
    cols = ", ".join(_EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608 - names from the model
    params = [(*row[:9], row[9], ops.adapt_datetimefield_value(row[10])) for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _json(data: dict[str, Any], cache: dict[tuple[Any, ...], str]) -> str:
    """``data`` as the JSON text ``JSONField`` stores; the many equal small dicts are encoded once. The
    key keeps the items' order and each value's type (``True == 1`` but they encode differently)."""
    try:
        key = tuple((k, type(v), v) for k, v in data.items())
        text = cache.get(key)
    except TypeError:  # an unhashable value (a list): encode it as it is
        return json.dumps(data, ensure_ascii=False)
    if text is None:
        text = cache[key] = json.dumps(data, ensure_ascii=False)
    return text


def cases_bulk_create(
    items: Sequence[BulkCase], *, batch_size: int = BATCH, copy: bool | None = None
) -> list[int]:
    """Create the cases and their events; returns the new ids. Call inside ``transaction.atomic``.

    PostgreSQL: ids reserved from the sequences, then cases and events by ``COPY`` (``_copy_write``);
    other databases (SQLite in tests and small installs): ``bulk_create`` and one ``executemany``.
    Both write the same rows; the caller's transaction makes either all or nothing. ``copy=False`` forces
    the portable path (the tests compare the two on PostgreSQL).
    """
    if not connection.in_atomic_block:
        raise RuntimeError("cases_bulk_create must run inside the importing transaction")
    if not items:
        return []
    rows, entries = _case_rows(items)
    if copy is None:
        copy = connection.vendor == "postgresql"
    if copy:
        return _copy_write(items, rows, entries)
    return _orm_write(items, rows, entries, batch_size)


def _case_rows(items: Sequence[BulkCase]) -> tuple[list[tuple[Any, ...]], list[str]]:
    """Per case the values of ``_CASE_SET``, computed as ``case_submit`` computes them, and its entry rung
    (where its ``submit`` event puts it)."""
    ladder = ladder_load()
    book = policy_book_load()
    router = Router()
    # The entry rung and the policy terms depend on a handful of keys; compute each once.
    entry_terms: dict[tuple[str, int | None, bool, bool], tuple[str, Any]] = {}
    levels: list[str] = []
    terms = []
    for it in items:
        p = it.place
        key = (it.kind, it.category_id, p.estate_id is not None, p.community_id is not None)
        got = entry_terms.get(key)
        if got is None:
            level = ladder.entry(has_estate=key[2], has_community=key[3])
            got = entry_terms[key] = (
                level,
                book.terms(kind=it.kind, category_id=it.category_id, level=level or "community"),
            )
        levels.append(got[0])
        terms.append(got[1])
    due = deadlines_compute_many([it.created_at for it in items], terms)
    tz = timezone.get_default_timezone()
    days = [it.created_at.astimezone(tz).date() for it in items]
    numbers = _reserve_numbers(days)
    cursor_by_day: dict[date, int] = defaultdict(int)
    masks: dict[str, str] = {}
    rows: list[tuple[Any, ...]] = []
    for it, entry, d, day in zip(items, levels, due, days, strict=True):
        number = numbers[day][cursor_by_day[day]]
        cursor_by_day[day] += 1
        p = it.place
        unit_id = it.unit_id if it.unit_id is not None else router.unit(it.category_id, p.region_path)
        status = it.status or Status.SUBMITTED
        info = STATUS_INFO[status]
        level = entry if it.level is None else it.level
        text = it.text.strip()
        phone = it.contact_phone
        masked = masks.get(phone)
        if masked is None:
            masked = phone_mask(phone)
            if len(masks) < 10_000:
                masks[phone] = masked
        rows.append(
            (
                number,
                it.kind,
                it.category_id,
                it.channel,
                (it.title.strip() or text.splitlines()[0])[:100],
                text,
                it.contact_name[:50],
                phone,
                masked,
                it.lat,
                it.lng,
                it.address[:200],
                p.grid_id,
                p.estate_id,
                p.community_id,
                p.street_id,
                p.district_id,
                p.region_path,
                unit_id,
                it.assignee_id,
                status,
                info.category,
                level,
                (level or "district") if info.solved else "",
                it.escalation_count,
                it.created_at,
                d.triage_due_at,
                d.triage_warn_at,
                d.resolve_due_at,
                d.warn_at,
                it.accepted_at,
                it.resolved_at,
                it.closed_at,
                it.result_text,
                it.rating,
                it.rated_at,
                it.kind in PUBLIC_BY_DEFAULT and it.kind != CaseKind.TIP_OFF,
                it.external_id[:64],
                it.created_at,
            )
        )
    return rows, levels


def _event_rows(
    items: Sequence[BulkCase], rows: Sequence[tuple[Any, ...]], entries: Sequence[str], ids: Sequence[int]
) -> Iterator[tuple[Any, ...]]:
    """The events of each case in ``_EVENT_COLUMNS`` order (``data`` as JSON text): the ``submit`` row
    ``case_submit`` writes, then the history's later steps."""
    encoded: dict[tuple[Any, ...], str] = {}
    for pk, it, row, entry in zip(ids, items, rows, entries, strict=True):
        data = {"channel": it.channel, "unit_id": row[_UNIT_AT], "snapped": it.place.snapped}
        yield (
            pk,
            "system",
            "submit",
            "",
            Status.SUBMITTED,
            "",
            entry,
            "",
            _json(data, encoded),
            True,
            it.created_at,
        )
        level = row[_LEVEL_AT]
        for step in it.steps:
            yield (
                pk,
                "system",
                step.action,
                step.from_status,
                step.to_status,
                step.from_level or level,
                step.to_level or level,
                step.note,
                _json(step.data, encoded),
                step.is_public,
                step.at,
            )


def _orm_write(
    items: Sequence[BulkCase], rows: Sequence[tuple[Any, ...]], entries: Sequence[str], batch_size: int
) -> list[int]:
    """SQLite and other backends: ``bulk_create`` (the encrypted field encrypts, the blind index is
    computed in ``pre_save``) and the events by ``executemany``."""
    ids: list[int] = []
    for start in range(0, len(rows), batch_size):
        chunk = [Case(**dict(zip(_CASE_SET, row, strict=True))) for row in rows[start : start + batch_size]]
        Case.objects.bulk_create(chunk)
        ids.extend(c.pk for c in chunk)
    batch: list[tuple[Any, ...]] = []
    for event in _event_rows(items, rows, entries, ids):
        batch.append(event)
        if len(batch) >= batch_size:
            _events_insert(batch)
            batch = []
    _events_insert(batch)
    return ids


def _case_tail(now: datetime) -> tuple[list[str], tuple[Any, ...]]:
    """The columns the bulk path does not set, and their values: the model's defaults, ``updated_at``
    now (``auto_now``), prepared for the database once."""
    names: list[str] = []
    values: list[Any] = []
    skip = {"id", *_CASE_SET, "contact_phone_index"}
    for f in Case._meta.concrete_fields:
        if f.attname in skip:
            continue
        value = now if f.attname == "updated_at" else f.get_default()
        names.append(f.column)
        values.append(f.get_db_prep_save(value, connection))
    return names, tuple(values)


class _PhoneSealer:
    """``contact_phone`` as ``EncryptedTextField`` stores it and its index as ``BlindIndexField.pre_save``
    computes it (a COPY skips the field code), with the keyring looked up once per import instead of
    twice per row. ``crypto``'s own sealing, nonce and associated data: the ciphertext is the field's
    (``test_copy_path_writes_what_the_orm_path_writes`` decrypts it through the model)."""

    def __init__(self) -> None:
        field = Case._meta.get_field("contact_phone")
        assert isinstance(field, EncryptedTextField)
        ring = crypto.keyring()
        self.algorithm, self.key_id = ring.active_algorithm, ring.active_id
        self.key = ring.cipher_key(self.algorithm, self.key_id)
        self.aad = crypto._aad(field.crypto_context, self.algorithm, self.key_id)
        self.prefix = f"{self.algorithm}.{self.key_id}."
        self.blind_key = ring.blind_keys[0]

    def __call__(self, phone: str) -> tuple[str, str]:
        nonce = os.urandom(crypto.NONCE_BYTES)
        sealed = crypto._seal(self.algorithm, self.key, nonce, phone.encode(), self.aad)
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return self.prefix + body, crypto._blind(self.blind_key, "phone", phone)


def _sequence_ids(cursor: Any, table: str, n: int) -> list[int]:
    """``n`` ids from the table's id sequence (identity), reserved up front so the events can name their
    case in the same ``COPY`` pass. Concurrent writers draw their own values; the set is ours."""
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
    return sorted(r[0] for r in cursor.fetchall())


def _copy_write(
    items: Sequence[BulkCase], rows: Sequence[tuple[Any, ...]], entries: Sequence[str]
) -> list[int]:
    """PostgreSQL: cases and events by ``COPY … FROM STDIN``, in the caller's transaction.

    The phone is encrypted here as ``EncryptedTextField`` stores it (same context, the active key) and its
    blind index computed as ``BlindIndexField.pre_save`` computes it: a COPY skips the field code.
    """
    seal = _PhoneSealer()
    table = Case._meta.db_table
    tail_names, tail = _case_tail(timezone.now())
    column_of = {f.attname: f.column for f in Case._meta.concrete_fields}
    columns = ["id", *(column_of[a] for a in _CASE_SET), "contact_phone_index", *tail_names]
    # wrap_database_errors: a failing COPY raises Django's IntegrityError etc., as bulk_create would.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        ids = _sequence_ids(cursor, table, len(rows))
        raw = cursor.cursor  # psycopg's own cursor: COPY
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                phone = row[_PHONE_AT]
                if phone:
                    stored, index = seal(phone)
                    copy.write_row((pk, *row[:_PHONE_AT], stored, *row[_PHONE_AT + 1 :], index, *tail))
                else:
                    copy.write_row((pk, *row, "", *tail))
        events = CaseEvent._meta.db_table
        with raw.copy(f"COPY {events} ({', '.join(_EVENT_COLUMNS)}) FROM STDIN") as copy:
            for event in _event_rows(items, rows, entries, ids):
                copy.write_row(event)
    return ids


def cases_bulk_create_atomic(items: Sequence[BulkCase], *, batch_size: int = BATCH) -> list[int]:
    with transaction.atomic():
        return cases_bulk_create(items, batch_size=batch_size)
