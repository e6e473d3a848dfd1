"""Grid routing: which grid a point falls in, for a million points at once and for one point at a time.

    .venv/bin/python bench/grid_routing.py [--points 1000000] [--grids 5000] [--single 10000] [--repeat 3]

No database: the ``LocatorIndex`` is built directly from generated grids, exactly as ``get_locator()``
builds it from the ``Grid`` rows. Two grid sets: (a) the demo district's grids and (b) a Voronoi
tessellation of ``--grids`` cells. For each, four figures against the bare shapely work on the same data:

- ``bulk.points``  ``LocatorIndex.locate_points`` on a prebuilt point array
                   vs ``STRtree.query(points, predicate="intersects")`` on the same array      (≥ 0.8×)
- ``bulk.coords``  ``LocatorIndex.locate_many(lats, lngs)`` from coordinate arrays
                   vs ``shapely.points`` + the same ``STRtree.query``                           (≥ 0.8×)
- ``single``       ``LocatorIndex.locate(lat, lng)`` called ``--single`` times
                   vs ``tree.query(Point(lng, lat), predicate="intersects")`` per point          (≤ 2×)

Our path also does what the bare query does not: one grid per point (smallest id on shared edges), the
snap to the nearest grid within 200 m for points just outside, and validation. Points are drawn uniformly
over the grids' bounding box widened by ``MARGIN`` on each side, so a few percent fall outside.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import shapely
from shapely.geometry import mapping

from bench.common import Figure, best_of_pair, print_figures, save_results
from linli.places.locator import LocateError, LocatorIndex, PlaceRef

SEED = 20240601
MARGIN = 0.02  # of the bounding box's width and height, on each side
# Fallback demo area when linli.places.demo.geography is absent: 涪城区, 绵阳 (about 24 km × 22 km).
DEMO_BBOX = (104.60, 31.35, 104.85, 31.55)
GRIDS_PER_COMMUNITY = 12

Grid = tuple[int, str, str, int, Any]
Estate = tuple[int, str, str, Any]


# --- grid sets ----------------------------------------------------------------------------------
def lattice_grids(*, nx: int = 18, ny: int = 15, seed: int = SEED) -> list[Grid]:
    """A jittered lattice: interior vertices moved at random, so cells are irregular quadrilaterals that
    still share their edges exactly (as surveyed grids do)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = DEMO_BBOX
    xs = np.linspace(x0, x1, nx + 1)
    ys = np.linspace(y0, y1, ny + 1)
    vx, vy = np.meshgrid(xs, ys, indexing="ij")
    jitter = 0.3
    vx[1:-1, 1:-1] += rng.uniform(-jitter, jitter, (nx - 1, ny - 1)) * (xs[1] - xs[0])
    vy[1:-1, 1:-1] += rng.uniform(-jitter, jitter, (nx - 1, ny - 1)) * (ys[1] - ys[0])
    grids: list[Grid] = []
    for i in range(nx):
        for j in range(ny):
            ring = [
                (float(vx[i, j]), float(vy[i, j])),
                (float(vx[i + 1, j]), float(vy[i + 1, j])),
                (float(vx[i + 1, j + 1]), float(vy[i + 1, j + 1])),
                (float(vx[i, j + 1]), float(vy[i, j + 1])),
                (float(vx[i, j]), float(vy[i, j])),
            ]
            gid = len(grids) + 1
            geo = {"type": "Polygon", "coordinates": [ring]}
            grids.append((gid, f"网格{gid}", f"G{gid:05d}", 1 + (gid - 1) // GRIDS_PER_COMMUNITY, geo))
    return grids


def demo_grids() -> tuple[list[Grid], list[Estate], str]:
    """The demo district's grids and estates if its generator exists, else the jittered lattice."""
    try:
        from linli.places.demo.geography import generate_district
    except ImportError:
        return lattice_grids(), [], "jittered lattice (linli.places.demo.geography not found)"
    district = generate_district()
    community_ids = {c.code: n for n, c in enumerate(district.communities, start=1)}
    grids = [
        (n, g.name, g.code, community_ids[g.community_code], g.boundary)
        for n, g in enumerate(district.grids, start=1)
    ]
    estates = [
        (n, e.name, e.code, e.boundary)
        for n, e in enumerate(district.estates, start=1)
        if e.boundary is not None
    ]
    return grids, estates, "linli.places.demo.geography.generate_district()"


def voronoi_grids(n: int, *, seed: int = SEED) -> list[Grid]:
    """``n`` Voronoi cells tiling the demo bounding box (seeds uniform inside it)."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = DEMO_BBOX
    box = shapely.box(x0, y0, x1, y1)
    seeds = shapely.points(rng.uniform((x0, y0), (x1, y1), size=(n, 2)))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box))
    cells = shapely.intersection(cells, box)
    # Snap to a 1e-7° (1 cm) precision grid like stored GeoJSON; neighbours keep their shared edges.
    cells = shapely.set_precision(cells, 1e-7)
    cells = [c for c in cells if c.geom_type == "Polygon" and not c.is_empty]
    return [
        (i, f"网格{i}", f"V{i:05d}", 1 + (i - 1) // GRIDS_PER_COMMUNITY, mapping(c))
        for i, c in enumerate(cells, start=1)
    ]


def build_index(grids: list[Grid], estates: list[Estate] | None = None) -> LocatorIndex:
    chains = {
        c: (PlaceRef(c, f"社区{c}", f"C{c}"), PlaceRef(1, "街道", "S1"), PlaceRef(1, "区", "D1"))
        for c in {g[3] for g in grids}
    }
    return LocatorIndex(version="bench", grids=grids, estates=estates or [], chains=chains, tolerance_m=200.0)


def random_points(index: LocatorIndex, n: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = shapely.total_bounds(index.grid_geoms)
    dx, dy = (x1 - x0) * MARGIN, (y1 - y0) * MARGIN
    lng = rng.uniform(x0 - dx, x1 + dx, n)
    lat = rng.uniform(y0 - dy, y1 + dy, n)
    return lat, lng


# --- figures ------------------------------------------------------------------------------------
def bulk_figures(label: str, index: LocatorIndex, n: int, *, seed: int, repeat: int) -> list[Figure]:
    lat, lng = random_points(index, n, seed=seed)
    points = shapely.points(lng, lat)
    tree = index.tree

    # Same answer as the bare query wherever the bare query is unambiguous: we time the right thing.
    inputs, hits = tree.query(points, predicate="intersects")
    result = index.locate_points(points)
    one = np.bincount(inputs, minlength=n) == 1
    bare_first = np.full(n, -1)
    bare_first[inputs] = hits
    assert np.array_equal(result.grid_index[one], bare_first[one]), "locator disagrees with STRtree"
    assert np.array_equal(index.locate_many(lat, lng).grid_index, result.grid_index)
    outside = float(result.outside.mean())
    snapped = float(result.snapped.mean())

    bare_points, ours_points = best_of_pair(
        lambda: tree.query(points, predicate="intersects"), lambda: index.locate_points(points), repeat=repeat
    )
    bare_coords, ours_coords = best_of_pair(
        lambda: tree.query(shapely.points(lng, lat), predicate="intersects"),
        lambda: index.locate_many(lat, lng),
        repeat=repeat,
    )
    extra = {"grids": len(index.grid_refs), "outside_share": outside, "snapped_share": snapped}
    return [
        Figure(f"{label}.bulk.points", bare_points, ours_points, 0.8, True, n, extra=extra),
        Figure(f"{label}.bulk.coords", bare_coords, ours_coords, 0.8, True, n, extra=extra),
    ]


def single_figure(label: str, index: LocatorIndex, n: int, *, seed: int, repeat: int) -> Figure:
    lat_arr, lng_arr = random_points(index, n, seed=seed + 1)
    lats, lngs = lat_arr.tolist(), lng_arr.tolist()  # Python floats, as a request handler has them
    pairs = list(zip(lats, lngs, strict=True))
    tree = index.tree
    point = shapely.Point
    locate = index.locate

    def bare() -> None:
        for lat, lng in pairs:
            tree.query(point(lng, lat), predicate="intersects")

    def ours() -> None:
        for lat, lng in pairs:
            try:  # noqa: SIM105 -- contextlib.suppress would add its own cost to every timed call
                locate(lat, lng)
            except LocateError:
                pass

    bare_s, ours_s = best_of_pair(bare, ours, repeat=repeat)
    return Figure(
        f"{label}.single",
        bare_s,
        ours_s,
        2.0,
        False,
        n,
        extra={"grids": len(index.grid_refs)},
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--points", type=int, default=1_000_000, help="points in the bulk figures")
    parser.add_argument("--grids", type=int, default=5_000, help="Voronoi cells in the second grid set")
    parser.add_argument("--single", type=int, default=10_000, help="single-point calls")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs per timing")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)

    demo, demo_estates, demo_source = demo_grids()
    sets = [
        ("demo", demo, demo_estates),
        (f"voronoi{args.grids}", voronoi_grids(args.grids, seed=args.seed), []),
    ]
    print(f"demo grids: {len(demo)} from {demo_source}")
    figures: list[Figure] = []
    for label, grids, estates in sets:
        index = build_index(grids, estates)
        figures += bulk_figures(label, index, args.points, seed=args.seed, repeat=args.repeat)
        figures.append(single_figure(label, index, args.single, seed=args.seed, repeat=args.repeat))
    print_figures(figures)
    for f in figures:
        if "outside_share" in f.extra and f.name.endswith(".points"):
            print(
                f"  {f.name}: {f.extra['grids']} grids, {f.extra['outside_share']:.1%} of points outside, "
                f"{f.extra['snapped_share']:.1%} snapped"
            )
    params = {**vars(args), "demo_source": demo_source, "margin": MARGIN}
    path = save_results("grid_routing", figures, params)
    print(f"saved {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
    return 1 if any(f.status == "FAIL" for f in figures) else 0


if __name__ == "__main__":
    raise SystemExit(main())
