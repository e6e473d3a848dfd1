"""Test data for places: a small, fully nested district whose geometry tiles exactly.

``build_small_district()`` makes 1 district → 2 streets → 2 communities each → 2 grids each, plus one
estate and two buildings per grid. Squares are laid on a lattice so shared edges are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from linli.places.models import Grid, Level, Region
from linli.places.services import buildings_assign_grids, grid_create, region_create

LNG0, LAT0 = 104.60, 31.40
STEP = 0.01  # one grid cell ≈ 950 m × 1,110 m


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


@dataclass
class SmallDistrict:
    district: Region
    streets: list[Region] = field(default_factory=list)
    communities: list[Region] = field(default_factory=list)
    grids: list[Grid] = field(default_factory=list)
    estates: list[Region] = field(default_factory=list)
    buildings: list[Region] = field(default_factory=list)


def build_small_district(code: str = "T") -> SmallDistrict:
    """Lattice of 8 grid cells: x in 0..7 (street = x // 4, community = x // 2), one row high."""
    d = region_create(
        parent=None,
        level=Level.DISTRICT,
        code=f"{code}D",
        name="测试区",
        boundary=square(LNG0, LAT0, LNG0 + 8 * STEP, LAT0 + STEP),
    )
    out = SmallDistrict(district=d)
    for s in range(2):
        sx = LNG0 + s * 4 * STEP
        street = region_create(
            parent=d,
            level=Level.STREET,
            code=f"{code}S{s}",
            name=f"测试街道{s}",
            boundary=square(sx, LAT0, sx + 4 * STEP, LAT0 + STEP),
        )
        out.streets.append(street)
        for c in range(2):
            cx = sx + c * 2 * STEP
            community = region_create(
                parent=street,
                level=Level.COMMUNITY,
                code=f"{code}S{s}C{c}",
                name=f"测试社区{s}{c}",
                boundary=square(cx, LAT0, cx + 2 * STEP, LAT0 + STEP),
            )
            out.communities.append(community)
            for g in range(2):
                gx = cx + g * STEP
                grid = grid_create(
                    community=community,
                    code=f"{code}S{s}C{c}G{g}",
                    name=f"测试网格{s}{c}{g}",
                    boundary=square(gx, LAT0, gx + STEP, LAT0 + STEP),
                    households=200,
                )
                out.grids.append(grid)
                estate = region_create(
                    parent=community,
                    level=Level.ESTATE,
                    code=f"{code}S{s}C{c}G{g}E",
                    name=f"测试小区{s}{c}{g}",
                    boundary=square(gx + 0.002, LAT0 + 0.002, gx + 0.008, LAT0 + 0.008),
                )
                out.estates.append(estate)
                for b in range(2):
                    out.buildings.append(
                        region_create(
                            parent=estate,
                            level=Level.BUILDING,
                            code=f"{code}S{s}C{c}G{g}B{b}",
                            name=f"{b + 1}栋",
                            point=(LAT0 + 0.004, gx + 0.003 + b * 0.002),
                        )
                    )
    buildings_assign_grids()
    for building in out.buildings:
        building.refresh_from_db()
    return out
