"""GCJ-02 ↔ WGS84: the public formula of the offset Chinese web maps (高德, 腾讯) apply to coordinates.

We store WGS84 only; GCJ-02 is converted at the edges (imports). The forward formula is the widely
published one; the inverse is a fixed-point iteration of it. Outside China the offset is zero.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

_GCJ_A = 6378245.0
_GCJ_EE = 0.00669342162296594323


def _gcj_offset(lng: Any, lat: Any) -> tuple[Any, Any]:
    x, y = lng - 105.0, lat - 35.0
    common = (20.0 * np.sin(6.0 * x * math.pi) + 20.0 * np.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x)) + common
    dlat += (20.0 * np.sin(y * math.pi) + 40.0 * np.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * math.pi) + 320.0 * np.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x)) + common
    dlng += (20.0 * np.sin(x * math.pi) + 40.0 * np.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlng += (150.0 * np.sin(x / 12.0 * math.pi) + 300.0 * np.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _GCJ_EE * np.sin(rad) ** 2
    dlat = dlat * 180.0 / ((_GCJ_A * (1 - _GCJ_EE)) / (magic * np.sqrt(magic)) * math.pi)
    dlng = dlng * 180.0 / (_GCJ_A / np.sqrt(magic) * np.cos(rad) * math.pi)
    inside = (lng >= 72.004) & (lng <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return np.where(inside, dlng, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02_xy(xy: Any) -> Any:
    dlng, dlat = _gcj_offset(xy[:, 0], xy[:, 1])
    return np.column_stack([xy[:, 0] + dlng, xy[:, 1] + dlat])


def gcj02_to_wgs84_xy(xy: Any) -> Any:
    """Invert by fixed-point iteration: the offset varies slowly, five rounds reach < 1e-9 degrees."""
    wgs = xy.astype(float)
    for _round in range(5):
        dlng, dlat = _gcj_offset(wgs[:, 0], wgs[:, 1])
        wgs = np.column_stack([xy[:, 0] - dlng, xy[:, 1] - dlat])
    return wgs


def geojson_gcj02_to_wgs84(raw: Any) -> Any:
    """A GeoJSON geometry from GCJ-02 to WGS84; malformed input is returned as is, for the caller to report."""
    try:
        geom = shape(raw)
    except Exception:
        return raw  # malformed: geometry_from_geojson reports it in its own words
    return mapping(shapely.transform(geom, gcj02_to_wgs84_xy))
