"""Rows to plain dicts for the API and the pages. Personal data leaves only masked (PI-2): staff screens
show ``张*`` and ``138****5678``; a resident sees their own rows without anyone else's data."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.accounts.models import User
from linli.bookings.models import AgencyDetail, Appointment, RoomBooking, ServiceRecord, Slot, ToolLoan
from linli.bookings.transitions import (
    AGENCY_FLOW,
    APPOINTMENT_FLOW,
    LOAN_FLOW,
    ROOM_BOOKING_FLOW,
    actions_for,
    state_label,
)
from linli.security.masking import mask_name, mask_phone


def person_masked(user: User | None, name: str = "", phone: str = "") -> dict[str, str]:
    """How staff screens name a person: masked name and phone, never the full values."""
    if user is not None:
        name, phone = user.display_name or user.get_username(), user.phone
    return {"name": mask_name(name), "phone": mask_phone(phone)}


def slot_dict(slot: Slot) -> dict[str, Any]:
    return {
        "id": slot.pk,
        "station_id": slot.station_id,
        "item_id": slot.item_id,
        "starts_at": _tz(slot.starts_at),
        "ends_at": _tz(slot.ends_at),
        "day": slot.day,
        "capacity": slot.capacity,
        "remaining": slot.remaining,
    }


def _tz(moment: Any) -> Any:
    """Times leave in local time with their offset (2026-03-02T09:00:00+08:00), as residents read them."""
    return timezone.localtime(moment) if moment else moment


def _local(moment: Any) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else ""


def appointment_dict(a: Appointment, *, viewer: Any, staff_view: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": a.pk,
        "status": a.status,
        "status_label": state_label(APPOINTMENT_FLOW, a.status),
        "status_category": a.status_category,
        "station_id": a.station_id,
        "station_name": a.station.name,
        "item_id": a.item_id,
        "item_name": a.item.name,
        "starts_at": _tz(a.starts_at),
        "ends_at": _tz(a.ends_at),
        "when": f"{_local(a.starts_at)}–{timezone.localtime(a.ends_at):%H:%M}",
        "queue_number": a.queue_number,
        "note": a.note,
        "actions": [t.action for t in actions_for(APPOINTMENT_FLOW, a, viewer)],
    }
    if staff_view:
        out["resident"] = person_masked(a.resident)
    return out


def record_dict(r: ServiceRecord) -> dict[str, Any]:
    return {
        "id": r.pk,
        "station_id": r.station_id,
        "item_id": r.item_id,
        "item_name": r.item.name,
        "outcome": r.outcome,
        "outcome_label": r.get_outcome_display(),
        "minutes": r.minutes,
        "staff": r.staff.display_name or r.staff.get_username(),
        "resident": person_masked(r.resident, r.visitor_name, r.visitor_phone),
        "queue_number": r.queue_number,
        "appointment_id": r.appointment_id,
        "served_at": _tz(r.served_at),
        "note": r.note,
    }


def agency_dict(d: AgencyDetail, *, viewer: Any, staff_view: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.pk,
        "case_id": d.case_id,
        "case_number": d.case.number,
        "case_status": d.case.get_status_display(),
        "item_id": d.item_id,
        "item_name": d.item.name,
        "station_name": d.station.name if d.station else "",
        "step": d.step,
        "step_label": state_label(AGENCY_FLOW, d.step),
        "door_to_door": d.door_to_door,
        "created_at": _tz(d.created_at),
        "events": [
            {
                "action": e.action,
                "to_state": e.to_state,
                "label": state_label(AGENCY_FLOW, e.to_state),
                "note": e.note,
                "at": _tz(e.created_at),
            }
            for e in d.events.all()
        ],
        "actions": [t.action for t in actions_for(AGENCY_FLOW, d, viewer)],
    }
    if staff_view:
        out["beneficiary"] = person_masked(d.on_behalf_of, d.beneficiary_name, d.beneficiary_phone)
        out["in_care_registry"] = d.in_care_registry
        # registry: found in the care registry when filed; manual: confirmed by hand (services.agency).
        out["care_source"] = "registry" if d.care_record_id else "manual" if d.in_care_registry else ""
    return out


def room_booking_dict(b: RoomBooking, *, viewer: Any, staff_view: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": b.pk,
        "resource_id": b.resource_id,
        "resource_name": b.resource.name,
        "station_name": b.resource.station.name,
        "starts_at": _tz(b.starts_at),
        "ends_at": _tz(b.ends_at),
        "when": f"{_local(b.starts_at)}–{timezone.localtime(b.ends_at):%H:%M}",
        "purpose": b.purpose,
        "attendees": b.attendees,
        "status": b.status,
        "status_label": state_label(ROOM_BOOKING_FLOW, b.status),
        "actions": [t.action for t in actions_for(ROOM_BOOKING_FLOW, b, viewer)],
    }
    if staff_view:
        out["booked_by"] = person_masked(b.booked_by)
    return out


def loan_dict(loan: ToolLoan, *, viewer: Any) -> dict[str, Any]:
    return {
        "id": loan.pk,
        "resource_id": loan.resource_id,
        "resource_name": loan.resource.name,
        "quantity": loan.quantity,
        "lent_at": _tz(loan.lent_at),
        "due_at": _tz(loan.due_at),
        "overdue": loan.status == "lent" and loan.due_at <= timezone.now(),
        "status": loan.status,
        "status_label": state_label(LOAN_FLOW, loan.status),
        "borrower": person_masked(loan.borrower),
        "actions": [t.action for t in actions_for(LOAN_FLOW, loan, viewer)],
    }
