"""Races with real threads and separate connections, on SQLite and PostgreSQL: slot capacity, per-person
limits, queue numbers, rooms never double-booked, tool stock, and reminder sweeps running twice at once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import time_machine

from linli.accounts.tests.factories import ResidentFactory
from linli.bookings.models import Appointment, ResourceKind, RoomBooking, Slot, ToolLoan
from linli.bookings.services import (
    appointment_book,
    appointment_check_in,
    appointments_remind,
    resource_create,
    room_book,
    tool_lend,
)
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.bookings.tests.race import race
from linli.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db(transaction=True)


def _codes(results: list[Any]) -> Counter[str]:
    return Counter("ok" if not isinstance(r, Exception) else getattr(r, "code", repr(r)) for r in results)


def test_a_hundred_concurrent_bookings_of_a_ten_place_slot_give_exactly_ten(bw: BookingWorld) -> None:
    slot = bw.slot(hour=10, capacity=10)
    residents = [ResidentFactory() for _ in range(100)]
    results = race(100, lambda i: appointment_book(resident=residents[i], slot_id=slot.pk), threads=12)
    assert _codes(results) == {"ok": 10, "slot_full": 90}
    slot.refresh_from_db()
    assert slot.booked == 10
    assert Appointment.objects.filter(slot=slot).count() == 10
    assert Notification.objects.filter(kind="booking.booked").count() == 10  # losers got no confirmation


def test_one_person_booking_many_slots_at_once_stays_within_the_limits(bw: BookingWorld) -> None:
    # five different days at once: the per-person limit (3 open) holds under concurrency
    days = [bw.slot(day=MONDAY + dt.timedelta(days=d)) for d in range(5)]
    results = race(5, lambda i: appointment_book(resident=bw.resident, slot_id=days[i].pk))
    assert _codes(results) == {"ok": 3, "too_many_open": 2}
    # two slots of the same item on the same day at once: exactly one
    same_day = [bw.slot(item=bw.item2, hour=h) for h in (9, 10)]
    results = race(2, lambda i: appointment_book(resident=bw.resident2, slot_id=same_day[i].pk))
    assert _codes(results) == {"ok": 1, "duplicate_for_day": 1}
    assert sum(s.booked for s in Slot.objects.filter(item=bw.item2)) == 1


def test_concurrent_check_ins_get_distinct_consecutive_queue_numbers(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    slot = bw.slot(hour=9, capacity=20)
    residents = [ResidentFactory() for _ in range(20)]
    appointments = [appointment_book(resident=r, slot_id=slot.pk) for r in residents]
    clock.move_to(at(MONDAY, 8, 40))
    staff = bw.window0  # created here, not by twenty threads at once
    results = race(20, lambda i: appointment_check_in(appointment_id=appointments[i].pk, actor=staff))
    assert _codes(results) == {"ok": 20}
    numbers = sorted(Appointment.objects.filter(slot=slot).values_list("queue_number", flat=True))
    assert numbers == [f"A{n:03d}" for n in range(1, 21)]


def test_overlapping_room_requests_at_once_book_the_room_once_and_adjacent_ones_all_succeed(
    bw: BookingWorld,
) -> None:
    room = resource_create(
        actor=None,
        station_id=bw.station0.pk,
        kind=ResourceKind.ROOM,
        name="多功能活动室",
        capacity=30,
        per_person_limit=5,
    )
    people = [ResidentFactory() for _ in range(20)]
    # twenty requests, each overlapping all others: 10:00–11:00 shifted by up to 19 minutes
    results = race(
        20,
        lambda i: room_book(
            user=people[i],
            resource_id=room.pk,
            starts_at=at(MONDAY, 10, i),
            ends_at=at(MONDAY, 11, i),
            purpose="议事会",
        ),
    )
    assert _codes(results) == {"ok": 1, "room_taken": 19}
    assert RoomBooking.objects.filter(resource=room).count() == 1
    # six back-to-back half hours at once: half-open periods, so all succeed
    hall = resource_create(
        actor=None,
        station_id=bw.station0.pk,
        kind=ResourceKind.ROOM,
        name="党员活动室",
        capacity=20,
        min_minutes=30,
    )
    others = [ResidentFactory() for _ in range(6)]
    results = race(
        6,
        lambda i: room_book(
            user=others[i],
            resource_id=hall.pk,
            starts_at=at(MONDAY, 13, 30) + dt.timedelta(minutes=30 * i),
            ends_at=at(MONDAY, 14, 0) + dt.timedelta(minutes=30 * i),
            purpose="兴趣小组",
        ),
    )
    assert _codes(results) == {"ok": 6}  # half-open periods: 14:00 ends one and starts the next


def test_concurrent_loans_never_lend_more_tools_than_there_are(bw: BookingWorld) -> None:
    tool = resource_create(
        actor=None, station_id=bw.station0.pk, kind=ResourceKind.TOOL, name="冲击钻", quantity=3
    )
    people = [ResidentFactory() for _ in range(10)]
    staff = bw.window0
    results = race(10, lambda i: tool_lend(actor=staff, resource_id=tool.pk, borrower_phone=people[i].phone))
    assert _codes(results) == {"ok": 3, "tool_unavailable": 7}
    tool.refresh_from_db()
    assert tool.on_loan == 3 == ToolLoan.objects.filter(resource=tool).count()


def test_two_reminder_sweeps_at_once_remind_each_appointment_once(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    tuesday = MONDAY + dt.timedelta(days=1)
    slot = bw.slot(day=tuesday, hour=10, capacity=10)
    residents = [ResidentFactory() for _ in range(6)]
    for r in residents:
        appointment_book(resident=r, slot_id=slot.pk)
    clock.move_to(at(MONDAY, 10, 30))  # within a day of Tuesday 10:00
    results = race(4, lambda i: appointments_remind(), threads=4)
    assert not [r for r in results if isinstance(r, BaseException)]
    # (a sweep retried after "database table is locked" reports only its last attempt: count the rows)
    assert Notification.objects.filter(kind="booking.remind_day").count() == 6
    assert OutboxMessage.objects.filter(kind="booking.remind_day").count() == 6
    assert not Appointment.objects.filter(slot=slot, day_reminded_at__isnull=True).exists()
    assert appointments_remind().day == 0  # and a later sweep finds nothing left to do
