"""Slots, appointments, the window queue and window records (一窗受理) under /api/bookings/.

JSON in, JSON out; errors are ``{code, message}``. Staff endpoints answer 404 for stations and rows
outside the caller's scope.
"""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.bookings import selectors
from linli.bookings import services as svc
from linli.bookings.api.common import EventOut, StaffCheck, call, events_of, user_of
from linli.bookings.models import MINUTES_MAX
from linli.bookings.presenters import appointment_dict, record_dict, slot_dict
from linli.bookings.services.lookups import item_active, require_offered, station_managed, station_published
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token

router = Router(tags=["bookings"])


class SlotOut(Schema):
    id: int
    station_id: int
    item_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    day: dt.date
    capacity: int
    remaining: int


class SlotsQuery(Schema):
    station: int = Field(..., description="station id")
    item: int | str = Field(..., description="service item id or code")
    first_day: dt.date | None = Field(None, alias="from", description="first local date (default today)")
    last_day: dt.date | None = Field(None, alias="to", description="last local date (default +13 days)")


@router.get("/slots", response={200: list[SlotOut], 400: ErrorOut, 404: ErrorOut}, auth=None)
def slots(request: HttpRequest, q: Query[SlotsQuery]) -> Any:
    """Open slots of an item at a published station, with the places left (no sign-in needed)."""
    first = q.first_day or timezone.localdate()
    last = q.last_day or first + dt.timedelta(days=selectors.CALENDAR_DAYS - 1)
    if last < first or (last - first).days > 31:
        raise ApiError("invalid_range", "日期范围不正确(最多31天)")

    def load() -> list[dict[str, Any]]:
        station = station_published(q.station)
        item = item_active(q.item)
        require_offered(station=station, item=item)
        rows = selectors.slots_public(station_id=station.pk, item_id=item.pk, first_day=first, last_day=last)
        return [slot_dict(s) for s in rows]

    return call(load)


class GenerateIn(Schema):
    station_id: int
    item: int | str = Field(..., description="service item id or code")
    first_day: dt.date
    last_day: dt.date
    length_minutes: int = Field(30, description="slot length, 5–240 minutes")
    capacity: int = Field(..., description="places per slot, 1–200")


class GenerateOut(Schema):
    created: int
    existing: int
    days: int


@router.post(
    "/slots/generate", response={200: GenerateOut, 400: ErrorOut, 404: ErrorOut}, auth=session_or_token
)
def slots_generate(request: HttpRequest, body: GenerateIn) -> Any:
    """Staff: cut the station's opening periods into slots (idempotent; existing slots are kept)."""
    result = call(
        lambda: svc.slots_generate(
            actor=user_of(request),
            station_id=body.station_id,
            item_id=body.item,
            first_day=body.first_day,
            last_day=body.last_day,
            length_minutes=body.length_minutes,
            capacity=body.capacity,
        )
    )
    return {"created": result.created, "existing": result.existing, "days": result.days}


class SlotIn(Schema):
    station_id: int
    item: int | str
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int


@router.post(
    "/slots", response={201: SlotOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut}, auth=session_or_token
)
def slot_create(request: HttpRequest, body: SlotIn) -> Any:
    """Staff: one explicit slot (inside an opening period, in the future)."""
    slot = call(
        lambda: svc.slot_create(
            actor=user_of(request),
            station_id=body.station_id,
            item_id=body.item,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            capacity=body.capacity,
        )
    )
    return HttpStatus(201, slot_dict(slot))


# --- appointments ----------------------------------------------------------------------------------
class AppointmentOut(Schema):
    id: int
    status: str
    status_label: str
    status_category: str
    station_id: int
    station_name: str
    item_id: int
    item_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    queue_number: str
    note: str
    actions: list[str] = Field(..., description="actions the caller may try now")
    resident: dict[str, str] | None = Field(None, description="staff only: masked name and phone")


class AppointmentDetailOut(AppointmentOut):
    events: list[EventOut]


class BookIn(Schema):
    slot_id: int
    note: str = ""


@router.post(
    "/appointments",
    response={201: AppointmentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def appointment_book(request: HttpRequest, body: BookIn) -> Any:
    user = user_of(request)
    a = call(lambda: svc.appointment_book(resident=user, slot_id=body.slot_id, note=body.note))
    return HttpStatus(201, appointment_dict(a, viewer=user))


@router.get("/appointments/mine", response=list[AppointmentOut], auth=session_or_token)
@paginate(CappedPagination)
def appointments_mine(request: HttpRequest) -> Any:
    user = user_of(request)
    return [appointment_dict(a, viewer=user) for a in selectors.appointments_mine(user=user)[:200]]


def _detail(user: User, appointment_id: int) -> dict[str, Any]:
    a = selectors.appointment_for_user(user=user, appointment_id=appointment_id)
    if a is None:
        raise ApiError("not_found", "预约不存在或无权访问", status=404)
    staff = a.resident_id != user.pk
    return appointment_dict(a, viewer=user, staff_view=staff) | {"events": events_of(a.events.all())}


@router.get(
    "/appointments/{int:appointment_id}",
    response={200: AppointmentDetailOut, 404: ErrorOut},
    auth=session_or_token,
)
def appointment_detail(request: HttpRequest, appointment_id: int) -> Any:
    return _detail(user_of(request), appointment_id)


class NoteIn(Schema):
    note: str = ""


class RescheduleIn(Schema):
    slot_id: int


_ACTION_RESPONSES = {200: AppointmentDetailOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post("/appointments/{int:appointment_id}/cancel", response=_ACTION_RESPONSES, auth=session_or_token)
def appointment_cancel(request: HttpRequest, appointment_id: int, body: NoteIn) -> Any:
    user = user_of(request)
    call(lambda: svc.appointment_cancel(appointment_id=appointment_id, actor=user, note=body.note))
    return _detail(user, appointment_id)


@router.post(
    "/appointments/{int:appointment_id}/reschedule", response=_ACTION_RESPONSES, auth=session_or_token
)
def appointment_reschedule(request: HttpRequest, appointment_id: int, body: RescheduleIn) -> Any:
    user = user_of(request)
    call(lambda: svc.appointment_reschedule(appointment_id=appointment_id, actor=user, slot_id=body.slot_id))
    return _detail(user, appointment_id)


@router.post("/appointments/{int:appointment_id}/check-in", response=_ACTION_RESPONSES, auth=session_or_token)
def appointment_check_in(request: HttpRequest, appointment_id: int) -> Any:
    """Staff: 签到取号 — the answer carries the queue number."""
    user = user_of(request)
    call(lambda: svc.appointment_check_in(appointment_id=appointment_id, actor=user))
    return _detail(user, appointment_id)


# --- the window ------------------------------------------------------------------------------------
class QueueOut(Schema):
    station_id: int
    day: dt.date
    waiting: list[AppointmentOut]
    expected: list[AppointmentOut]
    done: int
    no_show: int


@router.get(
    "/stations/{int:station_id}/queue", response={200: QueueOut, 404: ErrorOut}, auth=session_or_token
)
def station_queue(request: HttpRequest, station_id: int, day: dt.date | None = None) -> Any:
    """Staff: today's queue at a station (checked in, by number) and who is still expected."""
    user = user_of(request)
    station = call(lambda: station_managed(user, station_id))
    day = day or timezone.localdate()
    queue = selectors.queue_for_station(user=user, station_id=station.pk, day=day)
    return {
        "station_id": station.pk,
        "day": day,
        "waiting": [appointment_dict(a, viewer=user, staff_view=True) for a in queue.waiting],
        "expected": [appointment_dict(a, viewer=user, staff_view=True) for a in queue.expected],
        "done": queue.done,
        "no_show": queue.no_show,
    }


class RecordIn(Schema):
    station_id: int
    item: int | str | None = Field(None, description="item id or code; defaults to the appointment's item")
    outcome: str = Field(..., description="completed / accepted / materials / refused / consulted")
    minutes: int = Field(..., description=f"handling minutes, 1–{MINUTES_MAX}")
    appointment_id: int | None = None
    resident_phone: str = Field("", description="links the record to the resident's account if one exists")
    visitor_name: str = ""
    note: str = ""


class RecordOut(Schema):
    id: int
    station_id: int
    item_id: int
    item_name: str
    outcome: str
    outcome_label: str
    minutes: int
    staff: str
    resident: dict[str, str]
    queue_number: str
    appointment_id: int | None
    served_at: dt.datetime
    note: str


@router.post(
    "/records",
    response={201: RecordOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def record_create(request: HttpRequest, body: RecordIn) -> Any:
    """Staff: record one window encounter (booked — completes the appointment — or walk-in)."""
    record = call(
        lambda: svc.service_record_create(
            actor=user_of(request),
            station_id=body.station_id,
            item_id=body.item,
            outcome=body.outcome,
            minutes=body.minutes,
            appointment_id=body.appointment_id,
            resident_phone=body.resident_phone,
            visitor_name=body.visitor_name,
            note=body.note,
        )
    )
    return HttpStatus(201, record_dict(record))


class PeriodQuery(Schema):
    since: dt.date | None = None
    until: dt.date | None = None
    station: int | None = None


def _period(q: PeriodQuery) -> tuple[dt.date, dt.date]:
    until = q.until or timezone.localdate()
    since = q.since or until.replace(day=1)
    if since > until or (until - since).days > 366:
        raise ApiError("invalid_range", "日期范围不正确(最多一年)")
    return since, until


@router.get("/records", response={200: list[RecordOut], 400: ErrorOut}, auth=session_or_token)
@paginate(CappedPagination)
def records(request: HttpRequest, q: Query[PeriodQuery]) -> Any:
    """Staff: window records in scope (default: this month so far), newest first, people masked."""
    StaffCheck.view(request)
    since, until = _period(q)
    qs = selectors.records_for_user(user=user_of(request), since=since, until=until)
    if q.station is not None:
        qs = qs.filter(station_id=q.station)
    return [record_dict(r) for r in qs[:1000]]


class WorkloadRow(Schema):
    id: int
    name: str
    count: int
    minutes: int
    completed: int


class WorkloadOut(Schema):
    since: dt.date
    until: dt.date
    total: int
    by_staff: list[WorkloadRow]
    by_item: list[WorkloadRow]


@router.get("/workload", response={200: WorkloadOut, 400: ErrorOut}, auth=session_or_token)
def workload(request: HttpRequest, q: Query[PeriodQuery]) -> Any:
    """Staff: encounters per staff member and per item in a period (for ratings and reports)."""
    StaffCheck.view(request)
    since, until = _period(q)
    w = selectors.workload_for_user(user=user_of(request), since=since, until=until, station_id=q.station)

    def rows(items: list[dict[str, Any]], key: str, name: str, alt: str = "") -> list[dict[str, Any]]:
        return [
            {
                "id": r[key],
                "name": r[name] or (r[alt] if alt else ""),
                "count": r["count"],
                "minutes": r["minutes"] or 0,
                "completed": r["completed"],
            }
            for r in items
        ]

    return {
        "since": since,
        "until": until,
        "total": w.total,
        "by_staff": rows(w.by_staff, "staff_id", "staff__display_name", "staff__username"),
        "by_item": rows(w.by_item, "item_id", "item__name"),
    }
