"""From a set of GPS fixes to a track: order, clean, split, measure, and the buildings it passed. No I/O.

The result is a function of the *set* of fixes, never of the order they arrived in, so retried and
reordered uploads give the same track. The rules, in order:

1. Fixes are ordered by (time, client sequence).
2. A fix whose reported accuracy is worse than ``max_accuracy_m`` is flagged ``low_accuracy`` and left out.
3. A lone spike — too fast to reach from the previous fix and too fast to come back from, while the
   previous and next fixes are plausibly connected — is flagged ``implausible_speed`` and left out
   (neighbours are the unflagged fixes of step 2, so the decision does not cascade).
4. The remaining fixes split into parts wherever two consecutive fixes are more than ``max_gap_s`` apart
   (phone off, tunnel) or would need more than ``max_speed_mps`` (a jump: GPS re-acquired elsewhere, a
   bus). Neither a gap nor a jump counts as walked distance or as passing buildings.
5. Distance: the sum of segment lengths inside parts, in a local transverse Mercator projection (metres).
6. Buildings passed: every building point within ``pass_radius_m`` of a part (a line, or a point for a
   one-fix part), found with an STRtree over the building points; ``passed_at`` is the time of the
   part's fix nearest to the building.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import shapely
from shapely import STRtree

from linli.places.geometry import local_transformer

LOW_ACCURACY = "low_accuracy"
IMPLAUSIBLE_SPEED = "implausible_speed"


@dataclass(frozen=True)
class Fix:
    seq: int
    at: datetime
    lat: float
    lng: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class TrackRules:
    max_speed_mps: float = 12.0  # ≈ 43 km/h: faster than any worker on foot or e-bike in a neighbourhood
    max_accuracy_m: float = 100.0
    max_gap_s: float = 300.0
    pass_radius_m: float = 30.0


@dataclass(frozen=True)
class BuildingPoint:
    id: int
    lat: float
    lng: float
    grid_id: int | None = None


@dataclass(frozen=True)
class Pass:
    building_id: int
    grid_id: int | None
    passed_at: datetime
    distance_m: float


@dataclass
class Track:
    parts: list[list[Fix]] = field(default_factory=list)
    flagged: dict[int, str] = field(default_factory=dict)  # seq -> code
    distance_m: float = 0.0
    jumps: int = 0
    origin: tuple[float, float] = (0.0, 0.0)  # (lng, lat) of the projection centre

    @property
    def accepted(self) -> list[Fix]:
        return [f for part in self.parts for f in part]

    @property
    def point_count(self) -> int:
        return sum(len(part) for part in self.parts)

    def geojson(self) -> dict[str, object]:
        """A MultiLineString of the parts (one-fix parts as degenerate two-vertex lines), lon/lat."""
        lines = [
            [[f.lng, f.lat] for f in part] if len(part) > 1 else [[part[0].lng, part[0].lat]] * 2
            for part in self.parts
        ]
        return {"type": "MultiLineString", "coordinates": lines}


def _xy(fixes: Sequence[Fix], origin: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    transformer = local_transformer(round(origin[0], 6), round(origin[1], 6))
    x, y = transformer.transform(np.array([f.lng for f in fixes]), np.array([f.lat for f in fixes]))
    return np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)


def _speed(d: float, seconds: float) -> float:
    if seconds <= 0:
        return 0.0 if d < 1.0 else math.inf  # the same instant: only a standstill is plausible
    return d / seconds


def track_origin(fixes: Sequence[Fix]) -> tuple[float, float]:
    """The projection centre: the middle of the fixes' bounding box (stable under reordering)."""
    lngs = [f.lng for f in fixes]
    lats = [f.lat for f in fixes]
    return ((min(lngs) + max(lngs)) / 2, (min(lats) + max(lats)) / 2)


def track_build(fixes: Sequence[Fix], rules: TrackRules | None = None) -> Track:
    rules = rules or TrackRules()
    track = Track()
    if not fixes:
        return track
    ordered = sorted(fixes, key=lambda f: (f.at, f.seq))
    usable: list[Fix] = []
    for f in ordered:
        if f.accuracy_m is not None and f.accuracy_m > rules.max_accuracy_m:
            track.flagged[f.seq] = LOW_ACCURACY
        else:
            usable.append(f)
    if not usable:
        return track
    track.origin = track_origin(usable)
    x, y = _xy(usable, track.origin)
    seconds = np.array([(f.at - usable[0].at).total_seconds() for f in usable])

    def dist(i: int, j: int) -> float:
        return float(math.hypot(x[j] - x[i], y[j] - y[i]))

    def speed(i: int, j: int) -> float:
        return _speed(dist(i, j), float(seconds[j] - seconds[i]))

    n = len(usable)
    keep = [True] * n
    limit = rules.max_speed_mps
    for i in range(1, n - 1):
        if speed(i - 1, i) > limit and speed(i, i + 1) > limit and speed(i - 1, i + 1) <= limit:
            keep[i] = False
            track.flagged[usable[i].seq] = IMPLAUSIBLE_SPEED
    indices = [i for i in range(n) if keep[i]]
    part: list[int] = [indices[0]]
    parts: list[list[int]] = []
    for prev, cur in itertools.pairwise(indices):
        gap = float(seconds[cur] - seconds[prev])
        if gap > rules.max_gap_s:
            parts.append(part)
            part = [cur]
        elif speed(prev, cur) > limit:
            track.jumps += 1
            parts.append(part)
            part = [cur]
        else:
            track.distance_m += dist(prev, cur)
            part.append(cur)
    parts.append(part)
    track.parts = [[usable[i] for i in p] for p in parts]
    return track


def buildings_passed(
    track: Track, buildings: Sequence[BuildingPoint], *, radius_m: float = 30.0
) -> list[Pass]:
    """The buildings within ``radius_m`` of the track's parts (STRtree ``dwithin`` over building points)."""
    if not track.parts or not buildings:
        return []
    transformer = local_transformer(round(track.origin[0], 6), round(track.origin[1], 6))
    bx, by = transformer.transform(np.array([b.lng for b in buildings]), np.array([b.lat for b in buildings]))
    bx, by = np.asarray(bx, dtype=np.float64), np.asarray(by, dtype=np.float64)
    tree = STRtree(shapely.points(bx, by))
    part_xy = [_xy(part, track.origin) for part in track.parts]
    geoms = [
        shapely.linestrings(np.column_stack(xy)) if len(xy[0]) > 1 else shapely.points(xy[0][0], xy[1][0])
        for xy in part_xy
    ]
    part_idx, bld_idx = tree.query(geoms, predicate="dwithin", distance=radius_m)
    best: dict[int, Pass] = {}
    for p, b in zip(part_idx.tolist(), bld_idx.tolist(), strict=True):
        px, py = part_xy[p]
        d2 = (px - bx[b]) ** 2 + (py - by[b]) ** 2
        nearest = int(np.argmin(d2))
        line_d = float(shapely.distance(geoms[p], shapely.points(bx[b], by[b])))
        candidate = Pass(
            building_id=buildings[b].id,
            grid_id=buildings[b].grid_id,
            passed_at=track.parts[p][nearest].at,
            distance_m=line_d,
        )
        current = best.get(b)
        if current is None or candidate.passed_at < current.passed_at:
            best[b] = candidate
    return sorted(best.values(), key=lambda s: (s.passed_at, s.building_id))


def degrees_margin(lat: float, metres: float) -> tuple[float, float]:
    """(Δlng, Δlat) covering ``metres`` around latitude ``lat``, generously: for bounding-box prefilters."""
    dlat = metres / 110_000.0
    dlng = metres / (110_000.0 * max(math.cos(math.radians(lat)), 0.01))
    return dlng, dlat
