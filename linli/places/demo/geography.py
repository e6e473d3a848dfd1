"""The demo district, generated deterministically and without any database access.

``generate_district(seed)`` returns the whole tree — district → streets → communities → estates → buildings,
and the grids inside communities — as plain dataclasses with GeoJSON, so the loader, the tests and the
benchmarks all see the same geometry. ``tiling.py`` makes the polygons (and explains why they tile
exactly); this module names them, codes them and counts households.

Codes follow the administrative division scheme: 涪城区 510703, streets 510703001.., communities
510703001001..; grids append 3 digits to their community's code, estates "E" + 3 digits, buildings
"B" + 3 digits to their estate's code.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from linli.places.demo import names
from linli.places.demo.tiling import (
    CENTER_LAT,
    CENTER_LNG,
    GRID_SIZE,
    Rng,
    allocate,
    building_points,
    estate_shapes,
    tile,
)
from linli.places.geometry import geometry_to_geojson

__all__ = [
    "CENTER_LAT",
    "CENTER_LNG",
    "DEFAULT_SEED",
    "DISTRICT_CODE",
    "FULL_SIZE",
    "GRID_SIZE",
    "SMALL_SIZE",
    "DemoDistrict",
    "DemoGrid",
    "DemoRegion",
    "DemoSize",
    "canonical_boundary",
    "fingerprint",
    "generate_district",
    "geojson_shape",
    "grid_fingerprint_row",
    "region_fingerprint_row",
]

DEFAULT_SEED = 2026
DISTRICT_CODE = "510703"  # 涪城区's administrative division code


@dataclass(frozen=True)
class DemoSize:
    streets: int = 4
    communities: int = 33
    grids: int = 270
    estates: int = 600
    buildings: int = 2600
    area_km2: float = 60.0

    def __post_init__(self) -> None:
        if not (
            1 <= self.streets <= self.communities <= self.grids <= self.estates <= self.buildings
            and self.area_km2 > 0
        ):
            raise ValueError("DemoSize needs 1 ≤ streets ≤ communities ≤ grids ≤ estates ≤ buildings")


FULL_SIZE = DemoSize()
SMALL_SIZE = DemoSize(streets=2, communities=4, grids=8, estates=16, buildings=40, area_km2=6.0)


@dataclass(frozen=True)
class DemoRegion:
    level: str  # a places.models.Level value (plain string: this module must not import models)
    code: str
    name: str
    parent_code: str | None
    boundary: dict[str, Any] | None  # GeoJSON Polygon, lon/lat, exactly as the services store it
    point: tuple[float, float] | None  # (lat, lng), buildings only
    households: int
    population: int
    address: str

    def fingerprint_row(self) -> list[Any]:
        return region_fingerprint_row(
            level=self.level,
            code=self.code,
            parent_code=self.parent_code,
            name=self.name,
            boundary=self.boundary,
            point=self.point,
            households=self.households,
            population=self.population,
            address=self.address,
        )


@dataclass(frozen=True)
class DemoGrid:
    code: str
    name: str
    community_code: str
    boundary: dict[str, Any]
    households: int

    def fingerprint_row(self) -> list[Any]:
        return grid_fingerprint_row(
            code=self.code,
            community_code=self.community_code,
            name=self.name,
            boundary=self.boundary,
            households=self.households,
        )


@dataclass(frozen=True)
class DemoDistrict:
    seed: int
    size: DemoSize
    district: DemoRegion
    streets: tuple[DemoRegion, ...]
    communities: tuple[DemoRegion, ...]
    estates: tuple[DemoRegion, ...]
    buildings: tuple[DemoRegion, ...]
    grids: tuple[DemoGrid, ...]

    def regions(self) -> list[DemoRegion]:
        """Every region, parents before children (the order they must be created in)."""
        return [self.district, *self.streets, *self.communities, *self.estates, *self.buildings]

    def fingerprint(self) -> str:
        return fingerprint(
            (r.fingerprint_row() for r in self.regions()), (g.fingerprint_row() for g in self.grids)
        )


# --- fingerprint: the same rows are computed from the database by the loader ------------------------
def canonical_boundary(boundary: Any) -> str | None:
    """The stored GeoJSON as normalised WKT: storing rotates a ring's start vertex, not its shape."""
    if boundary is None:
        return None
    return str(shapely.to_wkt(shapely.normalize(shape(boundary)), rounding_precision=6, trim=True))


def region_fingerprint_row(
    *,
    level: str,
    code: str,
    parent_code: str | None,
    name: str,
    boundary: Any,
    point: tuple[float | None, float | None] | None,
    households: int,
    population: int,
    address: str,
) -> list[Any]:
    return [
        "region",
        code,
        level,
        parent_code,
        name,
        canonical_boundary(boundary),
        list(point) if point else None,
        households,
        population,
        address,
    ]


def grid_fingerprint_row(
    *, code: str, community_code: str, name: str, boundary: Any, households: int
) -> list[Any]:
    return ["grid", code, community_code, name, canonical_boundary(boundary), households]


def fingerprint(region_rows: Iterable[list[Any]], grid_rows: Iterable[list[Any]]) -> str:
    rows = sorted([*region_rows, *grid_rows], key=lambda row: (row[0], row[1]))
    text = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _estate_names(rng: Rng, count: int) -> list[str]:
    combos = rng.shuffled([p + s for p in names.ESTATE_PREFIXES for s in names.ESTATE_SUFFIXES])
    return [
        combos[i % len(combos)] + ("" if i < len(combos) else f"{i // len(combos) + 1}期")
        for i in range(count)
    ]


# --- the district ---------------------------------------------------------------------------------------
class _Totals:
    """Households and population summed bottom-up by code."""

    def __init__(self) -> None:
        self._sums: dict[str, tuple[int, int]] = {}

    def add(self, code: str, households: int, population: int) -> None:
        h, p = self._sums.get(code, (0, 0))
        self._sums[code] = (h + households, p + population)

    def of(self, code: str) -> tuple[int, int]:
        return self._sums.get(code, (0, 0))


def _polygon_region(
    level: str, code: str, name: str, parent: str | None, poly: BaseGeometry, totals: _Totals, address: str
) -> DemoRegion:
    households, population = totals.of(code)
    return DemoRegion(
        level, code, name, parent, geometry_to_geojson(poly), None, households, population, address
    )


def generate_district(seed: int = DEFAULT_SEED, size: DemoSize = FULL_SIZE) -> DemoDistrict:
    rng = Rng(seed)
    tiling = tile(
        rng, streets=size.streets, communities=size.communities, grids=size.grids, area_km2=size.area_km2
    )
    # Counts follow area: at least one estate per grid and one building per estate.
    per_grid = allocate(size.estates, [p.area for p in tiling.grids], 1)
    shapes = [estate_shapes(p, n, rng) for p, n in zip(tiling.grids, per_grid, strict=True)]
    per_estate = iter(allocate(size.buildings, [e.area for grid in shapes for e in grid], 1))
    estate_names = iter(_estate_names(rng, sum(len(grid) for grid in shapes)))

    street_names = [*names.STREET_NAMES, *(f"第{i + 1}街道" for i in range(len(names.STREET_NAMES), 99))]
    spare_community_names = iter([*names.COMMUNITY_NAMES, *(f"第{i + 1}社区" for i in range(999))])
    street_codes = [f"{DISTRICT_CODE}{s + 1:03d}" for s in range(len(tiling.streets))]
    community_codes: list[str] = []
    community_names: list[str] = []
    for c, s in enumerate(tiling.community_street):
        k = tiling.community_street[: c + 1].count(s)
        community_codes.append(f"{street_codes[s]}{k:03d}")
        lead = k == 1 and s < len(names.LEAD_COMMUNITIES)  # 建国门社区, 灵通社区 as in the article
        community_names.append(names.LEAD_COMMUNITIES[s] if lead else next(spare_community_names))

    totals = _Totals()
    grids: list[DemoGrid] = []
    estates: list[DemoRegion] = []
    buildings: list[DemoRegion] = []
    estates_in_community = [0] * len(community_codes)
    for g, c in enumerate(tiling.grid_community):
        k = tiling.grid_community[: g + 1].count(c)
        grid_code = f"{community_codes[c]}{k:03d}"
        place = f"{names.CITY_PREFIX}{names.DISTRICT_NAME}{street_names[tiling.community_street[c]]}"
        place += community_names[c]
        grid_estates = []
        for estate in shapes[g]:
            estates_in_community[c] += 1
            code = f"{community_codes[c]}E{estates_in_community[c]:03d}"
            points = building_points(estate, next(per_estate), rng)
            grid_estates.append((code, next(estate_names), estate, points))
        # ~200 households per grid (seed 003), shared unevenly among its buildings.
        grid_households = 170 + rng.below(66)
        n_buildings = sum(len(e[3]) for e in grid_estates)
        weights = [rng.uniform(0.5, 1.5) for _ in range(n_buildings)]
        per_building = iter(
            allocate(grid_households, weights, min(4, grid_households // max(n_buildings, 1)))
        )
        for code, name, estate, points in grid_estates:
            for b, (lat, lng) in enumerate(points, start=1):
                households = next(per_building)
                population = round(households * rng.uniform(2.3, 2.9))
                buildings.append(
                    DemoRegion(
                        "building", f"{code}B{b:03d}", f"{b}栋", code, None, (lat, lng),
                        households, population, f"{place}{name}{b}栋",
                    )
                )  # fmt: skip
                totals.add(code, households, population)
            estates.append(
                _polygon_region("estate", code, name, community_codes[c], estate, totals, place + name)
            )
            totals.add(grid_code, *totals.of(code))
        grid_households_total = totals.of(grid_code)[0]
        grids.append(
            DemoGrid(
                grid_code,
                f"{community_names[c]}第{k}网格",
                community_codes[c],
                geometry_to_geojson(tiling.grids[g]),
                grid_households_total,
            )
        )
        totals.add(community_codes[c], *totals.of(grid_code))

    prefix = f"{names.CITY_PREFIX}{names.DISTRICT_NAME}"
    communities = []
    for c, s in enumerate(tiling.community_street):
        code = community_codes[c]
        communities.append(
            _polygon_region(
                "community", code, community_names[c], street_codes[s], tiling.communities[c], totals,
                f"{prefix}{street_names[s]}{community_names[c]}",
            )
        )  # fmt: skip
        totals.add(street_codes[s], *totals.of(code))
    streets = []
    for s, code in enumerate(street_codes):
        streets.append(
            _polygon_region(
                "street",
                code,
                street_names[s],
                DISTRICT_CODE,
                tiling.streets[s],
                totals,
                prefix + street_names[s],
            )
        )
        totals.add(DISTRICT_CODE, *totals.of(code))
    district = _polygon_region(
        "district", DISTRICT_CODE, names.DISTRICT_NAME, None, tiling.district, totals, prefix
    )
    return DemoDistrict(
        seed=seed,
        size=size,
        district=district,
        streets=tuple(streets),
        communities=tuple(communities),
        estates=tuple(estates),
        buildings=tuple(buildings),
        grids=tuple(grids),
    )


def geojson_shape(data: dict[str, Any]) -> BaseGeometry:
    """A stored GeoJSON geometry as shapely (for tests and benchmarks)."""
    return shape(data)
