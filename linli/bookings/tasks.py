"""Periodic sweeps of bookings (django-tasks): thin wrappers that call the services.

All are idempotent sweeps over stored state (status, times, reminder flags): a skipped tick is caught up
by the next, and two overlapping runs act on each row once.
"""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from linli.bookings.services import appointments_remind, appointments_sweep_no_show, loans_sweep_overdue
from linli.core.scheduler import periodic


@periodic(every=timedelta(minutes=5), name="bookings.appointment_reminders")
@task()
def appointment_reminders() -> dict[str, int]:
    """Day-before and hour-before reminders through the notification outbox."""
    return appointments_remind().as_dict()


@periodic(every=timedelta(minutes=5), name="bookings.no_show_sweep")
@task()
def no_show_sweep() -> int:
    """Booked appointments whose slot has ended become 未到."""
    return appointments_sweep_no_show()


@periodic(every=timedelta(hours=1), name="bookings.loan_overdue_sweep")
@task()
def loan_overdue_sweep() -> int:
    """Remind borrowers of overdue tools (at most once a day per loan)."""
    return loans_sweep_overdue()
