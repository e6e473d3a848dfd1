"""Rooms and tools under /api/bookings/: a station's rooms and tools (public), room bookings with approval,
tool loans and returns (staff)."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.bookings import selectors
from linli.bookings import services as svc
from linli.bookings.api.common import StaffCheck, call, user_of
from linli.bookings.models import RoomBooking, ToolLoan
from linli.bookings.presenters import loan_dict, room_booking_dict
from linli.bookings.services.lookups import station_published
from linli.core.api import CappedPagination, ErrorOut, session_or_token

router = Router(tags=["bookings"])


class ResourceOut(Schema):
    id: int
    kind: str
    name: str
    description: str
    capacity: int | None
    min_minutes: int
    max_minutes: int
    advance_days: int
    per_person_limit: int
    needs_approval: bool
    quantity: int
    available: int
    loan_days: int


@router.get(
    "/stations/{int:station_id}/resources", response={200: list[ResourceOut], 404: ErrorOut}, auth=None
)
def station_resources(request: HttpRequest, station_id: int, kind: str = "") -> Any:
    """The rooms and tools of a published station, with their rules and how many tools are free."""
    station = call(lambda: station_published(station_id))
    return [
        {**{f: getattr(r, f) for f in ResourceOut.model_fields if f != "available"}, "available": r.available}
        for r in selectors.resources_public(station_id=station.pk, kind=kind)
    ]


class ResourceIn(Schema):
    kind: str = Field(..., description="room / tool")
    name: str
    description: str = ""
    capacity: int | None = Field(None, description="rooms: how many people fit")
    min_minutes: int = 30
    max_minutes: int = 240
    advance_days: int = 14
    per_person_limit: int = 2
    needs_approval: bool = False
    quantity: int = Field(1, description="tools: how many there are")
    loan_days: int = 7


@router.post(
    "/stations/{int:station_id}/resources",
    response={201: ResourceOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def resource_create(request: HttpRequest, station_id: int, body: ResourceIn) -> Any:
    """Staff (``bookings.manage`` over the station): add a room or a tool with its rules."""
    r = call(lambda: svc.resource_create(actor=user_of(request), station_id=station_id, **body.model_dump()))
    return HttpStatus(
        201,
        {
            **{f: getattr(r, f) for f in ResourceOut.model_fields if f != "available"},
            "available": r.available,
        },
    )


class BusyOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


@router.get("/rooms/{int:resource_id}/busy", response=list[BusyOut], auth=None)
def room_busy(request: HttpRequest, resource_id: int, day: dt.date) -> Any:
    """When the room is taken on a day (times only)."""
    return list(
        selectors.room_busy(resource_id=resource_id, first_day=day, last_day=day).values(
            "starts_at", "ends_at"
        )
    )


class RoomBookIn(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: str
    attendees: int = 1


class RoomBookingOut(Schema):
    id: int
    resource_id: int
    resource_name: str
    station_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    purpose: str
    attendees: int
    status: str
    status_label: str
    actions: list[str]
    booked_by: dict[str, str] | None = Field(None, description="staff only, masked")


_RESPONSES = {200: RoomBookingOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


@router.post(
    "/rooms/{int:resource_id}/bookings",
    response={201: RoomBookingOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def room_book(request: HttpRequest, resource_id: int, body: RoomBookIn) -> Any:
    user = user_of(request)
    booking = call(
        lambda: svc.room_book(
            user=user,
            resource_id=resource_id,
            starts_at=body.starts_at,
            ends_at=body.ends_at,
            purpose=body.purpose,
            attendees=body.attendees,
        )
    )
    return HttpStatus(201, room_booking_dict(booking, viewer=user))


@router.get("/room-bookings/mine", response=list[RoomBookingOut], auth=session_or_token)
@paginate(CappedPagination)
def room_bookings_mine(request: HttpRequest) -> Any:
    user = user_of(request)
    return [room_booking_dict(b, viewer=user) for b in selectors.room_bookings_mine(user=user)[:200]]


@router.get(
    "/room-bookings/pending", response={200: list[RoomBookingOut], 404: ErrorOut}, auth=session_or_token
)
@paginate(CappedPagination)
def room_bookings_pending(request: HttpRequest) -> Any:
    """Staff: bookings waiting for approval at the stations the caller manages."""
    StaffCheck.manage(request)
    user = user_of(request)
    return [
        room_booking_dict(b, viewer=user, staff_view=True)
        for b in selectors.room_bookings_pending_for_user(user=user)
    ]


class NoteIn(Schema):
    note: str = ""


def _booking(user: Any, booking: RoomBooking) -> dict[str, Any]:
    fresh = RoomBooking.objects.select_related("resource__station", "booked_by").get(pk=booking.pk)
    return room_booking_dict(fresh, viewer=user, staff_view=fresh.booked_by_id != user.pk)


@router.post("/room-bookings/{int:booking_id}/approve", response=_RESPONSES, auth=session_or_token)
def room_booking_approve(request: HttpRequest, booking_id: int, body: NoteIn) -> Any:
    user = user_of(request)
    return _booking(
        user,
        call(
            lambda: svc.room_booking_decide(booking_id=booking_id, actor=user, approve=True, note=body.note)
        ),
    )


@router.post("/room-bookings/{int:booking_id}/reject", response=_RESPONSES, auth=session_or_token)
def room_booking_reject(request: HttpRequest, booking_id: int, body: NoteIn) -> Any:
    user = user_of(request)
    return _booking(
        user,
        call(
            lambda: svc.room_booking_decide(booking_id=booking_id, actor=user, approve=False, note=body.note)
        ),
    )


@router.post("/room-bookings/{int:booking_id}/cancel", response=_RESPONSES, auth=session_or_token)
def room_booking_cancel(request: HttpRequest, booking_id: int, body: NoteIn) -> Any:
    user = user_of(request)
    return _booking(
        user, call(lambda: svc.room_booking_cancel(booking_id=booking_id, actor=user, note=body.note))
    )


class LendIn(Schema):
    borrower_phone: str
    quantity: int = 1
    due_at: dt.datetime | None = None


class LoanOut(Schema):
    id: int
    resource_id: int
    resource_name: str
    quantity: int
    lent_at: dt.datetime
    due_at: dt.datetime
    overdue: bool
    status: str
    status_label: str
    borrower: dict[str, str]
    actions: list[str]


def _loan(user: Any, loan: ToolLoan) -> dict[str, Any]:
    fresh = ToolLoan.objects.select_related("resource", "borrower").get(pk=loan.pk)
    return loan_dict(fresh, viewer=user)


@router.post(
    "/tools/{int:resource_id}/loans",
    response={201: LoanOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def tool_lend(request: HttpRequest, resource_id: int, body: LendIn) -> Any:
    """Staff: lend a tool to a resident (named by their account's phone)."""
    user = user_of(request)
    loan = call(
        lambda: svc.tool_lend(
            actor=user,
            resource_id=resource_id,
            borrower_phone=body.borrower_phone,
            quantity=body.quantity,
            due_at=body.due_at,
        )
    )
    return HttpStatus(201, _loan(user, loan))


@router.get("/loans", response={200: list[LoanOut], 404: ErrorOut}, auth=session_or_token)
@paginate(CappedPagination)
def loans_open(request: HttpRequest) -> Any:
    """Staff: tools out now, at the stations in scope, earliest due first."""
    StaffCheck.view(request)
    user = user_of(request)
    return [loan_dict(loan, viewer=user) for loan in selectors.loans_open_for_user(user=user)[:500]]


@router.post(
    "/loans/{int:loan_id}/return",
    response={200: LoanOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def loan_return(request: HttpRequest, loan_id: int, body: NoteIn) -> Any:
    user = user_of(request)
    return _loan(user, call(lambda: svc.loan_return(loan_id=loan_id, actor=user, note=body.note)))
