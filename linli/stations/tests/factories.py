"""Stations for tests, written through the services (so the index version moves as in production)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

from linli.catalog.models import ServiceItem
from linli.places.models import Region
from linli.stations.hours import Period
from linli.stations.models import Station, StationKind
from linli.stations.services import station_create, station_hours_replace, station_menu_set

_codes = itertools.count(1)

OFFICE_WEEK = [
    Period(d, dt.time(h1, m1), dt.time(h2, m2))
    for d in range(5)
    for (h1, m1, h2, m2) in ((9, 0, 12, 0), (13, 30, 17, 30))
]


def make_station(
    *,
    region: Region,
    kind: str = StationKind.COMMUNITY_CENTER,
    lat: float | None = None,
    lng: float | None = None,
    periods: Sequence[Period] = OFFICE_WEEK,
    items: Sequence[ServiceItem] = (),
    is_24h: bool = False,
    open_on_holidays: bool = False,
    name: str = "",
    is_published: bool = True,
) -> Station:
    n = next(_codes)
    station = station_create(
        code=f"TST-{n:05d}",
        name=name or f"测试阵地{n}",
        kind=kind,
        region=region,
        lat=lat if lat is not None else (region.lat or 31.4),
        lng=lng if lng is not None else (region.lng or 104.6),
        address=f"测试路{n}号",
        is_24h=is_24h,
        open_on_holidays=open_on_holidays,
        is_published=is_published,
    )
    if periods:
        station_hours_replace(station=station, periods=periods)
    for item in items:
        station_menu_set(station=station, item=item)
    return station
