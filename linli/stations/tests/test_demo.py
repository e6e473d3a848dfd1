"""The demo network: one district center, a center inside every community, 驿站/驿家 scaled to the size."""

from __future__ import annotations

from collections import Counter

import pytest
from shapely.geometry import Point, shape

from linli.places.demo.geography import SMALL_SIZE
from linli.places.demo.loader import demo_load
from linli.places.models import Level, Region
from linli.stations.demo import stations_seed_demo
from linli.stations.models import Station, StationChecklist, StationKind, StationService


@pytest.mark.django_db
def test_the_demo_network_is_plausible_and_loads_once() -> None:
    assert stations_seed_demo().created == 0  # no demo district yet: nothing, and a clear message
    demo_load(size=SMALL_SIZE)
    result = stations_seed_demo()
    kinds = Counter(Station.objects.values_list("kind", flat=True))
    assert kinds[StationKind.DISTRICT_CENTER] == 1
    communities = list(Region.objects.filter(level=Level.COMMUNITY))
    assert kinds[StationKind.COMMUNITY_CENTER] == len(communities) == 4
    assert kinds[StationKind.POST] >= 1 and kinds[StationKind.HOME] >= 1
    for center in Station.objects.filter(kind=StationKind.COMMUNITY_CENTER).select_related("region"):
        assert shape(center.region.boundary).contains(Point(center.lng, center.lat))
    assert result.created == Station.objects.count()
    assert StationService.objects.filter(station__kind=StationKind.COMMUNITY_CENTER).count() > 4 * 20
    assert StationChecklist.objects.count() == 7 * Station.objects.count()
    assert stations_seed_demo().created == 0  # idempotent
    assert Station.objects.count() == result.created
