"""The appointment transition table, exhaustively: every allowed (status, action) pair moves the row and
writes its event; every forbidden pair raises a clear error and changes nothing; who may act is checked
through the scope (another community's staff: 404; a resident on a staff action: 403)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine

from linli.accounts.models import User
from linli.bookings.errors import BookingError, TransitionError
from linli.bookings.models import (
    APPOINTMENT_CATEGORY,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    Outcome,
)
from linli.bookings.permissions import Who
from linli.bookings.services import (
    appointment_book,
    appointment_cancel,
    appointment_check_in,
    appointment_reschedule,
    appointments_sweep_no_show,
    service_record_create,
)
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.bookings.transitions import APPOINTMENT_FLOW, APPOINTMENT_TRANSITIONS, transition_apply

pytestmark = pytest.mark.django_db

FORBIDDEN = [
    (status, action)
    for action, t in APPOINTMENT_TRANSITIONS.items()
    for status in AppointmentStatus.values
    if status not in t.sources
]
ALLOWED = [(status, action) for action, t in APPOINTMENT_TRANSITIONS.items() for status in sorted(t.sources)]


def _in_status(bw: BookingWorld, status: str) -> Appointment:
    """A 09:00 appointment of the resident, put in ``status`` (test setup; the table is what is tested)."""
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    Appointment.objects.filter(pk=appointment.pk).update(
        status=status, status_category=APPOINTMENT_CATEGORY[status]
    )
    appointment.refresh_from_db()
    return appointment


def _actor_for(action: str, bw: BookingWorld) -> User | None:
    return None if Who.SYSTEM in APPOINTMENT_TRANSITIONS[action].who else bw.window0


def test_the_table_covers_every_status_and_the_categories_are_complete() -> None:
    assert set(APPOINTMENT_CATEGORY) == set(AppointmentStatus.values)
    reachable = {t.target for t in APPOINTMENT_TRANSITIONS.values()} | {AppointmentStatus.BOOKED}
    assert reachable == set(AppointmentStatus.values)
    assert len(FORBIDDEN) + len(ALLOWED) == len(APPOINTMENT_TRANSITIONS) * len(AppointmentStatus.values)


def test_every_forbidden_pair_raises_a_clear_error_and_changes_nothing(bw: BookingWorld) -> None:
    # One appointment, put in each status in turn (one world for all pairs keeps the file fast).
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    for status, action in FORBIDDEN:
        Appointment.objects.filter(pk=appointment.pk).update(
            status=status, status_category=APPOINTMENT_CATEGORY[status]
        )
        events = AppointmentEvent.objects.count()
        with pytest.raises(TransitionError) as info:
            transition_apply(
                flow=APPOINTMENT_FLOW, obj_id=appointment.pk, action=action, actor=_actor_for(action, bw)
            )
        pair = f"{status} × {action}"
        assert (info.value.code, info.value.status) == ("invalid_transition", 409), pair
        assert str(AppointmentStatus(status).label) in info.value.message, pair
        assert str(APPOINTMENT_TRANSITIONS[action].label) in info.value.message, pair
        appointment.refresh_from_db()
        assert appointment.status == status, pair
        assert AppointmentEvent.objects.count() == events, pair


def _run(
    action: str, bw: BookingWorld, appointment: Appointment, clock: time_machine.Coordinates
) -> Appointment:
    runs: dict[str, Callable[[], Any]] = {
        "cancel": lambda: appointment_cancel(appointment_id=appointment.pk, actor=bw.resident),
        "reschedule": lambda: appointment_reschedule(
            appointment_id=appointment.pk, actor=bw.resident, slot_id=bw.slot(hour=11).pk
        ),
        "check_in": lambda: appointment_check_in(appointment_id=appointment.pk, actor=bw.window0),
        "complete": lambda: service_record_create(
            actor=bw.window0,
            station_id=bw.station0.pk,
            item_id=None,
            outcome=Outcome.COMPLETED,
            minutes=8,
            appointment_id=appointment.pk,
        ),
        "no_show": lambda: appointments_sweep_no_show(),
    }
    if action == "check_in":
        clock.move_to(at(MONDAY, 8, 30))
    if action in ("no_show",):
        clock.move_to(at(MONDAY, 9, 31))
    runs[action]()
    appointment.refresh_from_db()
    return appointment


@pytest.mark.parametrize(("status", "action"), ALLOWED, ids=[f"{s}-{a}" for s, a in ALLOWED])
def test_every_allowed_pair_moves_the_row_and_writes_its_event(
    bw: BookingWorld, clock: time_machine.Coordinates, status: str, action: str
) -> None:
    appointment = _in_status(bw, status)
    moved = _run(action, bw, appointment, clock)
    target = APPOINTMENT_TRANSITIONS[action].target
    assert moved.status == target
    assert moved.status_category == APPOINTMENT_CATEGORY[moved.status]
    event = moved.events.order_by("-id").first()
    assert event is not None
    assert (event.action, event.from_state, event.to_state) == (action, status, target)
    assert event.actor_role in {w.value for w in APPOINTMENT_TRANSITIONS[action].who}


def test_check_in_hands_out_queue_numbers_per_station_and_day(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    slot = bw.slot(hour=9, capacity=5)
    first = appointment_book(resident=bw.resident, slot_id=slot.pk)
    second = appointment_book(resident=bw.resident2, slot_id=slot.pk)
    other = appointment_book(resident=bw.resident, slot_id=bw.slot(station=bw.station2, item=bw.item2).pk)
    clock.move_to(at(MONDAY, 8, 45))
    assert appointment_check_in(appointment_id=second.pk, actor=bw.window0).queue_number == "A001"
    assert appointment_check_in(appointment_id=first.pk, actor=bw.window0).queue_number == "A002"
    assert (
        appointment_check_in(appointment_id=other.pk, actor=bw.window2).queue_number == "A001"
    )  # its own counter


@pytest.mark.parametrize(
    ("minute", "code"),
    [(7 * 60 + 59, "check_in_too_early"), (9 * 60 + 30, "check_in_closed")],
    ids=["an_hour_before_is_too_early", "after_the_slot_is_too_late"],
)
def test_check_in_only_around_the_slot(
    bw: BookingWorld, clock: time_machine.Coordinates, minute: int, code: str
) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    clock.move_to(at(MONDAY, 0) + dt.timedelta(minutes=minute))
    with pytest.raises(TransitionError) as info:
        appointment_check_in(appointment_id=appointment.pk, actor=bw.window0)
    assert info.value.code == code
    appointment.refresh_from_db()
    assert (appointment.status, appointment.queue_number) == ("booked", "")


def test_who_may_act_follows_the_scope(bw: BookingWorld, clock: time_machine.Coordinates) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    clock.move_to(at(MONDAY, 8, 30))

    def refused(fn: Callable[[], Any]) -> tuple[str, int]:
        with pytest.raises(BookingError) as info:
            fn()
        return info.value.code, info.value.status

    # another resident, and another community's window: the appointment does not exist for them
    assert refused(lambda: appointment_cancel(appointment_id=appointment.pk, actor=bw.resident2)) == (
        "not_found",
        404,
    )
    assert refused(lambda: appointment_check_in(appointment_id=appointment.pk, actor=bw.window2)) == (
        "not_found",
        404,
    )
    # the resident may not check themself in; the street sees the appointment but does not run the desk
    assert refused(lambda: appointment_check_in(appointment_id=appointment.pk, actor=bw.resident)) == (
        "forbidden",
        403,
    )
    assert refused(lambda: appointment_cancel(appointment_id=appointment.pk, actor=bw.street0)) == (
        "forbidden",
        403,
    )
    # only the sweep marks a no-show; the system does not cancel
    assert refused(
        lambda: transition_apply(
            flow=APPOINTMENT_FLOW, obj_id=appointment.pk, action="no_show", actor=bw.window0
        )
    ) == ("forbidden", 403)
    assert refused(
        lambda: transition_apply(flow=APPOINTMENT_FLOW, obj_id=appointment.pk, action="cancel", actor=None)
    ) == ("forbidden", 403)
    appointment.refresh_from_db()
    assert appointment.status == "booked" and appointment.events.count() == 1
    # the back office and the secretary of the community run the same desk
    assert appointment_check_in(appointment_id=appointment.pk, actor=bw.back_office0).status == "checked_in"


def test_the_no_show_sweep_marks_each_ended_appointment_once(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    gone = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    later = appointment_book(resident=bw.resident2, slot_id=bw.slot(hour=15).pk)
    clock.move_to(at(MONDAY, 9, 30))
    assert appointments_sweep_no_show() == 1
    assert appointments_sweep_no_show() == 0  # idempotent
    gone.refresh_from_db()
    later.refresh_from_db()
    assert (gone.status, gone.status_category, later.status) == ("no_show", "cancelled", "booked")
    assert gone.events.filter(action="no_show", actor__isnull=True, actor_role="system").count() == 1
    assert gone.slot.booked == 1  # a no-show used its place up
