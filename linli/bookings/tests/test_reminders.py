"""Confirmations and reminders through the notification outbox, delivered by the real django-tasks-db
worker (as in linli/notifications/tests): the day before, an hour before, overdue tools; nothing twice."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from linli.accounts.sms import ConsoleSmsBackend
from linli.bookings.models import Appointment
from linli.bookings.services import (
    appointment_book,
    appointment_reschedule,
    appointments_remind,
    loans_sweep_overdue,
    resource_create,
    tool_lend,
)
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.notifications.models import OutboxMessage, OutboxStatus
from linli.notifications.tests.conftest import run_worker_batch
from linli.security.masking import mask_phone

pytestmark = pytest.mark.django_db
TUESDAY = MONDAY + dt.timedelta(days=1)


def _keys(phone: str) -> list[str]:
    """The dedup keys of the SMS the console backend delivered to this phone (it keeps no text)."""
    return [
        d.idempotency_key or "" for d in ConsoleSmsBackend.deliveries if d.phone_masked == mask_phone(phone)
    ]


def test_confirmation_and_both_reminders_reach_the_phone_once_each(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(day=TUESDAY, hour=10).pk)
    assert run_worker_batch() == 1
    assert _keys(bw.resident.phone) == [f"appt:{appointment.pk}:booked:sms:u{bw.resident.pk}"]

    clock.move_to(at(MONDAY, 10, 5))  # within a day of Tuesday 10:00
    assert appointments_remind().as_dict() == {"day": 1, "hour": 0}
    assert appointments_remind().as_dict() == {"day": 0, "hour": 0}  # a re-run sends nothing
    assert run_worker_batch() == 1
    clock.move_to(at(TUESDAY, 9, 10))
    assert appointments_remind().as_dict() == {"day": 0, "hour": 1}
    assert run_worker_batch() == 1
    assert run_worker_batch() == 0

    keys = _keys(bw.resident.phone)
    assert len(keys) == 3
    assert [k.split(":")[3] for k in keys[1:]] == ["day", "hour"]
    texts = [m.text for m in OutboxMessage.objects.filter(recipient=bw.resident)]
    assert all("居住证办理" in t and "一社区党群服务中心" in t and bw.resident.phone not in t for t in texts)
    appointment.refresh_from_db()
    assert appointment.day_reminded_at is not None and appointment.hour_reminded_at is not None
    assert {m.status for m in appointment.resident.outbox_messages.all()} == {OutboxStatus.SENT}


def test_a_booking_made_within_a_day_gets_no_day_reminder_but_the_hour_one(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    clock.move_to(at(MONDAY, 11))
    appointment_book(resident=bw.resident, slot_id=bw.slot(day=TUESDAY, hour=9).pk)
    assert appointments_remind().as_dict() == {"day": 0, "hour": 0}
    clock.move_to(at(TUESDAY, 8, 15))
    assert appointments_remind().as_dict() == {"day": 0, "hour": 1}


def test_a_rescheduled_appointment_is_reminded_of_its_new_time(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(day=TUESDAY, hour=9).pk)
    clock.move_to(at(MONDAY, 9, 30))
    assert appointments_remind().day == 1
    later = bw.slot(day=TUESDAY, hour=15)
    appointment_reschedule(appointment_id=appointment.pk, actor=bw.resident, slot_id=later.pk)
    assert Appointment.objects.get(pk=appointment.pk).day_reminded_at is None
    clock.move_to(at(MONDAY, 15, 30))
    assert appointments_remind().day == 1  # a new start time, a new dedup key


def test_overdue_tool_reminders_reach_the_phone_once_per_day(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    tool = resource_create(
        actor=None, station_id=bw.station0.pk, kind="tool", name="冲击电钻", quantity=1, loan_days=1
    )
    loan = tool_lend(actor=bw.window0, resource_id=tool.pk, borrower_phone=bw.resident.phone)
    clock.move_to(loan.due_at + dt.timedelta(minutes=5))
    assert loans_sweep_overdue() == 1
    assert loans_sweep_overdue() == 0
    run_worker_batch()
    assert [k for k in _keys(bw.resident.phone) if ":overdue:" in k] == [
        f"loan:{loan.pk}:overdue:{MONDAY + dt.timedelta(days=1):%Y%m%d}:sms:u{bw.resident.pk}"
    ]
