"""Window service records (一窗受理): booked and walk-in encounters, what they store, the workload
selector, and bad input refused with nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection

from linli.bookings.errors import BookingError
from linli.bookings.models import Outcome, ServiceRecord
from linli.bookings.selectors import workload_for_user
from linli.bookings.services import appointment_book, appointment_check_in, service_record_create
from linli.bookings.tests.factories import MONDAY, BookingWorld, at, make_item
from linli.security.crypto import is_ciphertext

pytestmark = pytest.mark.django_db


def test_a_booked_encounter_completes_its_appointment(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    clock.move_to(at(MONDAY, 8, 50))
    appointment_check_in(appointment_id=appointment.pk, actor=bw.window0)
    record = service_record_create(
        actor=bw.window0,
        station_id=bw.station0.pk,
        item_id=None,
        outcome=Outcome.ACCEPTED,
        minutes=15,
        appointment_id=appointment.pk,
        note="材料齐全",
    )
    appointment.refresh_from_db()
    assert appointment.status == "done"
    assert (record.item, record.resident, record.staff, record.queue_number) == (
        bw.item,
        bw.resident,
        bw.window0,
        "A001",
    )
    assert (record.outcome, record.minutes, record.day, record.region_path) == (
        "accepted",
        15,
        MONDAY,
        bw.station0.region_path,
    )
    assert appointment.events.get(action="complete").data == {"outcome": "accepted", "minutes": 15}
    with pytest.raises(BookingError) as info:  # one record per appointment: it is done now
        service_record_create(
            actor=bw.window0,
            station_id=bw.station0.pk,
            item_id=None,
            outcome=Outcome.COMPLETED,
            minutes=5,
            appointment_id=appointment.pk,
        )
    assert info.value.code == "invalid_transition"
    assert ServiceRecord.objects.count() == 1


def test_an_appointment_must_be_checked_in_and_at_this_station(bw: BookingWorld) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    with pytest.raises(BookingError) as info:
        service_record_create(
            actor=bw.window0,
            station_id=bw.station0.pk,
            item_id=None,
            outcome=Outcome.COMPLETED,
            minutes=5,
            appointment_id=appointment.pk,
        )
    assert info.value.code == "invalid_transition"  # still only booked
    with pytest.raises(BookingError) as info:
        service_record_create(
            actor=bw.window2,
            station_id=bw.station2.pk,
            item_id=None,
            outcome=Outcome.COMPLETED,
            minutes=5,
            appointment_id=appointment.pk,
        )
    assert info.value.code == "unknown_appointment"
    assert not ServiceRecord.objects.exists()


def test_a_walk_in_links_an_account_by_phone_or_keeps_the_visitor_encrypted(bw: BookingWorld) -> None:
    known = service_record_create(
        actor=bw.window0,
        station_id=bw.station0.pk,
        item_id=bw.item2.code,
        outcome=Outcome.CONSULTED,
        minutes=4,
        resident_phone=bw.resident2.phone,
    )
    assert (known.resident, known.visitor_phone, known.visitor_name) == (bw.resident2, "", "")
    walk_in = service_record_create(
        actor=bw.window0,
        station_id=bw.station0.pk,
        item_id=bw.item2.pk,
        outcome=Outcome.MATERIALS,
        minutes=6,
        resident_phone="138 0013 8000",
        visitor_name="王五",
    )
    assert (walk_in.resident, walk_in.visitor_phone, walk_in.visitor_name) == (None, "13800138000", "王五")
    with connection.cursor() as cursor:  # the column as stored, past the field's decryption
        cursor.execute(
            f"SELECT visitor_phone FROM {ServiceRecord._meta.db_table} WHERE id = %s",  # noqa: S608 - model meta
            [walk_in.pk],
        )
        stored = cursor.fetchone()[0]
    assert is_ciphertext(stored) and "13800138000" not in stored  # PI-1: ciphertext at rest
    assert ServiceRecord.objects.filter(visitor_phone_index__matches="13800138000").get() == walk_in


def test_a_universal_item_is_recorded_at_any_window_but_others_only_where_offered(bw: BookingWorld) -> None:
    universal = make_item(name="通办事项", universal=True)
    service_record_create(
        actor=bw.window0,
        station_id=bw.station0.pk,
        item_id=universal.pk,
        outcome=Outcome.COMPLETED,
        minutes=3,
    )
    with pytest.raises(BookingError) as info:
        service_record_create(
            actor=bw.window0,
            station_id=bw.station0.pk,
            item_id=bw.not_offered.pk,
            outcome=Outcome.COMPLETED,
            minutes=3,
        )
    assert info.value.code == "item_not_offered"
    assert ServiceRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"item_id": "NOPE"}, "unknown_service"),
        ({"outcome": "done"}, "invalid_outcome"),
        ({"minutes": 0}, "invalid_minutes"),
        ({"minutes": 999}, "invalid_minutes"),
        ({"resident_phone": "12345"}, "invalid_phone"),
    ],
    ids=["unknown_item", "bad_outcome", "zero_minutes", "too_many_minutes", "bad_phone"],
)
def test_bad_records_are_refused_and_nothing_saved(
    bw: BookingWorld, kwargs: dict[str, object], code: str
) -> None:
    args: dict[str, object] = {
        "actor": bw.window0,
        "station_id": bw.station0.pk,
        "item_id": bw.item.pk,
        "outcome": Outcome.COMPLETED,
        "minutes": 10,
    }
    with pytest.raises(BookingError) as info:
        service_record_create(**(args | kwargs))  # type: ignore[arg-type]
    assert info.value.code == code
    assert not ServiceRecord.objects.exists()


def test_workload_counts_per_staff_member_and_per_item(
    bw: BookingWorld, clock: time_machine.Coordinates, django_assert_num_queries: object
) -> None:
    for actor, item, outcome, minutes in [
        (bw.window0, bw.item, Outcome.COMPLETED, 10),
        (bw.window0, bw.item, Outcome.ACCEPTED, 20),
        (bw.back_office0, bw.item2, Outcome.COMPLETED, 5),
        (bw.window2, bw.item, Outcome.COMPLETED, 7),  # another community: not in window0's scope
    ]:
        station = bw.station2 if actor == bw.window2 else bw.station0
        service_record_create(
            actor=actor, station_id=station.pk, item_id=item.pk, outcome=outcome, minutes=minutes
        )
    clock.shift(dt.timedelta(days=1))
    reader = bw.secretary0
    with django_assert_num_queries(3):  # type: ignore[operator]  # memberships, by staff, by item
        w = workload_for_user(user=reader, since=MONDAY, until=MONDAY + dt.timedelta(days=1))
    assert w.total == 3
    staff = {r["staff_id"]: (r["count"], r["minutes"], r["completed"]) for r in w.by_staff}
    assert staff == {bw.window0.pk: (2, 30, 1), bw.back_office0.pk: (1, 5, 1)}
    items = {r["item_id"]: (r["count"], r["minutes"]) for r in w.by_item}
    assert items == {bw.item.pk: (2, 30), bw.item2.pk: (1, 5)}
