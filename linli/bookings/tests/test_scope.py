"""Scope: a community's window staff see and act on only their stations' appointments, records, rooms and
loans; the street and district see their subtree; everyone else gets 404. ``for_user`` and ``may_view``
agree for every user and row (AC-2)."""

from __future__ import annotations

import pytest
import time_machine
from django.test import Client

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, staff_with_role
from linli.bookings.models import Appointment, Outcome, ServiceRecord
from linli.bookings.services import appointment_book, appointment_check_in, service_record_create
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.core.scoping import may_view

pytestmark = pytest.mark.django_db


@pytest.fixture
def two(bw: BookingWorld, clock: time_machine.Coordinates) -> tuple[Appointment, Appointment]:
    a0 = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    a2 = appointment_book(resident=bw.resident2, slot_id=bw.slot(station=bw.station2, hour=9).pk)
    clock.move_to(at(MONDAY, 8, 30))
    return a0, a2


# who, and which of (station0's, station2's) appointment they see
SEES = [
    ("window0", (True, False)),
    ("window2", (False, True)),
    ("back_office0", (True, False)),
    ("secretary0", (True, False)),
    ("street0", (True, False)),
    ("district", (True, True)),
    ("grid0", (False, False)),
    ("resident", (True, False)),  # their own
    ("resident2", (False, True)),
    ("unit", (False, False)),
]


def _user(bw: BookingWorld, who: str) -> User:
    if who == "district":
        return staff_with_role(Role.DISTRICT_STAFF, district=bw.d)
    if who == "unit":
        return staff_with_role(Role.UNIT_HANDLER, district=bw.d)
    return getattr(bw, who)  # type: ignore[no-any-return]


def test_each_user_sees_exactly_the_appointments_in_scope_and_may_view_agrees(
    bw: BookingWorld, two: tuple[Appointment, Appointment]
) -> None:
    for who, sees in SEES:
        user = _user(bw, who)
        visible = set(Appointment.objects.for_user(user).values_list("pk", flat=True))
        assert [a.pk in visible for a in two] == list(sees), who
        assert [may_view(user, a) for a in two] == list(sees), who


@pytest.mark.parametrize(("who", "sees"), SEES, ids=[w for w, _ in SEES])
def test_the_api_answers_404_outside_the_scope(
    client: Client, bw: BookingWorld, two: tuple[Appointment, Appointment], who: str, sees: tuple[bool, bool]
) -> None:
    user = _user(bw, who)
    client.force_login(user)
    for appointment, seen in zip(two, sees, strict=True):
        assert client.get(f"/api/bookings/appointments/{appointment.pk}").status_code == (
            200 if seen else 404
        )
    for station, manages in (
        (bw.station0, who in {"window0", "back_office0", "secretary0"}),
        (bw.station2, who == "window2"),
    ):
        r = client.get(f"/api/bookings/stations/{station.pk}/queue")
        assert r.status_code == (200 if manages else 404), (who, station)
        page = client.get(f"/bookings/desk/{station.pk}/")
        assert page.status_code == (200 if manages else 404), (who, station)


def test_check_in_and_records_only_at_ones_own_stations(
    client: Client, bw: BookingWorld, two: tuple[Appointment, Appointment]
) -> None:
    a0, a2 = two
    assert client.login(username=bw.window0.username, password=PASSWORD)
    r = client.post(f"/api/bookings/appointments/{a2.pk}/check-in")
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = client.post(
        "/api/bookings/records",
        {"station_id": bw.station2.pk, "item": bw.item.code, "outcome": "consulted", "minutes": 5},
        content_type="application/json",
    )
    assert r.status_code == 404
    assert not ServiceRecord.objects.exists()
    a2.refresh_from_db()
    assert a2.status == "booked"
    assert client.post(f"/api/bookings/appointments/{a0.pk}/check-in").json()["queue_number"] == "A001"


def test_records_and_workload_are_scoped(bw: BookingWorld, two: tuple[Appointment, Appointment]) -> None:
    a0 = two[0]
    appointment_check_in(appointment_id=a0.pk, actor=bw.window0)
    service_record_create(
        actor=bw.window0,
        station_id=bw.station0.pk,
        item_id=None,
        outcome=Outcome.COMPLETED,
        minutes=12,
        appointment_id=a0.pk,
    )
    service_record_create(
        actor=bw.window2, station_id=bw.station2.pk, item_id=bw.item2.pk, outcome=Outcome.CONSULTED, minutes=3
    )
    assert ServiceRecord.objects.for_user(bw.window0).count() == 1
    assert ServiceRecord.objects.for_user(bw.street0).count() == 1
    assert ServiceRecord.objects.for_user(bw.grid0).count() == 0
    assert ServiceRecord.objects.for_user(bw.resident).count() == 0
    assert ServiceRecord.objects.for_user(_user(bw, "district")).count() == 2
