"""What a person's row looks like on a screen, in JSON and in a spreadsheet: masked (PI-2).

Every output of the register goes through these functions, so there is one place where names, ID numbers
and phones are masked. Full values leave the server only through ``pii_reveal`` (a reason, an audit row)
or a revealed export (a reason, an audit row). The 三亮 card is the one deliberate exception: an ACTIVE
steward's name and duty phone are public by design (``steward_public``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils import timezone

from linli.people.models import CareRecord, Household, Resident, Steward
from linli.people.selectors.care import care_due_state, care_interval_days
from linli.security.masking import mask_id_number, mask_name, mask_phone


def resident_row(r: Resident, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    return {
        "id": r.pk,
        "household_id": r.household_id,
        "address": r.household.address_label,
        "building_code": r.household.building.code,
        "name": mask_name(r.name),
        "gender": r.get_gender_display() if r.gender else "",
        "age": r.age_on(today),
        "id_kind": r.id_kind,
        "id_number": mask_id_number(r.id_number),
        "phone": mask_phone(r.phone),
        "relation": r.relation,
        "relation_label": str(r.get_relation_display()),
        "registration": r.registration,
        "registration_label": str(r.get_registration_display()),
        "tags": r.tag_list,
        "status": r.status,
        "status_label": str(r.get_status_display()),
        "moved_in_on": r.moved_in_on,
        "moved_out_on": r.moved_out_on,
        "grid_id": r.grid_id,
    }


def household_row(h: Household) -> dict[str, Any]:
    return {
        "id": h.pk,
        "building_id": h.building_id,
        "building_code": h.building.code,
        "building": h.building.name,
        "unit_no": h.unit_no,
        "room": h.room,
        "address": h.address_label,
        "grid_id": h.grid_id,
        "grid": h.grid.name if h.grid else "",
        "present_count": getattr(h, "present_count", None),
    }


def care_row(record: CareRecord, today: dt.date | None = None) -> dict[str, Any]:
    today = today or timezone.localdate()
    due = care_due_state(record, today)
    resident = record.resident
    return {
        "id": record.pk,
        "resident_id": resident.pk,
        "name": mask_name(resident.name),
        "age": resident.age_on(today),
        "address": resident.household.address_label,
        "level": record.level.code,
        "level_label": record.level.name,
        "interval_days": care_interval_days(record),
        "categories": [c.name for c in record.categories.all()],
        "worker": str(record.worker) if record.worker else "",
        "worker_id": record.worker_id,
        "status": record.status,
        "last_visit_at": record.last_visit_at,
        "next_visit_due": record.next_visit_due,
        "due_state": due.label,
        "due_days": due.days,
        "grid_id": record.grid_id,
    }


def duty_phone_display(phone: str) -> str:
    """A mainland mobile as stored; a landline stored as E.164 (``+868162345678``) as dialled: ``0816 234 5678``."""
    if not phone.startswith("+86"):
        return phone
    import phonenumbers

    try:
        return str(
            phonenumbers.format_number(phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL)
        )
    except phonenumbers.NumberParseException:
        return phone


def steward_row(s: Steward) -> dict[str, Any]:
    """Staff view: an ACTIVE steward's name and duty phone are public anyway; others are masked."""
    public = s.is_public
    return {
        "id": s.pk,
        "kind": s.kind,
        "kind_label": str(s.get_kind_display()),
        "name": s.name if public else mask_name(s.name),
        "organisation": s.organisation,
        "duty": s.duty,
        "duty_phone": duty_phone_display(s.duty_phone) if public else mask_phone(s.duty_phone),
        "community_id": s.community_id,
        "community": s.community.name,
        "grid_id": s.grid_id,
        "grid": s.grid.name if s.grid else "",
        "status": s.status,
        "status_label": str(s.get_status_display()),
        "has_photo": bool(s.photo),
    }


def steward_public(s: Steward) -> dict[str, Any]:
    """The 三亮 card entry: by design (the purpose of 三亮) full name and duty phone, ACTIVE stewards only."""
    if not s.is_public:
        raise ValueError("only active stewards appear on a public card")
    return {
        "id": s.pk,
        "kind": s.kind,
        "kind_label": str(s.get_kind_display()),
        "name": s.name,
        "organisation": s.organisation,
        "duty": s.duty,
        "duty_phone": duty_phone_display(s.duty_phone),
        "photo_url": reverse("people:steward_photo", args=[s.pk]) if s.photo else "",
    }
