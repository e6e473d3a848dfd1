"""Exact hierarchical tiling for the demo district: pure geometry, no names, no database.

How the polygons tile exactly:
1. Work in a local kilometre plane. An irregular outline is split by a Voronoi diagram (Lloyd-relaxed, so
   cells are of similar size) into streets; each street is split the same way into communities, each
   community into grids. These float cells only *describe* the partition.
2. All their boundaries are converted to lon/lat and noded together ONCE with snap rounding on the 1e-6°
   lattice (``union_all(..., grid_size=1e-6)``), then polygonized into faces. Every face edge is shared
   bit-for-bit by its two neighbours.
3. Each face is labelled with the grid cell it lies in; a grid is the union of its faces, a community the
   union of its grids' faces, and so on up. Children therefore tile their parent exactly, by construction.
   Snap rounding can leave a sliver labelled apart from its grid (a MultiPolygon); such parts are moved,
   top level first, to the same-parent neighbour sharing the longest edge, so every region is one Polygon.
Estates are shrunken Voronoi cells inside one grid (the gaps are roads); buildings are points inside them.

Only ``random.Random.random()`` draws numbers: Python guarantees its sequence for a seed across versions.
The rest is IEEE arithmetic in GEOS and numpy (both pinned); the only libm calls (cos/sin of the outline)
feed coordinates that are snapped to the 1e-6° lattice, so a last-bit difference cannot show.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely import STRtree
from shapely.geometry import MultiPoint, Polygon
from shapely.geometry.base import BaseGeometry

CENTER_LAT, CENTER_LNG = 31.468, 104.679
GRID_SIZE = 1e-6  # degrees; every vertex lies on this lattice, so shared edges stay exact when stored
# Kilometres per degree at 31.5°N (fixed literals rather than cos(): identical on every machine).
KM_PER_DEG_LNG = 94.948
KM_PER_DEG_LAT = 110.86


# --- random numbers from random() only --------------------------------------------------------------
class Rng:
    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)  # noqa: S311 - reproducible demo data, not secrets

    def uniform(self, low: float, high: float) -> float:
        return low + (high - low) * self._r.random()

    def below(self, n: int) -> int:
        return min(int(self._r.random() * n), n - 1)

    def shuffled(self, items: Sequence[Any]) -> list[Any]:
        out = list(items)
        for i in range(len(out) - 1, 0, -1):  # Fisher–Yates
            j = self.below(i + 1)
            out[i], out[j] = out[j], out[i]
        return out


# --- plane ↔ lon/lat ----------------------------------------------------------------------------------
def to_lonlat(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(
        geom,
        lambda xy: np.column_stack(
            [CENTER_LNG + xy[:, 0] / KM_PER_DEG_LNG, CENTER_LAT + xy[:, 1] / KM_PER_DEG_LAT]
        ),
    )


def to_km(geom: BaseGeometry) -> BaseGeometry:
    return shapely.transform(
        geom,
        lambda xy: np.column_stack(
            [(xy[:, 0] - CENTER_LNG) * KM_PER_DEG_LNG, (xy[:, 1] - CENTER_LAT) * KM_PER_DEG_LAT]
        ),
    )


# --- building blocks ----------------------------------------------------------------------------------
def _outline(rng: Rng, area_km2: float) -> Polygon:
    """A star-shaped irregular outline (a few low harmonics plus noise), scaled to the target area."""
    harmonics = [(k, rng.uniform(0.05, 0.16) / k * 2, rng.uniform(0, 2 * math.pi)) for k in (2, 3, 4, 5)]
    vertices = []
    n = 56
    for i in range(n):
        theta = 2 * math.pi * (i + rng.uniform(-0.3, 0.3)) / n
        radius = 1 + sum(a * math.cos(k * theta + phase) for k, a, phase in harmonics)
        radius *= 1 + rng.uniform(-0.035, 0.035)
        vertices.append((radius * math.cos(theta), radius * math.sin(theta)))
    poly = Polygon(vertices)
    scale = math.sqrt(area_km2 / poly.area)
    return Polygon([(x * scale, y * scale) for x, y in vertices])


def _points_in(parent: BaseGeometry, n: int, rng: Rng) -> list[tuple[float, float]]:
    min_x, min_y, max_x, max_y = parent.bounds
    shapely.prepare(parent)
    points: list[tuple[float, float]] = []
    while len(points) < n:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if shapely.contains_xy(parent, x, y):
            points.append((x, y))
    return points


def _partition(parent: BaseGeometry, n: int, rng: Rng, *, relax: int = 4) -> list[BaseGeometry]:
    """Split ``parent`` into n Voronoi cells of similar size (Lloyd relaxation), clipped to it (float)."""
    if n == 1:
        return [parent]
    points = _points_in(parent, n, rng)
    cells: list[BaseGeometry] = []
    for step in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(points), extend_to=parent, ordered=True)
        cells = [shapely.intersection(cell, parent) for cell in diagram.geoms]
        if step < relax:
            moved = []
            for cell, old in zip(cells, points, strict=True):
                if cell.is_empty:
                    moved.append(old)
                    continue
                c = cell.centroid
                if not shapely.contains_xy(parent, c.x, c.y):  # a concave parent: stay inside it
                    c = cell.representative_point()
                moved.append((c.x, c.y))
            points = moved
    return cells


def allocate(total: int, weights: Sequence[float], minimum: int) -> list[int]:
    """Split ``total`` into len(weights) integers ≥ minimum, proportional to weights (largest remainder)."""
    n = len(weights)
    rest = total - minimum * n
    if rest < 0:
        raise ValueError(f"cannot give {n} parts at least {minimum} out of {total}")
    weight_sum = sum(weights) or 1.0
    quotas = [w / weight_sum * rest for w in weights]
    floors = [int(q) for q in quotas]
    order = sorted(range(n), key=lambda i: (-(quotas[i] - floors[i]), i))
    for i in order[: rest - sum(floors)]:
        floors[i] += 1
    return [minimum + f for f in floors]


def _by_distance_from_centre(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    return sorted(cells, key=lambda c: (round(c.centroid.x**2 + c.centroid.y**2, 9), c.centroid.x))


def _reading_order(cells: list[BaseGeometry]) -> list[BaseGeometry]:
    """North to south in ~300 m bands, west to east inside a band: grid numbers read like a page."""
    return sorted(cells, key=lambda c: (-math.floor(c.centroid.y / 0.3), c.centroid.x))


# --- the exact tiling -----------------------------------------------------------------------------------
@dataclass
class _Cells:
    """The float partition: grid cells in km with their community and street indexes."""

    outline: Polygon
    street_cells: list[BaseGeometry]
    community_cells: list[BaseGeometry]
    community_street: list[int]
    grid_cells: list[BaseGeometry]
    grid_community: list[int]


def _float_partition(rng: Rng, *, streets: int, communities: int, grids: int, area_km2: float) -> _Cells:
    outline = _outline(rng, area_km2)
    street_cells = _by_distance_from_centre(_partition(outline, streets, rng))
    per_street = allocate(communities, [s.area for s in street_cells], 1)
    community_cells: list[BaseGeometry] = []
    community_street: list[int] = []
    for s, (street, n) in enumerate(zip(street_cells, per_street, strict=True)):
        for cell in _by_distance_from_centre(_partition(street, n, rng)):
            community_cells.append(cell)
            community_street.append(s)
    per_community = allocate(grids, [c.area for c in community_cells], 1)
    grid_cells: list[BaseGeometry] = []
    grid_community: list[int] = []
    for c, (community, n) in enumerate(zip(community_cells, per_community, strict=True)):
        for cell in _reading_order(_partition(community, n, rng)):
            grid_cells.append(cell)
            grid_community.append(c)
    return _Cells(outline, street_cells, community_cells, community_street, grid_cells, grid_community)


def _snapped_faces(cells: _Cells) -> list[BaseGeometry]:
    """Node every boundary of every level once on the 1e-6° lattice, then polygonize into faces."""
    rings = [cells.outline, *cells.street_cells, *cells.community_cells, *cells.grid_cells]
    lines = [to_lonlat(shapely.boundary(g)) for g in rings]
    noded = shapely.union_all(lines, grid_size=GRID_SIZE)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    return [f for f in faces if f.area > 0]


def _label_faces(faces: list[BaseGeometry], cells: _Cells) -> list[int]:
    """The grid cell each face lies in, by its interior point; boundary-hugging slivers take the nearest."""
    tree = STRtree(cells.grid_cells)
    points = [to_km(f.representative_point()) for f in faces]
    labels = []
    for point in points:
        hits = sorted(int(i) for i in tree.query(point, predicate="intersects"))
        labels.append(hits[0] if hits else int(tree.query_nearest(point)[0]))
    return labels


def _make_connected(faces: list[BaseGeometry], labels: list[int], cells: _Cells) -> None:
    """Move minor parts of split regions to a same-parent neighbour, top level first (in place)."""
    tree = STRtree(faces)

    def keys(grid: int) -> tuple[int, int, int]:
        community = cells.grid_community[grid]
        return cells.community_street[community], community, grid

    for depth in range(3):  # street, community, grid
        for _ in range(10):
            groups: dict[int, list[int]] = {}
            for i, grid in enumerate(labels):
                groups.setdefault(keys(grid)[depth], []).append(i)
            changed = False
            for key in sorted(groups):
                members = groups[key]
                merged = shapely.union_all([faces[i] for i in members], grid_size=GRID_SIZE)
                if merged.geom_type == "Polygon":
                    continue
                parts = sorted(shapely.get_parts(merged), key=lambda p: (-p.area, p.bounds))
                for part in parts[1:]:
                    inside = [i for i in members if part.contains(faces[i].representative_point())]
                    if not inside:
                        continue
                    parent = keys(labels[inside[0]])[depth - 1] if depth else None
                    best, best_len = -1, 0.0
                    for j in sorted(int(j) for j in tree.query(part)):
                        if keys(labels[j])[depth] == key or (depth and keys(labels[j])[depth - 1] != parent):
                            continue
                        shared = shapely.intersection(part.boundary, faces[j].boundary).length
                        if shared > best_len:
                            best, best_len = j, shared
                    if best >= 0:
                        for i in inside:
                            labels[i] = labels[best]
                        changed = True
            if not changed:
                break


def _union(faces: Iterable[BaseGeometry]) -> Polygon:
    merged = shapely.union_all(list(faces), grid_size=GRID_SIZE)
    if merged.geom_type != "Polygon" or not merged.is_valid:
        raise RuntimeError(f"demo generator produced a {merged.geom_type}; change the seed or the size")
    return merged


# --- estates and buildings ------------------------------------------------------------------------------
def estate_shapes(grid_lonlat: BaseGeometry, n: int, rng: Rng) -> list[Polygon]:
    """n estates inside one grid: Voronoi cells shrunk by a road, sometimes with a non-residential cell."""
    grid_km = to_km(grid_lonlat)
    spare = 1 if rng.uniform(0, 1) < 0.3 else 0  # a school, park or market: no estate there
    cells = _reading_order(_partition(grid_km, n + spare, rng, relax=2))
    if spare:
        cells.pop(rng.below(len(cells)))
    estates = []
    for cell in cells:
        road = rng.uniform(0.012, 0.03)  # half a road width, km
        shrunk: BaseGeometry = Polygon()
        for width in (road, road / 2, road / 4):
            shrunk = cell.buffer(-width, join_style="mitre", mitre_limit=2.0).simplify(0.002)
            if not shrunk.is_empty:
                break
        if shrunk.is_empty:
            continue
        largest = max(shapely.get_parts(shrunk), key=lambda p: p.area)
        snapped = shapely.set_precision(to_lonlat(largest), GRID_SIZE)
        if snapped.geom_type == "Polygon" and snapped.is_valid and grid_lonlat.contains(snapped):
            estates.append(snapped)
    return estates


def building_points(estate: Polygon, n: int, rng: Rng) -> list[tuple[float, float]]:
    """n points (lat, lng) well inside the estate, kept ~30 m apart when there is room."""
    estate_km = to_km(estate)
    inner = estate_km.buffer(-0.008)
    area = inner if not inner.is_empty else estate_km
    min_x, min_y, max_x, max_y = area.bounds
    shapely.prepare(area)
    shapely.prepare(estate)
    chosen: list[tuple[float, float]] = []
    points: list[tuple[float, float]] = []
    spacing = 0.03
    attempts = 0
    while len(points) < n:
        attempts += 1
        if attempts % 60 == 0:
            spacing /= 2  # crowded estate: let buildings stand closer
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if not shapely.contains_xy(area, x, y):
            continue
        if any((x - cx) ** 2 + (y - cy) ** 2 < spacing**2 for cx, cy in chosen):
            continue
        lng = round(CENTER_LNG + x / KM_PER_DEG_LNG, 6)
        lat = round(CENTER_LAT + y / KM_PER_DEG_LAT, 6)
        if not shapely.contains_xy(estate, lng, lat):
            continue
        chosen.append((x, y))
        points.append((lat, lng))
    return points


@dataclass(frozen=True)
class Tiling:
    """Exact lon/lat polygons; ``community_street[i]`` / ``grid_community[j]`` index the parent lists."""

    district: Polygon
    streets: list[Polygon]
    communities: list[Polygon]
    community_street: list[int]
    grids: list[Polygon]
    grid_community: list[int]


def tile(rng: Rng, *, streets: int, communities: int, grids: int, area_km2: float) -> Tiling:
    cells = _float_partition(rng, streets=streets, communities=communities, grids=grids, area_km2=area_km2)
    faces = _snapped_faces(cells)
    labels = _label_faces(faces, cells)
    _make_connected(faces, labels, cells)

    grid_faces: dict[int, list[BaseGeometry]] = {}
    for face, grid in zip(faces, labels, strict=True):
        grid_faces.setdefault(grid, []).append(face)
    if len(grid_faces) != len(cells.grid_cells):
        raise RuntimeError("a demo grid received no area; change the seed or the size")
    community_faces: dict[int, list[BaseGeometry]] = {}
    for g, c in enumerate(cells.grid_community):
        community_faces.setdefault(c, []).extend(grid_faces[g])
    street_faces: dict[int, list[BaseGeometry]] = {}
    for c, s in enumerate(cells.community_street):
        street_faces.setdefault(s, []).extend(community_faces[c])
    return Tiling(
        district=_union(faces),
        streets=[_union(street_faces[s]) for s in range(len(cells.street_cells))],
        communities=[_union(community_faces[c]) for c in range(len(cells.community_cells))],
        community_street=cells.community_street,
        grids=[_union(grid_faces[g]) for g in range(len(cells.grid_cells))],
        grid_community=cells.grid_community,
    )
