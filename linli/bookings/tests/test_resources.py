"""Rooms and tools: the room rules, no double booking, the approval flow, tool stock, returns and the
overdue sweep; both transition tables exhaustively."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction

from linli.bookings.errors import BookingError, TransitionError
from linli.bookings.models import (
    LOAN_CATEGORY,
    ROOM_BOOKING_CATEGORY,
    LoanStatus,
    Resource,
    ResourceKind,
    RoomBooking,
    RoomBookingStatus,
    ToolLoan,
)
from linli.bookings.services import (
    loan_extend,
    loan_return,
    loans_sweep_overdue,
    resource_create,
    room_book,
    room_booking_cancel,
    room_booking_decide,
    tool_lend,
)
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.bookings.transitions import (
    LOAN_FLOW,
    LOAN_TRANSITIONS,
    ROOM_BOOKING_FLOW,
    ROOM_BOOKING_TRANSITIONS,
    transition_apply,
)
from linli.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


def _room(bw: BookingWorld, **kw: object) -> Resource:
    args: dict[str, object] = {
        "actor": None,
        "station_id": bw.station0.pk,
        "kind": ResourceKind.ROOM,
        "name": "多功能活动室",
        "capacity": 30,
        "min_minutes": 30,
        "max_minutes": 180,
        "advance_days": 7,
        "per_person_limit": 2,
    }
    return resource_create(**(args | kw))  # type: ignore[arg-type]


def _tool(bw: BookingWorld, quantity: int = 2) -> Resource:
    return resource_create(
        actor=None,
        station_id=bw.station0.pk,
        kind=ResourceKind.TOOL,
        name="人字梯",
        quantity=quantity,
        loan_days=3,
        per_person_limit=1,
    )


def _book(
    bw: BookingWorld, room: Resource, start: dt.datetime, minutes: int = 60, **kw: object
) -> RoomBooking:
    args: dict[str, object] = {
        "user": bw.resident,
        "resource_id": room.pk,
        "starts_at": start,
        "ends_at": start + dt.timedelta(minutes=minutes),
        "purpose": "楼栋议事会",
    }
    return room_book(**(args | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "minutes", "extra", "code"),
    [
        (at(MONDAY, 7), 60, {}, "in_past"),
        (at(MONDAY, 9), 15, {}, "too_short"),
        (at(MONDAY, 9), 240, {}, "too_long"),
        (at(MONDAY + dt.timedelta(days=8), 9), 60, {}, "too_far_ahead"),
        (at(MONDAY, 9), 60, {"attendees": 31}, "over_capacity"),
        (at(MONDAY, 11, 30), 60, {}, "outside_opening_hours"),  # runs into the lunch break
        (at(MONDAY + dt.timedelta(days=5), 9), 60, {}, "outside_opening_hours"),  # Saturday: closed
        (at(MONDAY, 9), 60, {"purpose": " "}, "purpose_required"),
        (at(MONDAY, 9), -30, {}, "invalid_period"),
    ],
    ids=[
        "past",
        "short",
        "long",
        "far_ahead",
        "too_many_people",
        "lunch",
        "saturday",
        "no_purpose",
        "ends_first",
    ],
)
def test_room_rules_refuse_bad_requests_and_save_nothing(
    bw: BookingWorld, start: dt.datetime, minutes: int, extra: dict[str, object], code: str
) -> None:
    room = _room(bw)
    with pytest.raises(BookingError) as info:
        _book(bw, room, start, minutes, **extra)
    assert info.value.code == code and info.value.message
    assert not RoomBooking.objects.exists()


def test_a_room_is_never_double_booked_but_adjacent_times_are_fine(bw: BookingWorld) -> None:
    room = _room(bw)
    first = _book(bw, room, at(MONDAY, 9))
    assert (first.status, first.status_category) == (RoomBookingStatus.CONFIRMED, "open")
    for start, minutes in [(at(MONDAY, 9, 30), 60), (at(MONDAY, 9), 30), (at(MONDAY, 9, 0), 180)]:
        with pytest.raises(BookingError) as info:
            _book(bw, room, start, minutes, user=bw.resident2)
        assert (info.value.code, info.value.status) == ("room_taken", 409)
    _book(bw, room, at(MONDAY, 10), user=bw.resident2)  # starts when the first ends
    room_booking_cancel(booking_id=first.pk, actor=bw.resident)
    _book(bw, room, at(MONDAY, 9), user=bw.resident2)  # a cancelled booking frees its time
    assert RoomBooking.objects.filter(status_category="open").count() == 2


def test_each_person_may_hold_only_so_many_bookings_of_a_room(bw: BookingWorld) -> None:
    room = _room(bw, per_person_limit=2)
    _book(bw, room, at(MONDAY, 9))
    _book(bw, room, at(MONDAY, 14))
    with pytest.raises(BookingError) as info:
        _book(bw, room, at(MONDAY, 16))
    assert info.value.code == "person_limit"
    _book(bw, room, at(MONDAY, 16), user=bw.resident2)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL")
def test_on_postgresql_the_database_itself_refuses_an_overlap(bw: BookingWorld) -> None:
    room = _room(bw)
    booking = _book(bw, room, at(MONDAY, 9))
    copy = RoomBooking(
        resource=room,
        booked_by=bw.resident2,
        purpose="绕过服务直接写入",
        starts_at=at(MONDAY, 9, 30),
        ends_at=at(MONDAY, 10, 30),
        status=RoomBookingStatus.PENDING,
        status_category="open",
        region_path=booking.region_path,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    copy.status, copy.status_category = RoomBookingStatus.CANCELLED, "cancelled"
    copy.save()  # a booking that does not hold the room may overlap


def test_rooms_needing_approval_wait_for_staff_in_scope(bw: BookingWorld) -> None:
    room = _room(bw, needs_approval=True)
    booking = _book(bw, room, at(MONDAY, 14))
    assert booking.status == RoomBookingStatus.PENDING
    with pytest.raises(BookingError) as info:
        room_booking_decide(booking_id=booking.pk, actor=bw.window2, approve=True)  # another community
    assert info.value.status == 404
    with pytest.raises(BookingError) as info:
        room_booking_decide(booking_id=booking.pk, actor=bw.resident, approve=True)
    assert info.value.status == 403
    with pytest.raises(BookingError) as info:
        room_booking_decide(booking_id=booking.pk, actor=bw.window0, approve=False)
    assert info.value.code == "note_required"
    approved = room_booking_decide(booking_id=booking.pk, actor=bw.window0, approve=True, note="同意")
    assert (approved.status, approved.decided_by, approved.decided_at is not None) == (
        "confirmed",
        bw.window0,
        True,
    )
    assert list(approved.events.values_list("action", "to_state")) == [
        ("book", "pending"),
        ("approve", "confirmed"),
    ]
    assert OutboxMessage.objects.filter(recipient=bw.resident, kind="room.approve").count() == 1
    other = _book(bw, room, at(MONDAY, 15, 30), user=bw.resident2)
    rejected = room_booking_decide(
        booking_id=other.pk, actor=bw.window0, approve=False, note="当天有党员大会"
    )
    assert (rejected.status, rejected.status_category) == ("rejected", "cancelled")


def test_every_forbidden_room_booking_pair_raises_a_clear_error(bw: BookingWorld) -> None:
    booking = _book(bw, _room(bw), at(MONDAY, 9))
    pairs = [
        (s, a)
        for a, t in ROOM_BOOKING_TRANSITIONS.items()
        for s in RoomBookingStatus.values
        if s not in t.sources
    ]
    for status, action in pairs:
        RoomBooking.objects.filter(pk=booking.pk).update(
            status=status, status_category=ROOM_BOOKING_CATEGORY[status]
        )
        with pytest.raises(TransitionError) as info:
            transition_apply(
                flow=ROOM_BOOKING_FLOW, obj_id=booking.pk, action=action, actor=bw.window0, note="x"
            )
        assert info.value.code == "invalid_transition", (status, action)
    assert booking.events.count() == 1


# --- tools -----------------------------------------------------------------------------------------
def test_lending_and_returning_tools_keeps_the_stock(bw: BookingWorld) -> None:
    tool = _tool(bw, quantity=2)
    loan = tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone=bw.resident.phone)
    tool.refresh_from_db()
    assert (tool.on_loan, loan.due_at, loan.status) == (
        1,
        at(MONDAY + dt.timedelta(days=3), 8),
        LoanStatus.LENT,
    )
    with pytest.raises(BookingError) as info:  # one open loan per person for this tool
        tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone=bw.resident.phone)
    assert info.value.code == "person_limit"
    tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone=bw.resident2.phone)
    third = bw.street0
    with pytest.raises(BookingError) as info:
        tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone="13900000000")
    assert info.value.code == "unknown_borrower"
    assert third is not None
    returned = loan_return(loan_id=loan.pk, actor=bw.window0, note="完好")
    tool.refresh_from_db()
    assert (returned.status, returned.status_category, tool.on_loan) == ("returned", "done", 1)
    assert list(returned.events.values_list("action", flat=True)) == ["lend", "return"]
    with pytest.raises(BookingError) as info:
        tool_lend(actor=bw.window2, resource_id=tool.pk, borrower_phone=bw.resident.phone)
    assert info.value.status == 404  # another community's desk


def test_the_overdue_sweep_reminds_once_a_day_until_the_tool_is_back(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    tool = _tool(bw)
    loan = tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone=bw.resident.phone)
    assert loans_sweep_overdue() == 0  # not due yet
    clock.move_to(loan.due_at + dt.timedelta(hours=1))
    assert loans_sweep_overdue() == 1
    assert loans_sweep_overdue() == 0  # idempotent within the day
    clock.shift(dt.timedelta(days=1))
    assert loans_sweep_overdue() == 1  # the next day: one more reminder
    assert OutboxMessage.objects.filter(recipient=bw.resident, kind="loan.overdue").count() == 2
    extended = loan_extend(loan_id=loan.pk, actor=bw.window0, due_at=at(MONDAY + dt.timedelta(days=10), 17))
    assert (extended.status, extended.overdue_reminded_on) == ("lent", None)
    assert loans_sweep_overdue() == 0
    loan_return(loan_id=loan.pk, actor=bw.window0)
    clock.move_to(at(MONDAY + dt.timedelta(days=12), 9))
    assert loans_sweep_overdue() == 0  # returned: never again
    assert Notification.objects.filter(recipient=bw.resident, kind="loan.overdue").count() == 2


def test_every_forbidden_loan_pair_raises_a_clear_error(bw: BookingWorld) -> None:
    loan = tool_lend(actor=bw.window0, resource_id=_tool(bw).pk, borrower_phone=bw.resident.phone)
    pairs = [(s, a) for a, t in LOAN_TRANSITIONS.items() for s in LoanStatus.values if s not in t.sources]
    assert pairs == [("returned", "return"), ("returned", "extend")]
    for status, action in pairs:
        ToolLoan.objects.filter(pk=loan.pk).update(status=status, status_category=LOAN_CATEGORY[status])
        with pytest.raises(TransitionError) as info:
            transition_apply(flow=LOAN_FLOW, obj_id=loan.pk, action=action, actor=bw.window0)
        assert info.value.code == "invalid_transition", (status, action)
    assert loan.events.count() == 1
