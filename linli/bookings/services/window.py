"""Window service records (一窗受理): record one encounter, booked or walk-in.

A record made from a checked-in appointment completes that appointment in the same transaction (through
the appointment table's ``complete`` action), so the queue and the records never disagree.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from linli.accounts.services import AccountError, phone_normalize
from linli.bookings.errors import BookingError
from linli.bookings.models import MINUTES_MAX, Appointment, Outcome, ServiceRecord
from linli.bookings.services.appointments import appointment_complete
from linli.bookings.services.lookups import item_active, require_offered, station_managed

if TYPE_CHECKING:
    from linli.accounts.models import User

NOTE_MAX = 500
NAME_MAX = 50


def _resident_by_phone(phone: str) -> tuple[User | None, str]:
    """(the account with this phone, "") or (None, the normalised phone) for a walk-in without one."""
    if not phone.strip():
        return None, ""
    try:
        normalised = phone_normalize(phone)
    except AccountError as exc:
        raise BookingError(exc.code, exc.message) from exc
    from linli.accounts.models import User

    user = User.objects.filter(phone_index__matches=normalised, is_active=True).first()
    return (user, "") if user is not None else (None, normalised)


def service_record_create(
    *,
    actor: User,
    station_id: int,
    item_id: int | str | None,
    outcome: str,
    minutes: int,
    appointment_id: int | None = None,
    resident_phone: str = "",
    visitor_name: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """Record an encounter at ``station_id``'s window by ``actor`` (who needs ``bookings.manage`` there)."""
    now = now or timezone.now()
    station = station_managed(actor, station_id)
    appointment = None
    if appointment_id is not None:
        appointment = Appointment.objects.select_related("resident").filter(pk=appointment_id).first()
        if appointment is None or appointment.station_id != station.pk:
            raise BookingError("unknown_appointment", "该预约不存在或不属于本阵地", status=404)
        if item_id in (None, ""):
            item_id = appointment.item_id
    item = item_active(item_id)
    require_offered(station=station, item=item, universal_ok=True)  # 通办 items are handled at any window
    if outcome not in Outcome.values:
        raise BookingError("invalid_outcome", "请选择办理结果:办结、受理、补正材料、不予受理或咨询")
    if not isinstance(minutes, int) or not 1 <= minutes <= MINUTES_MAX:
        raise BookingError("invalid_minutes", f"办理用时应为 1–{MINUTES_MAX} 分钟")
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise BookingError("note_too_long", f"备注不能超过{NOTE_MAX}字")
    visitor_name = (visitor_name or "").strip()
    if len(visitor_name) > NAME_MAX:
        raise BookingError("name_too_long", f"姓名不能超过{NAME_MAX}字")
    resident, visitor_phone = _resident_by_phone(resident_phone)
    if appointment is not None:
        resident, visitor_phone = appointment.resident, ""
    with transaction.atomic():
        if appointment is not None:
            appointment = appointment_complete(
                appointment_id=appointment.pk,
                actor=actor,
                station_id=station.pk,
                data={"outcome": outcome, "minutes": minutes},
                now=now,
            )
        record = ServiceRecord.objects.create(
            station=station,
            item=item,
            staff=actor,
            appointment=appointment,
            resident=resident,
            visitor_name="" if resident is not None else visitor_name,
            visitor_phone=visitor_phone,
            outcome=outcome,
            minutes=minutes,
            note=note,
            queue_number=appointment.queue_number if appointment is not None else "",
            served_at=now,
            day=timezone.localdate(now),
            region_path=station.region_path,
        )
    return record
