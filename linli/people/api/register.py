"""/api/people/: households and residents (masked), moves, reveal, and the Excel import and export."""

# No "from __future__ import annotations": django-ninja resolves Query[...] / Form[...] at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Schema
from ninja import Status as HttpStatus
from ninja.files import UploadedFile
from ninja.pagination import paginate

from linli.accounts.roles import Capability
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.people.access import may
from linli.people.api.common import (
    XLSX,
    SafeIdNumber,
    SafeName,
    SafePhone,
    not_found,
    raise_api,
    require,
    router,
    user_of,
)
from linli.people.errors import PeopleError
from linli.people.excel.register_export import register_export
from linli.people.excel.register_import import MAX_BYTES, register_import
from linli.people.models import Household, Resident, ResidentStatus
from linli.people.presenters import household_row, resident_row
from linli.people.selectors.households import (
    RegisterFilters,
    building_for_user,
    household_for_user,
    household_moves,
    household_residents,
    households_for_user,
    resident_for_user,
    residents_for_user,
    residents_lookup,
)
from linli.people.services import resident_move_in, resident_move_out, resident_update
from linli.people.services.households import household_get_or_create
from linli.security.audit import audit_record, audit_sensitive_read
from linli.security.models import AuditResult
from linli.security.reveal import RevealError, may_reveal, pii_reveal

REVEALABLE = {"name", "id_number", "phone", "birth_date"}


class ResidentOut(Schema):
    id: int
    household_id: int
    address: str
    building_code: str
    name: SafeName
    gender: str
    age: int | None
    id_kind: str
    id_number: SafeIdNumber
    phone: SafePhone
    relation: str
    relation_label: str
    registration: str
    registration_label: str
    tags: list[str]
    status: str
    status_label: str
    moved_in_on: dt.date
    moved_out_on: dt.date | None
    grid_id: int | None


class HouseholdOut(Schema):
    id: int
    building_id: int
    building_code: str
    building: str
    unit_no: str
    room: str
    address: str
    grid_id: int | None
    grid: str
    present_count: int | None


class MoveOut(Schema):
    id: int
    resident_id: int
    resident: SafeName
    kind: str
    moved_on: dt.date
    reason: str


class HouseholdDetailOut(Schema):
    household: HouseholdOut
    residents: list[ResidentOut]
    moves: list[MoveOut]


class RegisterQuery(Schema):
    community_id: int | None = Field(None, ge=1)
    grid_id: int | None = Field(None, ge=1)
    building_id: int | None = Field(None, ge=1)
    status: str = Field("present", max_length=16, description="present(默认)/ moved_out / 空=全部")
    registration: str = Field("", max_length=16)
    tag: str = Field("", max_length=20)
    room: str = Field("", max_length=30, description="房号(可写“单元-房号”,如 2-302)")

    def filters(self) -> RegisterFilters:
        return RegisterFilters(
            community_id=self.community_id,
            grid_id=self.grid_id,
            building_id=self.building_id,
            status=self.status if self.status in ResidentStatus.values else "",
            registration=self.registration,
            tag=self.tag,
            room=self.room,
        )


@router.get("/households", response=list[HouseholdOut], auth=session_or_token, url_name="people_households")
@paginate(CappedPagination)
def households(request: HttpRequest, q: Query[RegisterQuery]) -> Any:
    """Households in the caller's scope (building, 单元, room), with how many people live there."""
    user = require(request, Capability.VIEW_PEOPLE)
    return _Mapped(households_for_user(user, q.filters()), household_row)


@router.get(
    "/households/{int:household_id}",
    response={200: HouseholdDetailOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_household",
)
def household(request: HttpRequest, household_id: int) -> Any:
    """One household with its residents and move history (masked; the read is audited)."""
    user = require(request, Capability.VIEW_PEOPLE)
    found = household_for_user(user, household_id)
    if found is None:
        not_found(Household, household_id)
    audit_sensitive_read(viewer=user, obj=found, fields=["residents"], purpose="household", request=request)
    residents = list(household_residents(found).select_related("household__building__parent"))
    return {
        "household": household_row(found),
        "residents": [resident_row(r) for r in residents],
        "moves": [
            {
                "id": m.pk,
                "resident_id": m.resident_id,
                "resident": m.resident.name,
                "kind": m.kind,
                "moved_on": m.moved_on,
                "reason": m.reason,
            }
            for m in household_moves(found)
        ],
    }


@router.get("/residents", response=list[ResidentOut], auth=session_or_token, url_name="people_residents")
@paginate(CappedPagination)
def residents(request: HttpRequest, q: Query[RegisterQuery]) -> Any:
    """The register: residents in the caller's scope, masked (present ones unless ``status`` says otherwise)."""
    user = require(request, Capability.VIEW_PEOPLE)
    return _Mapped(residents_for_user(user, q.filters()), resident_row)


class LookupIn(Schema):
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)
    name: str = Field("", max_length=50)


@router.post(
    "/residents/lookup",
    response={200: list[ResidentOut], 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_lookup",
)
def lookup(request: HttpRequest, payload: LookupIn) -> Any:
    """Find residents by ID number or phone (exact, through the blind index) or by full name, in scope.
    A POST so the searched value never appears in a URL or an access log (PI-8); the search is audited."""
    user = require(request, Capability.VIEW_PEOPLE)
    if not (payload.id_number.strip() or payload.phone.strip() or payload.name.strip()):
        raise ApiError("lookup_empty", "请填写证件号码、电话或姓名之一", status=400)
    found = list(
        residents_lookup(user, id_number=payload.id_number, phone=payload.phone, name=payload.name)[:20]
    )
    audit_record(
        action="pii.read",
        actor=user,
        obj=None,
        object_type="people.resident",
        result=AuditResult.OK,
        data={
            "lookup": sorted(k for k in ("id_number", "phone", "name") if getattr(payload, k).strip()),
            "found": len(found),
        },
        request=request,
    )
    return [resident_row(r) for r in found]


class ResidentDetailOut(ResidentOut):
    birth_year: int | None
    moves: list[MoveOut]
    may_reveal: bool
    may_edit: bool


@router.get(
    "/residents/{int:resident_id}",
    response={200: ResidentDetailOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_resident",
)
def resident(request: HttpRequest, resident_id: int) -> Any:
    """One resident (masked) and their moves; the read is audited. Full values: ``/reveal``."""
    user = require(request, Capability.VIEW_PEOPLE)
    found = resident_for_user(user, resident_id)
    if found is None:
        not_found(Resident, resident_id)
    audit_sensitive_read(viewer=user, obj=found, fields=["resident"], purpose="resident", request=request)
    moves = [
        {
            "id": m.pk,
            "resident_id": m.resident_id,
            "resident": found.name,
            "kind": m.kind,
            "moved_on": m.moved_on,
            "reason": m.reason,
        }
        for m in found.moves.all()
    ]
    return resident_row(found) | {
        "birth_year": found.birth_date.year if found.birth_date else None,
        "moves": moves,
        "may_reveal": may_reveal(user, found),
        "may_edit": may(user, Capability.PEOPLE_EDIT, found),
    }


class RevealIn(Schema):
    field: str = Field(..., description="name / id_number / phone / birth_date")
    reason: str = Field(..., max_length=400, description="查看理由(必填,记入审计)")


class RevealOut(Schema):
    field: str
    value: str


@router.post(
    "/residents/{int:resident_id}/reveal",
    response={200: RevealOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_reveal",
)
def reveal(request: HttpRequest, resident_id: int, payload: RevealIn, response: HttpResponse) -> Any:
    """The full value of one field, for a reason; refused and granted reveals are both audited."""
    user = require(request, Capability.VIEW_PEOPLE)
    found = resident_for_user(user, resident_id)
    if found is None:
        not_found(Resident, resident_id)
    if payload.field not in REVEALABLE:
        raise ApiError("not_revealable", "只能查看姓名、证件号码、电话或出生日期", status=400)
    try:
        value = pii_reveal(
            viewer=user, obj=found, field=payload.field, reason=payload.reason, request=request
        )
    except RevealError as exc:
        raise ApiError(exc.code, exc.message, status=403 if exc.code == "reveal_forbidden" else 400) from exc
    response["Cache-Control"] = "no-store"
    return {"field": payload.field, "value": value}


class MoveInIn(Schema):
    building_id: int = Field(..., ge=1)
    unit_no: str = Field("", max_length=10)
    room: str = Field(..., max_length=20)
    name: str = Field(..., max_length=50)
    gender: str = Field("", max_length=8)
    birth_date: dt.date | None = None
    id_number: str = Field("", max_length=30)
    phone: str = Field("", max_length=30)
    relation: str = Field("head", max_length=16)
    registration: str = Field("hukou", max_length=16)
    tags: list[str] = Field(default_factory=list, max_length=10)
    moved_on: dt.date | None = None
    reason: str = Field("", max_length=200)


@router.post(
    "/residents",
    response={201: ResidentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_move_in",
)
def move_in(request: HttpRequest, payload: MoveInIn) -> Any:
    """Register a person moving into building / 单元 / room (the household is created when new)."""
    user = require(request, Capability.PEOPLE_EDIT)
    building = building_for_user(user, payload.building_id, Capability.PEOPLE_EDIT)
    if building is None:
        from linli.places.models import Region

        not_found(Region, payload.building_id)
    try:
        household, _ = household_get_or_create(building=building, unit_no=payload.unit_no, room=payload.room)
        created = resident_move_in(
            actor=user,
            household=household,
            name=payload.name,
            gender=payload.gender,
            birth_date=payload.birth_date,
            id_number=payload.id_number,
            phone=payload.phone,
            relation=payload.relation,
            registration=payload.registration,
            tags=payload.tags,
            moved_on=payload.moved_on,
            reason=payload.reason,
        )
    except PeopleError as exc:
        raise_api(exc)
    return HttpStatus(
        201, resident_row(Resident.objects.select_related("household__building__parent").get(pk=created.pk))
    )


def _editable(request: HttpRequest, resident_id: int) -> Resident:
    user = require(request, Capability.PEOPLE_EDIT)
    found = resident_for_user(user, resident_id)
    if found is None or not may(user, Capability.PEOPLE_EDIT, found):
        not_found(Resident, resident_id)
    return found


class MoveOutIn(Schema):
    moved_on: dt.date | None = None
    reason: str = Field("", max_length=200)


@router.post(
    "/residents/{int:resident_id}/move-out",
    response={200: ResidentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_move_out",
)
def move_out(request: HttpRequest, resident_id: int, payload: MoveOutIn) -> Any:
    _editable(request, resident_id)
    try:
        resident_move_out(
            actor=user_of(request), resident_id=resident_id, moved_on=payload.moved_on, reason=payload.reason
        )
    except PeopleError as exc:
        raise_api(exc)
    return resident_row(Resident.objects.select_related("household__building__parent").get(pk=resident_id))


class ResidentPatch(Schema):
    name: str | None = Field(None, max_length=50)
    gender: str | None = Field(None, max_length=8)
    birth_date: dt.date | None = None
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=30)
    relation: str | None = Field(None, max_length=16)
    registration: str | None = Field(None, max_length=16)
    tags: list[str] | None = Field(None, max_length=10)


@router.patch(
    "/residents/{int:resident_id}",
    response={200: ResidentOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_resident_patch",
)
def resident_patch(request: HttpRequest, resident_id: int, payload: ResidentPatch) -> Any:
    """Correct registered details (not a move)."""
    _editable(request, resident_id)
    changes = payload.dict(exclude_unset=True)
    try:
        resident_update(actor=user_of(request), resident_id=resident_id, changes=changes)
    except PeopleError as exc:
        raise_api(exc)
    return resident_row(Resident.objects.select_related("household__building__parent").get(pk=resident_id))


class ImportOut(Schema):
    rows: int
    households_created: int
    residents_created: int
    residents_returned: int
    error_count: int
    errors: list[dict[str, Any]]
    committed: bool
    seconds: float


@router.post(
    "/register/import",
    response={200: ImportOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_import",
)
def import_xlsx(request: HttpRequest, file: File[UploadedFile]) -> Any:
    """Import the register from .xlsx, all or nothing. Refused imports answer 400 ``import_rejected`` with the
    per-row errors in ``details``; nothing is saved then."""
    user = require(request, Capability.PEOPLE_EDIT)
    if file.size is not None and file.size > MAX_BYTES:
        raise ApiError("file_too_large", "文件超过10MB,请分批导入", status=400)
    report = register_import(
        user=user, data=file.read(MAX_BYTES + 1), request=request, filename=file.name or ""
    )
    if not report.committed:
        raise ApiError(
            "import_rejected",
            "导入未成功,未保存任何数据;请按错误清单修改后重新导入",
            status=400,
            details=report.as_dict(),
        )
    return report.as_dict()


class ExportIn(Schema):
    community_id: int | None = Field(None, ge=1)
    grid_id: int | None = Field(None, ge=1)
    building_id: int | None = Field(None, ge=1)
    status: str = Field("present", max_length=16)
    reason: str = Field(
        "", max_length=400, description="填写理由则导出完整信息(须有查看完整信息权限,记入审计)"
    )


@router.post(
    "/register/export",
    response={400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_export",
    openapi_extra={
        "responses": {
            "200": {
                "description": "居民登记 .xlsx(默认脱敏)",
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def export_xlsx(request: HttpRequest, payload: Form[ExportIn]) -> Any:
    """The register as .xlsx: masked unless the caller may reveal AND gives a reason. One audit row."""
    user = require(request, Capability.PEOPLE_EXPORT)
    status = payload.status if payload.status in {"", *ResidentStatus.values} else "present"
    filters = RegisterFilters(
        community_id=payload.community_id,
        grid_id=payload.grid_id,
        building_id=payload.building_id,
        status=status,
    )
    try:
        result = register_export(user=user, filters=filters, reveal_reason=payload.reason, request=request)
    except PeopleError as exc:
        raise_api(exc)
    response = HttpResponse(result.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response["Cache-Control"] = "no-store"
    return response


class _Mapped:
    """Lazily maps a queryset page to presenter dicts, so the paginator slices before presenting."""

    def __init__(self, qs: Any, present: Any) -> None:
        self.qs, self.present = qs, present

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [self.present(row) for row in self.qs[item]]

    def count(self) -> int:
        return int(self.qs.count())
