"""Demo data: slots for the next 14 days at the demo centers, rooms and tools; idempotent."""

from __future__ import annotations

import pytest
import time_machine

from linli.bookings.demo import DAYS, bookings_seed_demo
from linli.bookings.models import Resource, ResourceKind, Slot
from linli.bookings.tests.factories import MONDAY
from linli.places.demo.geography import SMALL_SIZE
from linli.places.demo.loader import demo_load
from linli.stations.demo import stations_seed_demo
from linli.stations.models import Station, StationKind

pytestmark = pytest.mark.django_db


def test_the_demo_has_slots_rooms_and_tools_at_every_center_and_loads_once(
    clock: time_machine.Coordinates,
) -> None:
    assert bookings_seed_demo().slots == 0  # no demo district yet: nothing, and a clear message
    demo_load(size=SMALL_SIZE)
    stations_seed_demo()
    result = bookings_seed_demo()
    centers = Station.objects.filter(kind__in=[StationKind.COMMUNITY_CENTER, StationKind.DISTRICT_CENTER])
    assert result.slots == Slot.objects.count() > 0
    assert set(Slot.objects.values_list("station_id", flat=True)) == set(centers.values_list("pk", flat=True))
    days = sorted(set(Slot.objects.values_list("day", flat=True)))
    assert days[0] == MONDAY and (days[-1] - MONDAY).days <= DAYS - 1
    for center in centers:
        kinds = set(Resource.objects.filter(station=center).values_list("kind", flat=True))
        assert kinds == {ResourceKind.ROOM, ResourceKind.TOOL}
    again = bookings_seed_demo()
    assert (again.slots, again.resources) == (0, 0)  # idempotent
