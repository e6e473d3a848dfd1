"""Which grid, estate, community, street and district contain a point — one point or a million.

The index lives in process: an STRtree over the grid polygons (lon/lat) for containment, a second one over
the same polygons in a local metric projection for the "within 200 m of a grid" fallback, and one over the
estates. It is rebuilt when the geometry version stamp moves, which each process re-reads at most every
``LINLI_GEOMETRY_RECHECK_SECONDS`` (and at once after its own edits), never per request.

Boundaries are decided deterministically: a point on an edge shared by several grids (or estates) belongs
to the one with the smallest id. A point outside every grid but within the tolerance gets the nearest grid
and ``snapped=True``; farther away it is outside the jurisdiction (``LocateError``), never a guess.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from django.conf import settings
from shapely import STRtree

from linli.places.geometry import GeometryError, geometry_from_geojson, local_transformer, validate_lat_lng

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


class LocateError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class PlaceRef:
    id: int
    name: str
    code: str


@dataclass(frozen=True)
class Location:
    """The chain for one point. ``snapped`` means: outside every grid, given the nearest within tolerance."""

    lat: float
    lng: float
    grid: PlaceRef
    community: PlaceRef
    street: PlaceRef
    district: PlaceRef
    snapped: bool
    distance_m: float
    _index: LocatorIndex = field(repr=False, compare=False)

    @property
    def estate(self) -> PlaceRef | None:
        """The estate (小区) containing the point, if any: estates need not cover the whole grid."""
        return self._index.estate_at(self.lat, self.lng)


@dataclass
class BulkLocation:
    """Results for N points as arrays: ``grid_index`` is -1 outside the jurisdiction."""

    grid_index: IntArray
    snapped: BoolArray
    _grid_ids: IntArray

    def grid_ids(self) -> list[int | None]:
        ids = np.where(self.grid_index >= 0, self._grid_ids[np.maximum(self.grid_index, 0)], -1)
        return [None if v < 0 else int(v) for v in ids.tolist()]

    @property
    def outside(self) -> BoolArray:
        result: BoolArray = self.grid_index < 0
        return result


def _first_hit(n: int, inputs: IntArray, tree_idx: IntArray) -> IntArray:
    """For each input, the smallest tree index it hit, or -1. Fast path: most inputs hit exactly one."""
    out = np.full(n, -1, dtype=np.int64)
    if inputs.size == 0:
        return out
    out[inputs] = tree_idx
    counts = np.bincount(inputs, minlength=n)
    multi = counts > 1
    if multi.any():
        sel = multi[inputs]
        big = np.iinfo(np.int64).max
        fix = np.full(n, big, dtype=np.int64)
        np.minimum.at(fix, inputs[sel], tree_idx[sel])
        out[multi] = fix[multi]
    return out


class LocatorIndex:
    def __init__(
        self,
        *,
        version: str,
        grids: Sequence[tuple[int, str, str, int, Any]],
        estates: Sequence[tuple[int, str, str, Any]],
        chains: dict[int, tuple[PlaceRef, PlaceRef, PlaceRef]],
        tolerance_m: float,
    ) -> None:
        self.version = version
        self.tolerance_m = tolerance_m
        ordered = sorted(grids, key=lambda g: g[0])
        self.grid_ids: IntArray = np.array([g[0] for g in ordered], dtype=np.int64)
        self.grid_refs = [PlaceRef(g[0], g[1], g[2]) for g in ordered]
        self.grid_community = [g[3] for g in ordered]
        self.chains = chains
        geoms = np.array([geometry_from_geojson(g[4]) for g in ordered], dtype=object)
        shapely.prepare(geoms)
        self.grid_geoms = geoms
        self.tree = STRtree(geoms)
        if len(geoms):
            min_x, min_y, max_x, max_y = shapely.total_bounds(geoms)
            self.origin = ((min_x + max_x) / 2, (min_y + max_y) / 2)
        else:
            self.origin = (104.0, 31.0)
        self._transformer = local_transformer(round(self.origin[0], 6), round(self.origin[1], 6))
        metric = np.array([self._to_metric(g) for g in geoms], dtype=object)
        self.metric_tree = STRtree(metric)
        est_sorted = sorted(estates, key=lambda e: e[0])
        self.estate_refs = [PlaceRef(e[0], e[1], e[2]) for e in est_sorted]
        est_geoms = np.array([geometry_from_geojson(e[3]) for e in est_sorted], dtype=object)
        shapely.prepare(est_geoms)
        self.estate_tree = STRtree(est_geoms)

    def _to_metric(self, geom: Any) -> Any:
        def project(xy: Any) -> Any:
            x, y = self._transformer.transform(xy[:, 0], xy[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geom, project)

    # --- one point --------------------------------------------------------------------------------
    def locate(self, lat: float, lng: float) -> Location:
        try:
            validate_lat_lng(lat, lng)
        except GeometryError as exc:
            raise LocateError(exc.code, exc.message) from exc
        if not self.grid_refs:
            raise LocateError("no_grids", "尚未配置网格,无法定位")
        hits = self.tree.query(shapely.Point(lng, lat), predicate="intersects")
        snapped = False
        distance = 0.0
        if hits.size:
            idx = int(hits.min())
        else:
            x, y = self._transformer.transform(lng, lat)
            near, dist = self.metric_tree.query_nearest(
                shapely.Point(x, y), max_distance=self.tolerance_m, return_distance=True
            )
            if near.size == 0:
                raise LocateError("outside_jurisdiction", "该位置不在本辖区范围内")
            order = np.lexsort((near, dist))  # nearest first, then smallest index: deterministic
            idx, distance, snapped = int(near[order[0]]), float(dist[order[0]]), True
        community, street, district = self.chains[self.grid_community[idx]]
        return Location(lat, lng, self.grid_refs[idx], community, street, district, snapped, distance, self)

    def estate_at(self, lat: float, lng: float) -> PlaceRef | None:
        hits = self.estate_tree.query(shapely.Point(lng, lat), predicate="intersects")
        return self.estate_refs[int(hits.min())] if hits.size else None

    # --- many points ------------------------------------------------------------------------------
    def locate_points(self, points: Any) -> BulkLocation:
        """Route an array of shapely points (x = lng, y = lat). Invalid or remote points get -1."""
        points = np.asarray(points, dtype=object)
        n = len(points)
        inputs, tree_idx = self.tree.query(points, predicate="intersects")
        grid_index = _first_hit(n, inputs.astype(np.int64, copy=False), tree_idx.astype(np.int64, copy=False))
        snapped = np.zeros(n, dtype=bool)
        missing = np.flatnonzero(grid_index < 0)
        if missing.size:
            xs = shapely.get_x(points[missing])
            ys = shapely.get_y(points[missing])
            finite = np.isfinite(xs) & np.isfinite(ys)
            missing, xs, ys = missing[finite], xs[finite], ys[finite]
            if missing.size:
                mx, my = self._transformer.transform(xs, ys)
                near_in, near_tree = self.metric_tree.query_nearest(
                    shapely.points(mx, my), max_distance=self.tolerance_m, all_matches=True
                )
                nearest = _first_hit(missing.size, near_in.astype(np.int64), near_tree.astype(np.int64))
                found = nearest >= 0
                grid_index[missing[found]] = nearest[found]
                snapped[missing[found]] = True
        return BulkLocation(grid_index=grid_index, snapped=snapped, _grid_ids=self.grid_ids)

    def locate_many(
        self, lats: Sequence[float] | FloatArray, lngs: Sequence[float] | FloatArray
    ) -> BulkLocation:
        lat_arr = np.asarray(lats, dtype=np.float64)
        lng_arr = np.asarray(lngs, dtype=np.float64)
        return self.locate_points(shapely.points(lng_arr, lat_arr))


# --- the process-wide index ---------------------------------------------------------------------
_lock = threading.Lock()
_state: dict[str, Any] = {"index": None, "checked_at": 0.0}


def _current_version() -> str:
    from linli.places.models import GeometryVersion

    row = GeometryVersion.objects.filter(pk=1).values_list("version", "token").first()
    return f"{row[0]}:{row[1]}" if row else "0:"


def _build(version: str) -> LocatorIndex:
    from linli.places.models import Grid, Level, Region

    grids = [
        (g.id, g.name, g.code, g.community_id, g.boundary)
        for g in Grid.objects.exclude(boundary=None).only("id", "name", "code", "community_id", "boundary")
    ]
    estates = [
        (e.id, e.name, e.code, e.boundary)
        for e in Region.objects.filter(level=Level.ESTATE)
        .exclude(boundary=None)
        .only("id", "name", "code", "boundary")
    ]
    regions = {
        r.id: r
        for r in Region.objects.filter(level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY]).only(
            "id", "name", "code", "parent_id"
        )
    }
    chains: dict[int, tuple[PlaceRef, PlaceRef, PlaceRef]] = {}
    for community_id in {g[3] for g in grids}:
        community = regions[community_id]
        street = regions[community.parent_id]  # type: ignore[index]
        district = regions[street.parent_id]  # type: ignore[index]
        chains[community_id] = (
            PlaceRef(community.id, community.name, community.code),
            PlaceRef(street.id, street.name, street.code),
            PlaceRef(district.id, district.name, district.code),
        )
    return LocatorIndex(
        version=version,
        grids=grids,
        estates=estates,
        chains=chains,
        tolerance_m=float(settings.LINLI_LOCATE_TOLERANCE_M),
    )


def get_locator() -> LocatorIndex:
    """The current index; re-reads the version stamp at most every few seconds, rebuilds when it moved."""
    now = time.monotonic()
    index: LocatorIndex | None = _state["index"]
    if index is not None and now - _state["checked_at"] < settings.LINLI_GEOMETRY_RECHECK_SECONDS:
        return index
    version = _current_version()
    if index is not None and index.version == version:
        _state["checked_at"] = now
        return index
    with _lock:
        index = _state["index"]
        if index is None or index.version != version:
            index = _build(version)
            _state["index"] = index
        _state["checked_at"] = now
    return index


def locator_invalidate() -> None:
    """Force the next call to re-read the stamp (this process just changed geometry)."""
    _state["checked_at"] = 0.0
