"""The in-process nearest-station index: published stations as numpy arrays, rebuilt on a version stamp.

``GET /api/stations/nearest`` must answer about as fast as a bare endpoint, so it never queries the
stations per request. Each process keeps one ``StationIndex`` (coordinates, what each station offers, its
weekly schedule) and re-reads a stamp at most every ``LINLI_STATIONS_RECHECK_SECONDS`` (default 2): the
``StationIndexVersion`` row that every station service bumps in its transaction, plus the count and
latest change of the catalogue (an item switched off must stop matching ``service=``). After its own
writes a process re-reads at once (``station_index_changed``), as the grid locator does.

Nearest is exact: the haversine distance to every candidate (a few thousand floats), the k smallest
by (distance, id) — the same order a brute-force sort gives. "Open now" is one boolean per station,
computed once per minute (opening hours have minute resolution, so it cannot change within a minute).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from linli.stations.hours import Period, Schedule, day_type
from linli.stations.walking import haversine_scalar_m

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class StationEntry:
    id: int
    code: str
    name: str
    kind: str
    address: str
    phone: str
    lat: float
    lng: float
    region_id: int
    schedule: Schedule


class Hit(NamedTuple):  # a tuple: built three times a request, a frozen dataclass costs twice as much
    entry: StationEntry
    distance_m: float
    open_now: bool


class _OpenState(NamedTuple):
    key: tuple[int, Any]  # (minute since the epoch, calendar version)
    mask: BoolArray  # station position -> open
    flags: list[bool]  # the same as Python bools (one station at a time is cheaper from a list)
    positions: IntArray  # the open stations
    xyz: FloatArray  # and their unit vectors


@dataclass
class StationIndex:
    version: str
    entries: list[StationEntry]
    # item id -> indexes of the stations offering it (active menu line, active item)
    offers: dict[int, IntArray]
    # item code -> id, for every active catalogue item (unknown codes are an error, not "no station")
    item_ids_by_code: dict[str, int]
    ids: IntArray = field(init=False)
    lats: FloatArray = field(init=False)
    lngs: FloatArray = field(init=False)
    xyz: FloatArray = field(init=False)
    _py: tuple[list[float], list[float], list[int]] = field(init=False)
    # item id -> the unit vectors of the stations offering it (rows of ``xyz``, in ``offers`` order)
    _offers_xyz: dict[int, FloatArray] = field(init=False)
    _open: _OpenState | None = field(init=False, default=None)
    # What callers derive from this version of the stations and want to keep exactly as long (the
    # nearest endpoint's rendered stations): dropped with the index when the stamp moves.
    memo: dict[Any, Any] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = np.array([e.id for e in self.entries], dtype=np.int64)
        self.lats = np.array([e.lat for e in self.entries], dtype=np.float64)
        self.lngs = np.array([e.lng for e in self.entries], dtype=np.float64)
        # Unit vectors: the chord between two points grows with the great-circle distance, so the
        # largest dot product is the nearest station, found with one matrix-vector product.
        self.xyz = _unit_vectors(self.lats, self.lngs)
        self._py = (self.lats.tolist(), self.lngs.tolist(), self.ids.tolist())
        self._offers_xyz = {item: self.xyz[positions] for item, positions in self.offers.items()}

    def __len__(self) -> int:
        return len(self.entries)

    def item_id(self, service: str) -> int | None:
        """An active item by id ("12") or code ("ZW-MZ-001"), or None."""
        service = service.strip()
        if service.isdigit():
            item_id = int(service)
            return item_id if item_id in self._active_ids else None
        return self.item_ids_by_code.get(service)

    @property
    def _active_ids(self) -> set[int]:
        cached: set[int] | None = self.__dict__.get("_active_id_set")
        if cached is None:
            cached = set(self.item_ids_by_code.values())
            self.__dict__["_active_id_set"] = cached
        return cached

    def open_mask(self, now: dt.datetime) -> BoolArray:
        """Which stations are open at ``now`` (aware); cached for the current minute and calendar."""
        return self._open_state(now).mask

    def _open_state(self, now: dt.datetime) -> _OpenState:
        """Which stations are open, computed once per minute and calendar version."""
        from linli.workdays.rules import work_calendar

        key = (int(now.timestamp()) // 60, work_calendar().version)
        cached = self._open
        if cached is not None and cached.key == key:
            return cached
        local = timezone.localtime(now).replace(second=0, microsecond=0)
        today = local.date()
        kinds = (day_type(today), day_type(today - dt.timedelta(days=1)))
        flags = [e.schedule.is_open(local, kinds[0], kinds[1]) for e in self.entries]
        mask = np.array(flags, dtype=bool).reshape(len(flags))
        positions = np.flatnonzero(mask)
        state = _OpenState(key, mask, flags, positions, self.xyz[positions])
        self._open = state  # one assignment: another thread sees the old state or the new one
        return state

    def nearest(
        self,
        lat: float,
        lng: float,
        *,
        k: int,
        item_id: int | None = None,
        open_at: dt.datetime | None = None,
    ) -> list[Hit]:
        """The k nearest stations by great-circle distance (ties: smaller id), optionally only those
        offering ``item_id`` and/or open at ``open_at``."""
        if not self.entries or k <= 0:
            return []
        state = self._open_state(open_at or timezone.now())
        # The candidates (None: every station) and their unit vectors, precomputed for one filter.
        candidates: IntArray | None = None
        xyz = self.xyz
        if item_id is not None:
            candidates = self.offers.get(item_id, _NO_STATIONS)
            if open_at is None:
                xyz = self._offers_xyz.get(item_id, _NO_VECTORS)
            else:
                candidates = candidates[state.mask[candidates]]
                xyz = self.xyz[candidates]
        elif open_at is not None:
            candidates, xyz = state.positions, state.xyz
        if candidates is not None and candidates.size == 0:
            return []
        phi, lam = math.radians(lat), math.radians(lng)
        cos_phi = math.cos(phi)
        dot = xyz @ np.array([cos_phi * math.cos(lam), cos_phi * math.sin(lam), math.sin(phi)])
        near = _largest(dot, k) if dot.size > k else range(dot.size)
        idx = near if candidates is None else [int(candidates[j]) for j in near]
        # A handful of stations: exact distances in plain Python beat a dozen numpy calls on tiny arrays.
        lats, lngs, ids = self._py
        ranked = sorted([(haversine_scalar_m(lat, lng, lats[i], lngs[i]), ids[i], i) for i in idx])[:k]
        entries, flags = self.entries, state.flags
        return [Hit(entries[i], d, flags[i]) for d, _id, i in ranked]


_NO_STATIONS: IntArray = np.empty(0, dtype=np.int64)
_NO_VECTORS: FloatArray = np.empty((0, 3), dtype=np.float64)
# Dot products of nearly equidistant stations may differ in the last bits: all within this margin of the
# k-th are kept, and the exact haversine order decides between them.
_TIE_MARGIN = 1e-12
# Up to this k, k calls of argmax on the dot products beat one np.partition (about 0.5 µs each against
# 10 µs for 2,000 stations); above it, partition.
_ARGMAX_MAX_K = 8


def _largest(dot: FloatArray, k: int) -> list[int]:
    """Positions of the k largest values of ``dot`` (k < its size), plus every other value within
    ``_TIE_MARGIN`` of the k-th: the stations that can be among the k nearest. Overwrites ``dot``."""
    if k > _ARGMAX_MAX_K:
        kth = np.partition(dot, dot.size - k)[dot.size - k]
        return np.flatnonzero(dot >= kth - _TIE_MARGIN).tolist()
    argmax = dot.argmax
    picked = []
    kth = 0.0
    for _ in range(k):
        i = int(argmax())
        picked.append(i)
        kth = float(dot[i])
        dot[i] = -3.0  # below any dot product of two unit vectors
    if dot[argmax()] >= kth - _TIE_MARGIN:  # a tie at the edge: keep every station that is as near
        picked.extend(np.flatnonzero(dot >= kth - _TIE_MARGIN).tolist())
    return picked


def _unit_vectors(lats: FloatArray, lngs: FloatArray) -> FloatArray:
    phi, lam = np.radians(lats), np.radians(lngs)
    cos_phi = np.cos(phi)
    return np.column_stack([cos_phi * np.cos(lam), cos_phi * np.sin(lam), np.sin(phi)])


def build_index(
    *,
    version: str,
    stations: Iterable[StationEntry],
    offers: Iterable[tuple[int, int]],
    items: Iterable[tuple[int, str]],
) -> StationIndex:
    """From plain data: stations, (station id, item id) pairs, and the active items (id, code)."""
    entries = sorted(stations, key=lambda e: e.id)
    position = {e.id: i for i, e in enumerate(entries)}
    active = dict(items)
    per_item: dict[int, list[int]] = {}
    for station_id, item_id in offers:
        if station_id in position and item_id in active:
            per_item.setdefault(item_id, []).append(position[station_id])
    return StationIndex(
        version=version,
        entries=entries,
        offers={k: np.array(sorted(set(v)), dtype=np.int64) for k, v in per_item.items()},
        item_ids_by_code={code: item_id for item_id, code in active.items()},
    )


# --- the process-wide index ---------------------------------------------------------------------
_lock = threading.Lock()
# "fresh_until": the monotonic time until which the index is served without re-reading the stamp (the
# setting is read at each re-read, not on every request: a missing setting costs an exception per lookup).
_state: dict[str, Any] = {"index": None, "fresh_until": -math.inf}


def _recheck_seconds() -> float:
    return float(getattr(settings, "LINLI_STATIONS_RECHECK_SECONDS", 2))


def _current_version() -> str:
    from linli.catalog.models import ServiceItem
    from linli.stations.models import StationIndexVersion

    versions, items = StationIndexVersion._meta.db_table, ServiceItem._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT version FROM {versions} WHERE id = 1), (SELECT token FROM {versions} WHERE id = 1),"  # noqa: S608 - table names from model meta
            f" (SELECT COUNT(*) FROM {items}), (SELECT MAX(updated_at) FROM {items})"
        )
        row = cursor.fetchone()
    return "|".join(str(v) for v in row)


def _load(version: str) -> StationIndex:
    from linli.catalog.models import ServiceItem
    from linli.stations.models import Station, StationService

    stations = Station.objects.filter(is_published=True).prefetch_related("periods")
    entries = [
        StationEntry(
            id=s.id,
            code=s.code,
            name=s.name,
            kind=s.kind,
            address=s.address,
            phone=s.phone,
            lat=s.lat,
            lng=s.lng,
            region_id=s.region_id,
            schedule=Schedule.build(
                is_24h=s.is_24h,
                open_on_holidays=s.open_on_holidays,
                periods=[Period(p.weekday, p.opens, p.closes) for p in s.periods.all()],
            ),
        )
        for s in stations
    ]
    offers = StationService.objects.filter(is_active=True).values_list("station_id", "item_id")
    items = ServiceItem.objects.filter(is_active=True).values_list("id", "code")
    return build_index(version=version, stations=entries, offers=offers, items=items)


def get_station_index() -> StationIndex:
    """The current index; re-reads the stamp at most every few seconds and rebuilds when it moved."""
    now = time.monotonic()
    index: StationIndex | None = _state["index"]
    if index is not None and now < _state["fresh_until"]:
        return index
    version = _current_version()
    if index is not None and index.version == version:
        _state["fresh_until"] = now + _recheck_seconds()
        return index
    with _lock:
        index = _state["index"]
        if index is None or index.version != version:
            index = _load(version)
            _state["index"] = index
        _state["fresh_until"] = now + _recheck_seconds()
    return index


def station_index_invalidate() -> None:
    """Make this process's next lookup re-read the stamp."""
    _state["fresh_until"] = -math.inf


def station_index_changed() -> None:
    """Call inside the transaction that changed stations: re-read now, and again after the commit."""
    station_index_invalidate()
    if connection.in_atomic_block:
        transaction.on_commit(station_index_invalidate)
