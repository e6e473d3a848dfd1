"""Which grid, estate, community, street and district contain a point — one point or a million.

The index lives in process: an STRtree over the prepared grid polygons (lon/lat) for containment; for the
"within 200 m of a grid" fallback, the same polygons in a local metric projection, a tree of their boxes
widened by the tolerance and a coarse raster that dismisses far points without projecting them; and a tree
over the estates. It is rebuilt when the geometry version stamp moves, which each process re-reads at most
every ``LINLI_GEOMETRY_RECHECK_SECONDS`` (and at once after its own edits, commits and rollbacks), never
per request. ``bench/grid_routing.py`` holds it to the bare STRtree query's speed.

Boundaries are decided deterministically: a point on an edge shared by several grids (or estates) belongs
to the one with the smallest id. A point outside every grid but within the tolerance gets the nearest grid
and ``snapped=True``; farther away it is outside the jurisdiction (``LocateError``), never a guess.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from django.conf import settings
from shapely import STRtree

from linli.core.snapshot import TransactionWatch
from linli.places.geometry import (
    CHINA_BOUNDS,
    GeometryError,
    geometry_from_geojson,
    local_transformer,
    validate_lat_lng,
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def _point_factory() -> Callable[[float, float], Any]:
    """``shapely.Point(x, y)`` spends most of a single lookup's time checking its arguments; the ufunc under
    it builds the same point three times faster. Used only if it behaves exactly like the public one."""
    allow_nan = np.intc(0)
    try:
        fast = shapely.lib.points
        if shapely.equals_exact(fast((104.5, 31.25), allow_nan), shapely.Point(104.5, 31.25), 0):

            def point(x: float, y: float) -> Any:
                return fast((x, y), allow_nan)

            return point
    except (AttributeError, TypeError, ValueError):  # a future shapely without this private ufunc
        pass
    return shapely.Point


_point = _point_factory()


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
    path: str = ""  # the region's materialised path (estates, communities, streets, district); "" for grids


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
        if self._grid_ids.size == 0:  # no grids at all: nothing to index into
            return [None] * self.grid_index.size
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


def _coordinates(points: Any, which: IntArray) -> tuple[FloatArray, FloatArray]:
    """x and y of ``points[which]`` (NaN for empty points). Reading all points in order is cache-friendly
    and beats picking a large scattered subset."""
    subset = which.size < len(points) // 8
    chosen = points[which] if subset else points
    xy = shapely.get_coordinates(chosen)
    if len(xy) == len(chosen):  # no empty point: one row each
        x, y = xy[:, 0], xy[:, 1]
    else:
        x, y = shapely.get_x(chosen), shapely.get_y(chosen)
    return (x, y) if subset else (x[which], y[which])


class _NearMask:
    """A coarse lon/lat raster of where some grid may lie within the tolerance. Most points outside every
    grid are dismissed by integer arithmetic before any projection; the mask only ever over-includes."""

    MAX_CELLS = 4_000_000

    def __init__(
        self, bounds: Sequence[float], metric_geoms: Any, transformer: Any, tolerance_m: float
    ) -> None:
        x0, y0, x1, y1 = bounds
        mid_lat = math.radians((y0 + y1) / 2)
        far_lat = math.radians(min(89.0, max(abs(y0), abs(y1)) + 1.0))
        # Widen by the tolerance in degrees, generously (fewest metres per degree, less a fifth).
        x0 -= tolerance_m / (111_320.0 * math.cos(far_lat) * 0.8)
        x1 += tolerance_m / (111_320.0 * math.cos(far_lat) * 0.8)
        y0 -= tolerance_m / (110_574.0 * 0.8)
        y1 += tolerance_m / (110_574.0 * 0.8)
        cell_m = max(tolerance_m / 2, 10.0)
        cy = cell_m / 111_000.0
        cx = cell_m / (111_000.0 * math.cos(mid_lat))
        scale = max(1.0, math.sqrt((x1 - x0) / cx * (y1 - y0) / cy / self.MAX_CELLS))
        cx, cy = cx * scale, cy * scale
        nx, ny = max(1, math.ceil((x1 - x0) / cx)), max(1, math.ceil((y1 - y0) / cy))
        # Every point of a cell is within this many metres of its centre (most metres per degree, +5%).
        half_diagonal = 0.5 * math.hypot(cx * 111_320.0, cy * 111_700.0) * 1.05
        gx, gy = np.meshgrid(x0 + (np.arange(nx) + 0.5) * cx, y0 + (np.arange(ny) + 0.5) * cy)
        mx, my = transformer.transform(gx.ravel(), gy.ravel())
        centres = shapely.points(np.asarray(mx), np.asarray(my))
        near, _ = STRtree(metric_geoms).query(
            centres, predicate="dwithin", distance=tolerance_m + half_diagonal
        )
        mask = np.zeros(nx * ny, dtype=bool)
        mask[near] = True
        self.mask = mask.reshape(ny, nx)
        self.origin, self.cell, self.shape = (x0, y0), (cx, cy), (nx, ny)

    def maybe_near(self, lngs: FloatArray, lats: FloatArray) -> BoolArray:
        fx = (lngs - self.origin[0]) / self.cell[0]
        fy = (lats - self.origin[1]) / self.cell[1]
        # NaN fails every comparison, so invalid points are never "near".
        ok = (fx >= 0) & (fx < self.shape[0]) & (fy >= 0) & (fy < self.shape[1])
        result = np.zeros(lngs.size, dtype=bool)
        result[ok] = self.mask[fy[ok].astype(np.intp), fx[ok].astype(np.intp)]
        return result

    def maybe_near_one(self, lng: float, lat: float) -> bool:
        fx = (lng - self.origin[0]) / self.cell[0]
        fy = (lat - self.origin[1]) / self.cell[1]
        if not (0 <= fx < self.shape[0] and 0 <= fy < self.shape[1]):
            return False
        return bool(self.mask[int(fy), int(fx)])


class LocatorIndex:
    def __init__(
        self,
        *,
        version: str,
        grids: Sequence[tuple[int, str, str, int, Any]],
        estates: Sequence[tuple[int, str, str, Any]],
        chains: dict[int, tuple[PlaceRef, PlaceRef, PlaceRef]],
        tolerance_m: float,
        estate_paths: dict[int, str] | None = None,
    ) -> None:
        self.version = version
        self.tolerance_m = tolerance_m
        ordered = sorted(grids, key=lambda g: g[0])
        self.grid_ids: IntArray = np.array([g[0] for g in ordered], dtype=np.int64)
        self.grid_refs = [PlaceRef(g[0], g[1], g[2]) for g in ordered]
        self.grid_community = [g[3] for g in ordered]
        self.chains = chains
        # Names by id, for answers that name a located case's places without a query.
        self.grid_names = {ref.id: ref.name for ref in self.grid_refs}
        self.community_names = {chain[0].id: chain[0].name for chain in chains.values()}
        # Per grid index, everything a Location needs, so a lookup is one list access.
        self._grid_chain = [
            (ref, *chains[c]) for ref, c in zip(self.grid_refs, self.grid_community, strict=True)
        ]
        geoms = np.array([geometry_from_geojson(g[4]) for g in ordered], dtype=object)
        # Prepared polygons answer point-in-polygon with an edge index instead of a walk over every edge.
        shapely.prepare(geoms)
        self.grid_geoms = geoms
        self.tree = STRtree(geoms)
        if len(geoms):
            min_x, min_y, max_x, max_y = shapely.total_bounds(geoms)
            self.origin = ((min_x + max_x) / 2, (min_y + max_y) / 2)
        else:
            min_y = max_y = 31.0
            self.origin = (104.0, 31.0)
        self._transformer = local_transformer(round(self.origin[0], 6), round(self.origin[1], 6))
        metric = np.array([self._to_metric(g) for g in geoms], dtype=object)
        self.metric_geoms = metric
        self._near = _NearMask(
            shapely.total_bounds(geoms) if len(geoms) else (0.0, 0.0, 0.0, 0.0),
            metric,
            self._transformer,
            tolerance_m,
        )
        # Each grid's metric bounding box widened by the tolerance: a point outside all of them is beyond
        # the tolerance of every grid, so only the few inside get an exact distance.
        box = shapely.bounds(metric).reshape(-1, 4)
        t = tolerance_m
        self._metric_bounds: FloatArray = box
        self._reach_tree = STRtree(shapely.box(box[:, 0] - t, box[:, 1] - t, box[:, 2] + t, box[:, 3] + t))
        est_sorted = sorted(estates, key=lambda e: e[0])
        paths = estate_paths or {}
        self.estate_refs = [PlaceRef(e[0], e[1], e[2], paths.get(e[0], "")) for e in est_sorted]
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
        """The chain for one point, or ``LocateError``. Same rules as ``locate_points``, point by point."""
        try:
            validate_lat_lng(lat, lng)
        except GeometryError as exc:
            raise LocateError(exc.code, exc.message) from exc
        if not self.grid_refs:
            raise LocateError("no_grids", "尚未配置网格,无法定位")
        point = _point(lng, lat)
        hits = self.tree.query(point, predicate="intersects")
        if hits.size == 1:  # the usual case: strictly inside one grid
            idx, snapped, distance = int(hits[0]), False, 0.0
        elif hits.size:  # on an edge or vertex shared by several grids: the smallest id wins
            idx, snapped, distance = int(hits.min()), False, 0.0
        else:
            idx, distance = self._snap_one(lat, lng)
            if idx < 0:
                raise LocateError("outside_jurisdiction", "该位置不在本辖区范围内")
            snapped = True
        grid, community, street, district = self._grid_chain[idx]
        return Location(lat, lng, grid, community, street, district, snapped, distance, self)

    def estate_at(self, lat: float, lng: float) -> PlaceRef | None:
        hits = self.estate_tree.query(_point(lng, lat), predicate="intersects")
        return self.estate_refs[int(hits.min())] if hits.size else None

    def _snap_one(self, lat: float, lng: float) -> tuple[int, float]:
        """``_snap_many`` for one valid point, without array overhead: (grid index or -1, metres)."""
        if not self._near.maybe_near_one(lng, lat):
            return -1, math.inf
        x, y = self._transformer.transform(lng, lat)
        here = _point(x, y)
        cands = self._reach_tree.query(here)
        if cands.size == 0:
            return -1, math.inf
        dists = shapely.distance(self.metric_geoms[cands], here).tolist()
        tol = self.tolerance_m
        best = min(((d, i) for d, i in zip(dists, cands.tolist(), strict=True) if d <= tol), default=None)
        return (-1, math.inf) if best is None else (best[1], best[0])

    def _snap_many(self, lngs: FloatArray, lats: FloatArray) -> IntArray:
        """For points outside every grid: the index of the nearest grid within the tolerance (metres, in
        the local projection; on a tie the smallest id), or -1. ``_snap_one`` is the same rule.

        Works from coordinates only: fresh metric points are cheap, while reading scattered points back
        costs a cache miss each.
        """
        nearest = np.full(lngs.size, -1, dtype=np.int64)
        lo_x, lo_y, hi_x, hi_y = CHINA_BOUNDS
        # One point's validity rule: what ``locate`` refuses is never snapped here (NaN compares False).
        valid = (lngs >= lo_x) & (lngs <= hi_x) & (lats >= lo_y) & (lats <= hi_y)
        cand = np.flatnonzero(valid & self._near.maybe_near(lngs, lats))
        if cand.size == 0:
            return nearest
        mx, my = self._transformer.transform(lngs[cand], lats[cand])
        mx, my = np.asarray(mx, dtype=np.float64), np.asarray(my, dtype=np.float64)
        here = shapely.points(mx, my)
        p_idx, g_idx = self._reach_tree.query(here)
        if p_idx.size == 0:
            return nearest
        px, py = mx[p_idx], my[p_idx]
        mb = self._metric_bounds[g_idx]
        # The distance to a grid's box is a lower bound of the distance to the grid: drop the corners.
        dx = np.maximum(np.maximum(mb[:, 0] - px, px - mb[:, 2]), 0.0)
        dy = np.maximum(np.maximum(mb[:, 1] - py, py - mb[:, 3]), 0.0)
        reach = self.tolerance_m * (1 + 1e-9)  # never drop a pair that rounding puts at the tolerance
        keep = dx * dx + dy * dy <= reach * reach
        p_idx, g_idx = p_idx[keep], g_idx[keep]
        dist = shapely.distance(here[p_idx], self.metric_geoms[g_idx])
        keep = dist <= self.tolerance_m
        p_idx, g_idx, dist = p_idx[keep], g_idx[keep], dist[keep]
        if p_idx.size == 0:
            return nearest
        if np.any(p_idx[1:] < p_idx[:-1]):  # the tree answers in input order; don't rely on it blindly
            order = np.argsort(p_idx, kind="stable")
            p_idx, g_idx, dist = p_idx[order], g_idx[order], dist[order]
        # Per point: the nearest distance, then the smallest grid index at exactly that distance.
        starts = np.flatnonzero(np.r_[True, p_idx[1:] != p_idx[:-1]])
        sizes = np.diff(np.r_[starts, p_idx.size])
        at_min = dist == np.repeat(np.minimum.reduceat(dist, starts), sizes)
        best = np.minimum.reduceat(np.where(at_min, g_idx, np.iinfo(np.int64).max), starts)
        nearest[cand[p_idx[starts]]] = best
        return nearest

    # --- many points ------------------------------------------------------------------------------
    def locate_points(
        self, points: Any, *, lngs: FloatArray | None = None, lats: FloatArray | None = None
    ) -> BulkLocation:
        """Route an array of shapely points (x = lng, y = lat). Invalid or remote points get -1.

        ``lngs``/``lats``, when the caller has them, spare reading the coordinates back from the points.
        """
        points = np.asarray(points, dtype=object)
        n = len(points)
        # Bounding-box candidates, then the prepared polygons decide: the same predicate as
        # ``query(predicate="intersects")``, faster because the polygons' edge indexes are built once.
        inputs, tree_idx = self.tree.query(points)
        if lngs is None or lats is None:
            inside = shapely.intersects(self.grid_geoms[tree_idx], points[inputs])
        else:  # the same test from the coordinates: no second array of point objects to gather
            inside = shapely.intersects_xy(self.grid_geoms[tree_idx], lngs[inputs], lats[inputs])
        grid_index = _first_hit(
            n, inputs[inside].astype(np.int64, copy=False), tree_idx[inside].astype(np.int64, copy=False)
        )
        snapped = np.zeros(n, dtype=bool)
        missing = np.flatnonzero(grid_index < 0)
        if missing.size:
            if lngs is None or lats is None:
                lngs, lats = _coordinates(points, missing)
            else:
                lngs, lats = lngs[missing], lats[missing]
            nearest = self._snap_many(lngs, lats)
            found = nearest >= 0
            grid_index[missing[found]] = nearest[found]
            snapped[missing[found]] = True
        return BulkLocation(grid_index=grid_index, snapped=snapped, _grid_ids=self.grid_ids)

    def locate_many(
        self, lats: Sequence[float] | FloatArray, lngs: Sequence[float] | FloatArray
    ) -> BulkLocation:
        lat_arr = np.asarray(lats, dtype=np.float64)
        lng_arr = np.asarray(lngs, dtype=np.float64)
        return self.locate_points(shapely.points(lng_arr, lat_arr), lngs=lng_arr, lats=lat_arr)


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
    estate_rows = list(
        Region.objects.filter(level=Level.ESTATE)
        .exclude(boundary=None)
        .only("id", "name", "code", "path", "boundary")
    )
    estates = [(e.id, e.name, e.code, e.boundary) for e in estate_rows]
    regions = {
        r.id: r
        for r in Region.objects.filter(level__in=[Level.DISTRICT, Level.STREET, Level.COMMUNITY]).only(
            "id", "name", "code", "parent_id", "path"
        )
    }
    chains: dict[int, tuple[PlaceRef, PlaceRef, PlaceRef]] = {}
    for community_id in {g[3] for g in grids}:
        community = regions[community_id]
        street = regions[community.parent_id]  # type: ignore[index]
        district = regions[street.parent_id]  # type: ignore[index]
        chains[community_id] = (
            PlaceRef(community.id, community.name, community.code, community.path),
            PlaceRef(street.id, street.name, street.code, street.path),
            PlaceRef(district.id, district.name, district.code, district.path),
        )
    return LocatorIndex(
        version=version,
        grids=grids,
        estates=estates,
        chains=chains,
        tolerance_m=float(settings.LINLI_LOCATE_TOLERANCE_M),
        estate_paths={e.id: e.path for e in estate_rows},
    )


def get_locator() -> LocatorIndex:
    """The current index; re-reads the version stamp at most every few seconds, rebuilds when it moved."""
    _watch.check()  # a change of this thread committed or rolled back since: re-read
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
    _state["checked_at"] = -math.inf


_watch = TransactionWatch(locator_invalidate)


def locator_geometry_changed(using: str | None = None) -> None:
    """Call inside the transaction that changes geometry: the stamp is re-read now (this transaction sees
    its own change), after the commit, and after a rollback, so an index this process built from the
    uncommitted change cannot outlive it. (Another thread may serve that index until its next re-read.)"""
    _watch.changed(using)
