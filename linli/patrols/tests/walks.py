"""Plausible GPS walks for tests: a worker strolling through grid 0 of the small district."""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from linli.patrols.services import PointIn
from linli.places.tests.factories import LAT0, LNG0

# Grid 0 spans lng LNG0..LNG0+0.01, lat LAT0..LAT0+0.01; its two buildings sit at lat LAT0+0.004,
# lng LNG0+0.003 and LNG0+0.005. This street runs 11 m north of them.
STREET_LAT = LAT0 + 0.0041
M_PER_DEG_LAT = 111_320.0


def m_to_deg(lat: float, north_m: float, east_m: float) -> tuple[float, float]:
    return north_m / M_PER_DEG_LAT, east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat)))


def walk(
    t0: datetime,
    *,
    steps: int = 100,
    lat: float = STREET_LAT,
    lng: float = LNG0 + 0.001,
    step_m: float = 7.0,
    every_s: int = 5,
    heading_deg: float = 90.0,
    jitter_m: float = 0.0,
    seed: int = 0,
    first_seq: int = 0,
) -> list[PointIn]:
    """``steps`` fixes ``every_s`` seconds apart, ``step_m`` metres apart along ``heading_deg`` (0 = north)."""
    rng = random.Random(seed)
    out = []
    for i in range(steps):
        north = math.cos(math.radians(heading_deg)) * step_m * i + rng.uniform(-jitter_m, jitter_m)
        east = math.sin(math.radians(heading_deg)) * step_m * i + rng.uniform(-jitter_m, jitter_m)
        dlat, dlng = m_to_deg(lat, north, east)
        out.append(
            PointIn(
                seq=first_seq + i,
                at=t0 + timedelta(seconds=every_s * i),
                lat=lat + dlat,
                lng=lng + dlng,
                accuracy_m=8.0,
            )
        )
    return out


def batches(points: list[PointIn], size: int) -> list[list[PointIn]]:
    return [points[i : i + size] for i in range(0, len(points), size)]
