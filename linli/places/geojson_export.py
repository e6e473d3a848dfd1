"""GeoJSON export of regions and grids, in exactly the format ``geojson_io`` imports.

One feature per line (diffs stay readable), regions by path so parents come first, then grids by code,
geometry in a canonical form: export → import into an empty database → export gives the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import numpy as np
import shapely
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from linli.places.geojson_checks import GRID
from linli.places.models import Grid, Level, Region


def geojson_export_querysets(
    *, levels: Iterable[str] | None = None, grids: bool = False, under: Region | None = None
) -> tuple[QuerySet[Region], QuerySet[Grid]]:
    """What ``export_geojson`` writes: no levels and no grids means everything."""
    levels = list(levels or [])
    regions = Region.objects.all() if levels or not grids else Region.objects.none()
    if levels:
        regions = regions.filter(level__in=levels)
    grid_qs = Grid.objects.all() if grids or not levels else Grid.objects.none()
    if under is not None:
        regions = regions.filter(path__startswith=under.path)
        grid_qs = grid_qs.filter(region_path__startswith=under.path)
    return regions, grid_qs


def geojson_export(*, regions: QuerySet[Region] | None = None, grids: QuerySet[Grid] | None = None) -> str:
    """The FeatureCollection for these rows: regions by path (parents first), then grids by code."""
    properties: list[dict[str, Any]] = []
    boundaries: list[str | None] = []  # stored GeoJSON text, parsed by GEOS in one call below
    points: list[tuple[float, float] | None] = []
    text = Cast("boundary", TextField())
    if regions is not None:
        fields = ("path", "level", "code", "name", "parent__code", "households", "population", "address")
        rows = regions.annotate(text=text).values(*fields, "text", "lat", "lng")
        # Sorted here, not in SQL: collations differ between databases, the file must not.
        for r in sorted(rows, key=lambda r: r["path"]):
            properties.append(
                {
                    "level": r["level"],
                    "code": r["code"],
                    "name": r["name"],
                    "parent_code": r["parent__code"],
                    "households": r["households"],
                    "population": r["population"],
                    "address": r["address"],
                }
            )
            boundaries.append(r["text"])
            is_point = r["level"] == Level.BUILDING and r["lat"] is not None and r["lng"] is not None
            points.append((r["lng"], r["lat"]) if is_point else None)
    if grids is not None:
        grid_rows = grids.annotate(text=text).values("code", "name", "community__code", "households", "text")
        for g in sorted(grid_rows, key=lambda g: g["code"]):
            properties.append(
                {
                    "level": GRID,
                    "code": g["code"],
                    "name": g["name"],
                    "parent_code": g["community__code"],
                    "households": g["households"],
                }
            )
            boundaries.append(g["text"])
            points.append(None)
    if not properties:
        return '{"type":"FeatureCollection","features":[]}\n'
    geometries = _geometry_texts(boundaries, points)
    lines = [
        '{"type":"Feature","properties":'
        + json.dumps(p, ensure_ascii=False, separators=(",", ":"))
        + ',"geometry":'
        + g
        + "}"
        for p, g in zip(properties, geometries, strict=True)
    ]
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


def _geometry_texts(boundaries: list[str | None], points: list[tuple[float, float] | None]) -> list[str]:
    out = ["null"] * len(boundaries)
    where = [i for i, b in enumerate(boundaries) if b is not None]
    if where:
        geoms = shapely.from_geojson([boundaries[i] for i in where])
        # Canonical ring order and start vertex (the stored order is whatever GEOS left), the RFC 7946
        # right-hand rule, and 1e-6° (~0.1 m, what is stored) without float noise: same shape, same text.
        geoms = shapely.orient_polygons(shapely.normalize(geoms), exterior_cw=False)
        geoms = shapely.transform(geoms, lambda xy: np.round(xy, 6))
        for i, geojson in zip(where, shapely.to_geojson(geoms), strict=True):
            out[i] = str(geojson)
    for i, point in enumerate(points):
        if point is not None and boundaries[i] is None:
            coordinates = [round(point[0], 6), round(point[1], 6)]
            out[i] = json.dumps({"type": "Point", "coordinates": coordinates}, separators=(",", ":"))
    return out
