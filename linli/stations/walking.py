"""The walking model: how far and how long a resident walks to a station. No database.

Streets are not straight lines, so a walk is the great-circle (haversine) distance times a detour
factor of 1.3 (typical for a city street grid: between the 1.2 of dense grids and the 1.4 of estates
with one gate), at 4.5 km/h (75 m a minute, a comfortable pace that includes older residents). So the
5-minute circle (5分钟便民生活圈, seed 003) is a straight-line radius of 5 × 75 / 1.3 ≈ 288 m and the
15-minute one (一刻钟服务圈, seed 001) ≈ 865 m. Documented in docs/stations.md.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)
DETOUR_FACTOR = 1.3
WALK_SPEED_M_PER_MIN = 4500 / 60  # 4.5 km/h
CIRCLES_MINUTES = (5, 15)


def haversine_m(lat1: Any, lng1: Any, lat2: Any, lng2: Any) -> Any:
    """Great-circle distance in metres; scalars or numpy arrays (broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(lng2) - np.radians(lng1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def haversine_scalar_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """``haversine_m`` for one pair of points, in plain floats (the same formula)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lng2 - lng1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(a, 1.0)))


def walk_metres(straight_m: float) -> float:
    return straight_m * DETOUR_FACTOR


def walk_minutes(straight_m: float) -> float:
    return straight_m * DETOUR_FACTOR / WALK_SPEED_M_PER_MIN


def radius_for_minutes(minutes: float) -> float:
    """The straight-line radius a walk of ``minutes`` reaches."""
    return minutes * WALK_SPEED_M_PER_MIN / DETOUR_FACTOR
