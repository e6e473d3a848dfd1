"""/api/people/care: the 分类分色 registry (``care.view`` in scope only, PI-3), visits with photos."""

# No "from __future__ import annotations": django-ninja resolves Query[...] / Form[...] at runtime.
import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.people.access import may
from linli.people.api.common import SafeName, not_found, raise_api, require, router
from linli.people.api.register import _Mapped
from linli.people.errors import PeopleError
from linli.people.models import CareRecord, CareStatus, LevelColour, Resident, VisitKind
from linli.people.presenters import care_row
from linli.people.selectors.care import (
    CareFilters,
    care_record_for_user,
    care_records_for_user,
    care_visits_of,
)
from linli.people.selectors.households import resident_for_user
from linli.people.services import care_record_close, care_record_open, care_record_update, care_visit_record
from linli.security.audit import audit_sensitive_read

MAX_PHOTO_BYTES = 10 * 1024 * 1024


class CareOut(Schema):
    id: int
    resident_id: int
    name: SafeName
    age: int | None
    address: str
    level: str
    level_label: str
    interval_days: int
    categories: list[str]
    worker: str
    worker_id: int | None
    status: str
    last_visit_at: dt.datetime | None
    next_visit_due: dt.date | None
    due_state: str
    due_days: int
    grid_id: int | None


class CareQuery(Schema):
    status: str = Field("active", max_length=10, description="active(默认)/ closed / 空=全部")
    level: str = Field("", max_length=10, description="red / yellow / green")
    category_id: int | None = Field(None, ge=1)
    grid_id: int | None = Field(None, ge=1)
    mine: bool = Field(False, description="只看我的走访计划")
    overdue: bool = Field(False, description="只看已超期")


@router.get("/care", response=list[CareOut], auth=session_or_token, url_name="people_care_list")
@paginate(CappedPagination)
def care_list(request: HttpRequest, q: Query[CareQuery]) -> Any:
    """Care records in the caller's care scope, overdue first."""
    user = require(request, Capability.CARE_VIEW)
    filters = CareFilters(
        status=q.status if q.status in CareStatus.values else "",
        level=q.level if q.level in LevelColour.values else "",
        category_id=q.category_id,
        grid_id=q.grid_id,
        worker_id=user.pk if q.mine else None,
        overdue_only=q.overdue,
    )
    return _Mapped(care_records_for_user(user, filters).prefetch_related("categories"), care_row)


class PhotoOut(Schema):
    id: int
    url: str


class VisitOut(Schema):
    id: int
    kind: str
    kind_label: str
    visited_at: dt.datetime
    worker: str
    notes: str
    photos: list[PhotoOut]


class EventOut(Schema):
    action: str
    from_value: str
    to_value: str
    note: str
    created_at: dt.datetime


class CareDetailOut(CareOut):
    legal_basis: str
    legal_reference: str
    situation: str
    opened_on: dt.date
    closed_on: dt.date | None
    close_reason: str
    retention_until: dt.date | None
    visits: list[VisitOut]
    events: list[EventOut]
    may_edit: bool


def _visit_dict(visit: Any) -> dict[str, Any]:
    return {
        "id": visit.pk,
        "kind": visit.kind,
        "kind_label": str(visit.get_kind_display()),
        "visited_at": visit.visited_at,
        "worker": str(visit.worker) if visit.worker else "",
        "notes": visit.notes,
        "photos": [
            {"id": p.pk, "url": reverse("people:care_photo", args=[visit.pk, p.pk])}
            for p in visit.photos.all()
        ],
    }


def _record(
    request: HttpRequest, record_id: int, capability: str = Capability.CARE_VIEW
) -> tuple[User, CareRecord]:
    user = require(request, capability)
    record = care_record_for_user(user, record_id)
    if record is None or not may(user, capability, record):
        not_found(CareRecord, record_id)
    return user, record


@router.get(
    "/care/{int:record_id}",
    response={200: CareDetailOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_care_detail",
)
def care_detail(request: HttpRequest, record_id: int) -> Any:
    """One care record with its visits and history; every read is audited (PI-3)."""
    user, record = _record(request, record_id)
    audit_sensitive_read(viewer=user, obj=record, fields=["care_record"], purpose="care", request=request)
    return care_row(record) | {
        "legal_basis": record.legal_basis,
        "legal_reference": record.legal_reference,
        "situation": record.situation,
        "opened_on": record.opened_on,
        "closed_on": record.closed_on,
        "close_reason": record.close_reason,
        "retention_until": record.retention_until,
        "visits": [_visit_dict(v) for v in care_visits_of(record)[:100]],
        "events": list(record.events.values("action", "from_value", "to_value", "note", "created_at")[:100]),
        "may_edit": may(user, Capability.CARE_EDIT, record),
    }


def _worker(user: User, worker_id: int | None) -> User | None:
    if worker_id is None:
        return None
    worker = User.objects.filter(pk=worker_id, is_active=True).first()
    if worker is None:
        raise ApiError("worker_out_of_scope", "走访责任人须是该网格(或社区)有关爱权限的工作人员", status=400)
    return worker


class CareOpenIn(Schema):
    resident_id: int = Field(..., ge=1)
    category_ids: list[int] = Field(..., min_length=1, max_length=10)
    level: LevelColour
    worker_id: int | None = Field(None, ge=1)
    interval_days: int | None = Field(None, ge=1, le=366)
    situation: str = Field("", max_length=2000)


@router.post(
    "/care",
    response={201: CareOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_care_open",
)
def care_open(request: HttpRequest, payload: CareOpenIn) -> Any:
    """Put a resident on the registry (the legal basis of the categories is recorded with it)."""
    user = require(request, Capability.CARE_EDIT)
    resident = resident_for_user(user, payload.resident_id)
    if resident is None or not may(user, Capability.CARE_EDIT, resident):
        not_found(Resident, payload.resident_id)
    try:
        record = care_record_open(
            actor=user,
            resident=resident,
            category_ids=payload.category_ids,
            level_code=payload.level,
            worker=_worker(user, payload.worker_id),
            interval_days_override=payload.interval_days,
            situation=payload.situation,
        )
    except PeopleError as exc:
        raise_api(exc)
    found = care_record_for_user(user, record.pk)
    if found is None:
        raise Http404
    return HttpStatus(201, care_row(found))


class CarePatch(Schema):
    level: LevelColour | None = None
    category_ids: list[int] | None = Field(None, min_length=1, max_length=10)
    worker_id: int | None = Field(None, ge=1)
    interval_days: int | None = Field(None, ge=1, le=366)
    situation: str | None = Field(None, max_length=2000)
    note: str = Field("", max_length=200)


@router.patch(
    "/care/{int:record_id}",
    response={200: CareOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_care_patch",
)
def care_patch(request: HttpRequest, record_id: int, payload: CarePatch) -> Any:
    """Change level, categories, visit-plan owner, interval or situation (each change a history row)."""
    user, _record_row = _record(request, record_id, Capability.CARE_EDIT)
    given = payload.dict(exclude_unset=True)
    try:
        care_record_update(
            actor=user,
            record_id=record_id,
            level_code=given.get("level"),
            category_ids=given.get("category_ids"),
            worker=_worker(user, given["worker_id"]) if "worker_id" in given else False,
            interval_days_override=given.get("interval_days", False),
            situation=given.get("situation"),
            note=payload.note,
        )
    except PeopleError as exc:
        raise_api(exc)
    _user, record = _record(request, record_id)
    return care_row(record)


class CloseIn(Schema):
    reason: str = Field(..., min_length=1, max_length=200)


@router.post(
    "/care/{int:record_id}/close",
    response={200: CareOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_care_close",
)
def care_close(request: HttpRequest, record_id: int, payload: CloseIn) -> Any:
    user, _record_row = _record(request, record_id, Capability.CARE_EDIT)
    try:
        care_record_close(actor=user, record_id=record_id, reason=payload.reason)
    except PeopleError as exc:
        raise_api(exc)
    _user, record = _record(request, record_id)
    return care_row(record)


@router.post(
    "/care/{int:record_id}/visits",
    response={201: VisitOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_care_visit",
)
def care_visit(
    request: HttpRequest,
    record_id: int,
    kind: Form[VisitKind],
    notes: Form[str] = "",
    visited_at: Form[dt.datetime | None] = None,
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Any:
    """Record a door or phone visit, with up to 6 photos (re-encoded, EXIF/GPS removed)."""
    user, _record_row = _record(request, record_id, Capability.CARE_EDIT)
    data = []
    for photo in photos or []:
        if photo.size is not None and photo.size > MAX_PHOTO_BYTES:
            raise ApiError("upload_too_large", "图片不能超过10MB", status=400)
        data.append(photo.read(MAX_PHOTO_BYTES + 1))
    try:
        visit = care_visit_record(
            actor=user, record_id=record_id, kind=kind, notes=notes[:2001], visited_at=visited_at, photos=data
        )
    except PeopleError as exc:
        raise_api(exc)
    return HttpStatus(201, _visit_dict(visit))
