"""代办/帮办 under /api/bookings/agency: ask for an errand, my requests, staff list and steps."""

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
from linli.bookings.presenters import agency_dict
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token

router = Router(tags=["bookings"])


class AgencyIn(Schema):
    item: int | str = Field(..., description="service item id or code; the item must allow 代办")
    text: str = Field(..., description="what is needed, in the resident's words")
    station_id: int | None = Field(None, description="the station that will handle it (optional)")
    beneficiary_phone: str = Field("", description="staff only: the resident's phone (links their account)")
    beneficiary_name: str = Field("", description="staff only: the resident's name")
    door_to_door: bool = Field(False, description="上门代办: staff only, for people in the care registry")
    in_care_registry: bool = Field(
        False,
        description="staff only, a manual override: the person is in the care registry although the lookup"
        " (by beneficiary_phone, in the caller's care scope) finds nobody; needs care_note",
    )
    care_note: str = ""
    care_record_id: int | None = Field(
        None,
        description="staff with care.view: a care record from their own list (404 care_record_not_found)",
    )
    idempotency_key: str = Field(
        "", description="8–64 characters; a retry with the same key returns the first"
    )


class AgencyEventOut(Schema):
    action: str
    to_state: str
    label: str
    note: str
    at: dt.datetime


class AgencyOut(Schema):
    id: int
    case_id: int
    case_number: str
    case_status: str
    item_id: int
    item_name: str
    station_name: str
    step: str
    step_label: str
    door_to_door: bool
    created_at: dt.datetime
    events: list[AgencyEventOut]
    actions: list[str]
    beneficiary: dict[str, str] | None = Field(None, description="staff only, masked")
    in_care_registry: bool | None = None
    care_source: str | None = Field(None, description="staff only: registry, manual or empty")


@router.post(
    "/agency",
    response={201: AgencyOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def agency_request(request: HttpRequest, body: AgencyIn) -> Any:
    user = user_of(request)
    key = body.idempotency_key or request.headers.get("Idempotency-Key", "")
    detail = call(
        lambda: svc.agency_request(
            requester=user,
            item_id=body.item,
            text=body.text,
            station_id=body.station_id,
            beneficiary_phone=body.beneficiary_phone,
            beneficiary_name=body.beneficiary_name,
            door_to_door=body.door_to_door,
            in_care_registry=body.in_care_registry,
            care_note=body.care_note,
            care_record_id=body.care_record_id,
            idempotency_key=key,
        )
    )
    detail = selectors.agency_mine(user=user).filter(pk=detail.pk).first() or detail
    return HttpStatus(201, agency_dict(detail, viewer=user, staff_view=detail.on_behalf_of_id != user.pk))


@router.get("/agency/mine", response=list[AgencyOut], auth=session_or_token)
@paginate(CappedPagination)
def agency_mine(request: HttpRequest) -> Any:
    user = user_of(request)
    return [agency_dict(d, viewer=user) for d in selectors.agency_mine(user=user)[:200]]


@router.get("/agency", response={200: list[AgencyOut], 404: ErrorOut}, auth=session_or_token)
@paginate(CappedPagination)
def agency_list(request: HttpRequest, open_only: bool = False) -> Any:
    """Staff (``bookings.agency``): requests in scope, people masked."""
    StaffCheck.agency(request)
    user = user_of(request)
    rows = selectors.agency_for_user(user=user, open_only=open_only).prefetch_related("events")[:500]
    return [agency_dict(d, viewer=user, staff_view=True) for d in rows]


class StepIn(Schema):
    action: str = Field(..., description="collect → submit → return_result")
    note: str = ""


@router.post(
    "/agency/{int:detail_id}/steps",
    response={200: AgencyOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def agency_step(request: HttpRequest, detail_id: int, body: StepIn) -> Any:
    user = user_of(request)
    call(lambda: svc.agency_step(detail_id=detail_id, actor=user, action=body.action, note=body.note))
    detail = selectors.agency_detail_for_user(user=user, detail_id=detail_id)
    if detail is None:
        raise ApiError("not_found", "代办不存在或无权访问", status=404)
    return agency_dict(detail, viewer=user, staff_view=True)
