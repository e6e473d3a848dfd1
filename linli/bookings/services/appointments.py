"""Appointments: book, cancel, reschedule, check in (取号), complete, and the no-show and reminder sweeps.

Booking is the one write that does not go through ``transition_apply`` (there is no row to lock yet): in
one transaction it locks the person (per-person limits), takes a place in the slot by compare-and-set
(``booked < capacity``: the database decides who gets the last place), inserts the appointment (a partial
unique index refuses a second open appointment for the same item and day) and its first event, and writes
the confirmation to the outbox. Any refusal rolls all of it back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.bookings import notify
from linli.bookings.errors import BookingError, TransitionError
from linli.bookings.models import Appointment, AppointmentEvent, AppointmentStatus, Slot, StatusCategory
from linli.bookings.permissions import Who
from linli.bookings.services.lookups import item_offered, person_lock
from linli.bookings.services.queue import queue_number_next
from linli.bookings.services.slots import slot_release_place, slot_take_place
from linli.bookings.transitions import APPOINTMENT_FLOW, TransitionResult, transition_apply

if TYPE_CHECKING:
    from linli.accounts.models import User

MAX_OPEN_PER_PERSON = 3  # open appointments (booked or checked in) from today on
BOOK_AHEAD = dt.timedelta(days=30)
NOTE_MAX = 200
REMIND_DAY = dt.timedelta(hours=24)
REMIND_HOUR = dt.timedelta(hours=1)
SWEEP_BATCH = 500


def _bookable_slot(slot_id: int, now: dt.datetime) -> Slot:
    """The slot with its station and item, or a refusal: unknown, closed, item gone, past, too far ahead."""
    slot = Slot.objects.select_related("station", "item").filter(pk=slot_id).first()
    if slot is None or not slot.is_active or not slot.station.is_published:
        raise BookingError("unknown_slot", "号源不存在或已停止预约", status=404)
    if not slot.item.is_active or not item_offered(station_id=slot.station_id, item_id=slot.item_id):
        raise BookingError("item_not_offered", f"{slot.station.name}目前不提供「{slot.item.name}」")
    if slot.starts_at <= now:
        raise BookingError("slot_in_past", "该时段已开始或已过去,请选择其他时间")
    if slot.starts_at > now + BOOK_AHEAD:
        raise BookingError("too_far_ahead", f"最多可提前 {BOOK_AHEAD.days} 天预约")
    return slot


def _open_from_today(resident_id: int, now: dt.datetime) -> Any:
    return Appointment.objects.filter(
        resident_id=resident_id, status_category=StatusCategory.OPEN, day__gte=timezone.localdate(now)
    )


def appointment_book(
    *, resident: User, slot_id: int, note: str = "", now: dt.datetime | None = None
) -> Appointment:
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise BookingError("note_too_long", f"备注不能超过{NOTE_MAX}字")
    slot = _bookable_slot(slot_id, now)
    with transaction.atomic():
        person_lock(resident.pk)
        mine = _open_from_today(resident.pk, now)
        if mine.filter(item_id=slot.item_id, day=slot.day).exists():
            raise BookingError("duplicate_for_day", "您当天已预约过这项服务,如需换时间请改约", status=409)
        if mine.count() >= MAX_OPEN_PER_PERSON:
            raise BookingError(
                "too_many_open",
                f"每人同时最多 {MAX_OPEN_PER_PERSON} 个有效预约,请先办理或取消已有预约",
                status=409,
            )
        if not slot_take_place(slot_id=slot.pk, now=now):
            raise BookingError("slot_full", "该时段已约满,请选择其他时间", status=409)
        appointment = Appointment(
            resident=resident,
            slot=slot,
            station=slot.station,
            item=slot.item,
            day=slot.day,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            note=note,
            region_path=slot.region_path,
        )
        try:
            with transaction.atomic():
                appointment.save(force_insert=True)
        except IntegrityError as exc:  # the partial unique index: a concurrent booking of the same item/day
            raise BookingError("duplicate_for_day", "您当天已预约过这项服务", status=409) from exc
        AppointmentEvent.objects.create(
            appointment=appointment,
            actor=resident,
            actor_role=Who.OWNER.value,
            action="book",
            from_state="",
            to_state=AppointmentStatus.BOOKED,
            data={"slot": slot.pk},
            created_at=now,
        )
        notify.appointment_booked(appointment)
    return appointment


def _apply(
    appointment_id: int, action: str, actor: User | None, now: dt.datetime, **kw: Any
) -> TransitionResult:
    return transition_apply(
        flow=APPOINTMENT_FLOW,
        obj_id=appointment_id,
        action=action,
        actor=actor,
        now=now,
        after=notify.appointment_changed,
        **kw,
    )


def appointment_cancel(
    *, appointment_id: int, actor: User, note: str = "", now: dt.datetime | None = None
) -> Appointment:
    now = now or timezone.now()

    def effect(a: Appointment) -> dict[str, Any]:
        slot_release_place(slot_id=a.slot_id, now=now)
        return {}

    return _apply(appointment_id, "cancel", actor, now, note=note, effect=effect).obj


def appointment_reschedule(
    *, appointment_id: int, actor: User, slot_id: int, now: dt.datetime | None = None
) -> Appointment:
    """Move a booked appointment to another slot of the same item (at this or another station)."""
    now = now or timezone.now()
    new = _bookable_slot(slot_id, now)
    data: dict[str, Any] = {"to_slot": new.pk}

    def effect(a: Appointment) -> dict[str, Any]:
        if new.item_id != a.item_id:
            raise BookingError("different_item", "改约只能选择同一服务事项的其他时段")
        if new.pk == a.slot_id:
            raise BookingError("same_slot", "新时段与原时段相同")
        clash = _open_from_today(a.resident_id, now).filter(item_id=a.item_id, day=new.day).exclude(pk=a.pk)
        if clash.exists():
            raise BookingError("duplicate_for_day", "您当天已预约过这项服务", status=409)
        if not slot_take_place(slot_id=new.pk, now=now):
            raise BookingError("slot_full", "该时段已约满,请选择其他时间", status=409)
        slot_release_place(slot_id=a.slot_id, now=now)
        data["from_slot"] = a.slot_id
        return {
            "slot_id": new.pk,
            "station_id": new.station_id,
            "day": new.day,
            "starts_at": new.starts_at,
            "ends_at": new.ends_at,
            "region_path": new.region_path,
            "day_reminded_at": None,
            "hour_reminded_at": None,
        }

    try:
        return _apply(appointment_id, "reschedule", actor, now, effect=effect, data=data).obj
    except IntegrityError as exc:  # the partial unique index caught a concurrent booking of that day
        raise BookingError("duplicate_for_day", "您当天已预约过这项服务", status=409) from exc


def appointment_check_in(*, appointment_id: int, actor: User, now: dt.datetime | None = None) -> Appointment:
    """签到取号: the resident is here; give them the station's next number of the day."""
    now = now or timezone.now()

    def effect(a: Appointment) -> dict[str, Any]:
        return {"queue_number": queue_number_next(station_id=a.station_id, day=a.day), "checked_in_at": now}

    return _apply(appointment_id, "check_in", actor, now, effect=effect).obj


def appointment_complete(
    *,
    appointment_id: int,
    actor: User,
    station_id: int,
    data: dict[str, Any] | None = None,
    now: dt.datetime | None = None,
) -> Appointment:
    """Mark a checked-in appointment served (called by the window record, in its transaction)."""
    now = now or timezone.now()

    def effect(a: Appointment) -> dict[str, Any]:
        if a.station_id != station_id:
            raise BookingError("wrong_station", "该预约不属于本阵地")
        return {}

    return _apply(appointment_id, "complete", actor, now, effect=effect, data=data).obj


# --- sweeps ----------------------------------------------------------------------------------------
def appointments_sweep_no_show(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Mark booked appointments whose slot has ended as 未到. Idempotent; concurrent sweeps mark each once
    (the apply function locks the row and re-checks its state)."""
    now = now or timezone.now()
    ids = list(
        Appointment.objects.filter(status=AppointmentStatus.BOOKED, ends_at__lte=now)
        .order_by("ends_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    marked = 0
    for appointment_id in ids:
        try:
            _apply(appointment_id, "no_show", None, now)
        except TransitionError:
            continue  # checked in or cancelled since the read, or marked by a concurrent sweep
        marked += 1
    return marked


@dataclass(frozen=True)
class RemindReport:
    day: int
    hour: int

    def as_dict(self) -> dict[str, int]:
        return {"day": self.day, "hour": self.hour}


def _remind(candidates: Any, *, field: str, which: str, now: dt.datetime) -> int:
    sent = 0
    for appointment in candidates:
        with transaction.atomic():
            # Compare-and-set: of two concurrent sweeps exactly one flips the flag and writes the message.
            won = Appointment.objects.filter(
                pk=appointment.pk, status=AppointmentStatus.BOOKED, **{f"{field}__isnull": True}
            ).update(**{field: now})
            if won:
                notify.appointment_reminder(appointment, which=which)
                sent += 1
    return sent


def appointments_remind(*, now: dt.datetime | None = None, limit: int = SWEEP_BATCH) -> RemindReport:
    """Reminders through the outbox: the day before (for bookings made more than a day ahead) and an
    hour before. Idempotent: the flag columns and the dedup keys make a re-run send nothing again."""
    now = now or timezone.now()
    base = Appointment.objects.filter(status=AppointmentStatus.BOOKED).select_related(
        "station", "item", "resident"
    )
    day_candidates = [
        a
        for a in base.filter(
            starts_at__gt=now + REMIND_HOUR, starts_at__lte=now + REMIND_DAY, day_reminded_at__isnull=True
        ).order_by("starts_at")[:limit]
        if a.created_at <= a.starts_at - REMIND_DAY  # booked today for tomorrow: the confirmation suffices
    ]
    hour_candidates = base.filter(
        starts_at__gt=now, starts_at__lte=now + REMIND_HOUR, hour_reminded_at__isnull=True
    ).order_by("starts_at")[:limit]
    return RemindReport(
        day=_remind(day_candidates, field="day_reminded_at", which="day", now=now),
        hour=_remind(hour_candidates, field="hour_reminded_at", which="hour", now=now),
    )
