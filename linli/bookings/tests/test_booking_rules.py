"""Slot calendars and the booking rules: generation from opening hours, capacity, per-person limits, and
bad input (a slot in the past, an unknown service, an item the station does not offer) refused with a
clear code and nothing saved."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from linli.bookings.errors import BookingError
from linli.bookings.models import Appointment, AppointmentEvent, AppointmentStatus, Slot
from linli.bookings.services import (
    MAX_OPEN_PER_PERSON,
    appointment_book,
    appointment_cancel,
    appointment_reschedule,
    slot_capacity_set,
    slot_close,
    slots_generate,
)
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.notifications.models import Notification, OutboxMessage
from linli.stations.services import station_menu_remove

pytestmark = pytest.mark.django_db


def _refused(code: str, fn: object, *args: object, **kwargs: object) -> BookingError:
    with pytest.raises(BookingError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.code == code, info.value.message
    assert info.value.message  # a Chinese sentence, not empty
    return info.value


# --- slot calendars --------------------------------------------------------------------------------
def test_generation_cuts_the_opening_periods_into_slots_and_skips_closed_days(bw: BookingWorld) -> None:
    # Monday..Sunday: five office days of 09:00-12:00 and 13:30-17:30 = 6 + 8 half-hour slots each.
    created = bw.generate(days=7, capacity=4)
    assert created == 5 * 14
    monday = Slot.objects.filter(day=MONDAY).order_by("starts_at")
    assert [s.starts_at for s in monday][:2] == [at(MONDAY, 9), at(MONDAY, 9, 30)]
    assert monday.last().ends_at == at(MONDAY, 17, 30)  # type: ignore[union-attr]
    assert not Slot.objects.filter(day=MONDAY + dt.timedelta(days=5)).exists()  # Saturday: closed
    assert {s.capacity for s in Slot.objects.all()} == {4}
    assert {s.region_path for s in Slot.objects.all()} == {bw.station0.region_path}


def test_generation_is_idempotent_and_leaves_out_slots_that_already_began(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    clock.move_to(at(MONDAY, 10, 10))
    first = slots_generate(
        actor=None,
        station_id=bw.station0.pk,
        item_id=bw.item.pk,
        first_day=MONDAY,
        last_day=MONDAY,
        length_minutes=30,
        capacity=2,
    )
    assert first.created == 14 - 3  # 09:00, 09:30 and 10:00 have begun
    again = slots_generate(
        actor=None,
        station_id=bw.station0.pk,
        item_id=bw.item.pk,
        first_day=MONDAY,
        last_day=MONDAY,
        length_minutes=30,
        capacity=2,
    )
    assert (again.created, again.existing) == (0, 11)
    assert Slot.objects.count() == 11


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"first_day": MONDAY - dt.timedelta(days=1)}, "slot_in_past"),
        ({"item_id": "NO-SUCH-ITEM"}, "unknown_service"),
        ({"length_minutes": 2}, "invalid_length"),
        ({"capacity": 0}, "invalid_capacity"),
        ({"last_day": MONDAY + dt.timedelta(days=90)}, "range_too_long"),
    ],
    ids=["past_day", "unknown_service", "short_length", "zero_capacity", "too_many_days"],
)
def test_bad_generation_input_is_refused_and_creates_nothing(
    bw: BookingWorld, kwargs: dict[str, object], code: str
) -> None:
    args: dict[str, object] = {
        "actor": None,
        "station_id": bw.station0.pk,
        "item_id": bw.item.pk,
        "first_day": MONDAY,
        "last_day": MONDAY,
        "length_minutes": 30,
        "capacity": 3,
    }
    _refused(code, slots_generate, **(args | kwargs))
    assert Slot.objects.count() == 0


def test_an_item_the_station_does_not_offer_gets_no_slots(bw: BookingWorld) -> None:
    _refused("item_not_offered", bw.slot, item=bw.not_offered)
    _refused(
        "item_not_offered",
        slots_generate,
        actor=None,
        station_id=bw.station0.pk,
        item_id=bw.not_offered.pk,
        first_day=MONDAY,
        last_day=MONDAY,
        length_minutes=30,
        capacity=3,
    )
    assert Slot.objects.count() == 0


def test_an_explicit_slot_must_be_in_the_future_and_inside_opening_hours(bw: BookingWorld) -> None:
    _refused("slot_in_past", bw.slot, hour=7, day=MONDAY)  # 07:00 < now (08:00)
    _refused("outside_opening_hours", bw.slot, hour=12, minute=30)  # lunch break
    _refused("outside_opening_hours", bw.slot, day=MONDAY + dt.timedelta(days=6))  # Sunday
    bw.slot(hour=9)
    with pytest.raises(BookingError) as info:
        bw.slot(hour=9)
    assert (info.value.code, info.value.status) == ("slot_exists", 409)
    assert Slot.objects.count() == 1


def test_capacity_cannot_drop_below_the_places_taken(bw: BookingWorld) -> None:
    slot = bw.slot(capacity=3)
    appointment_book(resident=bw.resident, slot_id=slot.pk)
    appointment_book(resident=bw.resident2, slot_id=slot.pk)
    _refused("capacity_below_booked", slot_capacity_set, actor=bw.window0, slot_id=slot.pk, capacity=1)
    assert slot_capacity_set(actor=bw.window0, slot_id=slot.pk, capacity=2).capacity == 2
    with pytest.raises(BookingError) as info:  # another community's window: the slot does not exist for it
        slot_capacity_set(actor=bw.window2, slot_id=slot.pk, capacity=9)
    assert info.value.status == 404


# --- booking ---------------------------------------------------------------------------------------
def test_booking_takes_a_place_writes_the_event_and_sends_a_confirmation(bw: BookingWorld) -> None:
    slot = bw.slot(capacity=2)
    appointment = appointment_book(resident=bw.resident, slot_id=slot.pk, note="带齐材料")
    slot.refresh_from_db()
    assert slot.booked == 1
    assert (appointment.status, appointment.status_category) == (AppointmentStatus.BOOKED, "open")
    assert (appointment.station, appointment.item, appointment.day) == (bw.station0, bw.item, MONDAY)
    event = AppointmentEvent.objects.get(appointment=appointment)
    assert (event.action, event.from_state, event.to_state, event.actor) == (
        "book",
        "",
        "booked",
        bw.resident,
    )
    assert Notification.objects.filter(recipient=bw.resident, kind="booking.booked").count() == 1
    sms = OutboxMessage.objects.get(dedup_key=f"appt:{appointment.pk}:booked:sms:u{bw.resident.pk}")
    assert "居住证办理" in sms.text and bw.resident.phone not in sms.text


def test_a_full_slot_is_refused_and_nothing_is_saved(bw: BookingWorld) -> None:
    slot = bw.slot(capacity=1)
    appointment_book(resident=bw.resident, slot_id=slot.pk)
    error = _refused("slot_full", appointment_book, resident=bw.resident2, slot_id=slot.pk)
    assert error.status == 409
    assert Appointment.objects.filter(resident=bw.resident2).count() == 0
    assert not Notification.objects.filter(recipient=bw.resident2).exists()
    slot.refresh_from_db()
    assert slot.booked == 1


def test_a_slot_that_has_begun_cannot_be_booked(bw: BookingWorld, clock: time_machine.Coordinates) -> None:
    slot = bw.slot(hour=9)
    clock.move_to(at(MONDAY, 9, 1))
    _refused("slot_in_past", appointment_book, resident=bw.resident, slot_id=slot.pk)
    assert Appointment.objects.count() == 0


def test_unknown_slots_and_items_no_longer_offered_are_refused(bw: BookingWorld) -> None:
    assert _refused("unknown_slot", appointment_book, resident=bw.resident, slot_id=999999).status == 404
    slot = bw.slot()
    station_menu_remove(station=bw.station0, item=bw.item)
    _refused("item_not_offered", appointment_book, resident=bw.resident, slot_id=slot.pk)
    assert Appointment.objects.count() == 0


def test_one_open_appointment_per_person_item_and_day(bw: BookingWorld) -> None:
    first = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    later = bw.slot(hour=10)
    _refused("duplicate_for_day", appointment_book, resident=bw.resident, slot_id=later.pk)
    # another item the same day, and the same item on another day, are fine
    appointment_book(resident=bw.resident, slot_id=bw.slot(item=bw.item2, hour=9).pk)
    appointment_book(resident=bw.resident, slot_id=bw.slot(day=MONDAY + dt.timedelta(days=1)).pk)
    # once the first is cancelled its day is free again
    appointment_cancel(appointment_id=first.pk, actor=bw.resident)
    appointment_book(resident=bw.resident, slot_id=later.pk)


def test_at_most_three_open_appointments_per_person(bw: BookingWorld) -> None:
    for offset in range(MAX_OPEN_PER_PERSON):
        appointment_book(resident=bw.resident, slot_id=bw.slot(day=MONDAY + dt.timedelta(days=offset)).pk)
    fourth = bw.slot(day=MONDAY + dt.timedelta(days=3))
    error = _refused("too_many_open", appointment_book, resident=bw.resident, slot_id=fourth.pk)
    assert error.status == 409
    fourth.refresh_from_db()
    assert fourth.booked == 0  # the refusal took no place
    appointment_book(resident=bw.resident2, slot_id=fourth.pk)  # the limit is per person


def test_cancel_frees_the_place_and_reschedule_moves_it(bw: BookingWorld) -> None:
    nine, ten = bw.slot(hour=9, capacity=1), bw.slot(hour=10, capacity=1)
    appointment = appointment_book(resident=bw.resident, slot_id=nine.pk)
    moved = appointment_reschedule(appointment_id=appointment.pk, actor=bw.resident, slot_id=ten.pk)
    assert (moved.slot_id, moved.starts_at, moved.status) == (ten.pk, ten.starts_at, AppointmentStatus.BOOKED)
    nine.refresh_from_db()
    ten.refresh_from_db()
    assert (nine.booked, ten.booked) == (0, 1)
    event = moved.events.get(action="reschedule")
    assert event.data == {"to_slot": ten.pk, "from_slot": nine.pk}
    appointment_book(resident=bw.resident2, slot_id=nine.pk)  # the freed place is bookable
    cancelled = appointment_cancel(appointment_id=appointment.pk, actor=bw.resident, note="有事")
    ten.refresh_from_db()
    assert (cancelled.status, cancelled.status_category, ten.booked) == ("cancelled", "cancelled", 0)


def test_reschedule_to_a_full_slot_or_another_item_changes_nothing(bw: BookingWorld) -> None:
    nine = bw.slot(hour=9)
    full = bw.slot(hour=10, capacity=1)
    appointment_book(resident=bw.resident2, slot_id=full.pk)
    appointment = appointment_book(resident=bw.resident, slot_id=nine.pk)
    _refused(
        "slot_full", appointment_reschedule, appointment_id=appointment.pk, actor=bw.resident, slot_id=full.pk
    )
    other = bw.slot(item=bw.item2, hour=11)
    _refused(
        "different_item",
        appointment_reschedule,
        appointment_id=appointment.pk,
        actor=bw.resident,
        slot_id=other.pk,
    )
    appointment.refresh_from_db()
    nine.refresh_from_db()
    assert (appointment.slot_id, nine.booked) == (nine.pk, 1)
    assert list(appointment.events.values_list("action", flat=True)) == ["book"]


def test_the_slot_count_equals_the_places_its_appointments_hold(bw: BookingWorld) -> None:
    slots = [bw.slot(hour=h, capacity=3) for h in (9, 10, 11)]
    people = [bw.resident, bw.resident2]
    a = appointment_book(resident=people[0], slot_id=slots[0].pk)
    b = appointment_book(resident=people[1], slot_id=slots[0].pk)
    appointment_reschedule(appointment_id=a.pk, actor=people[0], slot_id=slots[1].pk)
    appointment_cancel(appointment_id=b.pk, actor=bw.window0, note="窗口临时关闭")
    for slot in Slot.objects.all():
        holding = slot.appointments.exclude(status=AppointmentStatus.CANCELLED).count()
        assert slot.booked == holding, slot
    # the station cancelling is news: the resident gets an SMS naming the reason
    assert OutboxMessage.objects.filter(kind="booking.cancel", recipient=people[1]).count() == 1
    assert not OutboxMessage.objects.filter(kind="booking.reschedule", recipient=people[1]).exists()


def test_a_closed_slot_takes_no_more_bookings_but_keeps_its_appointments(bw: BookingWorld) -> None:
    slot = bw.slot(capacity=3)
    kept = appointment_book(resident=bw.resident, slot_id=slot.pk)
    slot_close(actor=bw.window0, slot_id=slot.pk)
    _refused("unknown_slot", appointment_book, resident=bw.resident2, slot_id=slot.pk)
    kept.refresh_from_db()
    assert kept.status == AppointmentStatus.BOOKED
    with pytest.raises(BookingError) as info:
        slot_close(actor=bw.window2, slot_id=slot.pk)  # another community's window
    assert info.value.status == 404
