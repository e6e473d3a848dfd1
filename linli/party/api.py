"""The party JSON API under /api/party/: check-in and its flow, the organisation tree, the hours ledger,
my hours, certificates, and a team's public totals. Names are masked unless the viewer may reveal."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.accounts.models import User
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.party import selectors
from linli.party import services as svc
from linli.party.errors import PartyError
from linli.party.models import CheckIn, CommitmentKind, PartyOrg
from linli.party.presenters import shown_name, shown_phone

router = Router(tags=["party"])


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _raise(exc: PartyError) -> None:
    raise ApiError(exc.code, exc.message, status=exc.status, details=exc.details) from exc


# --- schemas --------------------------------------------------------------------------------------
class CommitmentIn(Schema):
    kind: str = Field(
        CommitmentKind.VOLUNTEER, description="volunteer/pairing/publicity/skill/governance/other"
    )
    text: str = Field(..., max_length=200)


class CheckInIn(Schema):
    community_id: int
    name: str = Field(..., max_length=50)
    employer: str = Field(..., max_length=100)
    employer_org: str = Field("", max_length=100)
    phone: str = Field("", max_length=20, description="默认使用登录手机号")
    skills: str = Field("", max_length=200)
    commitments: list[CommitmentIn] = Field(..., min_length=1, max_length=5)


class CheckInOut(Schema):
    id: int
    status: str
    status_label: str
    member: str
    phone: str
    employer: str
    community_id: int
    community: str
    assigned_org: str | None
    registered_at: dt.datetime
    commitments: list[dict[str, Any]]


class ActionIn(Schema):
    note: str = Field("", max_length=200)
    assigned_org_id: int | None = None


class OrgOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    parent_id: int | None
    region_id: int
    region: str


class HoursIn(Schema):
    volunteer_id: int
    hours: Decimal = Field(..., gt=0, le=24, decimal_places=2)
    served_on: dt.date
    title: str = Field(..., max_length=100)
    source: str = Field(..., description="activity/task/case/checkin/other(project 由项目完成自动记入)")
    source_ref: str = Field("", max_length=64)
    team_id: int | None = None


class CorrectIn(Schema):
    hours: Decimal = Field(..., gt=0, le=24, decimal_places=2)
    reason: str = Field(..., max_length=90)


class HoursOut(Schema):
    id: int
    volunteer_id: int
    source: str
    source_ref: str
    project_service_id: int | None = Field(None, description="来自三清单项目的志愿服务登记")
    commitment_id: int | None = Field(None, description="来自报到党员的践诺")
    title: str
    served_on: dt.date
    hours: Decimal
    corrects_id: int | None


class HoursCreatedOut(HoursOut):
    created: bool


class LedgerOut(Schema):
    volunteer_id: int
    total: Decimal
    this_year: Decimal
    entries: list[HoursOut]


class CertificateIn(Schema):
    volunteer_id: int | None = Field(None, description="默认:本人")
    period_start: dt.date | None = None
    period_end: dt.date | None = None


class CertificateOut(Schema):
    id: int
    number: str
    hours: Decimal
    entries: int
    period_start: dt.date
    period_end: dt.date
    verify_code: str


class TeamPublicOut(Schema):
    id: int
    name: str
    community: str
    total_hours: Decimal
    services: int
    members: int | None = Field(None, description="少于5人时不公开")


def _checkin(viewer: User, c: CheckIn) -> dict[str, Any]:
    return {
        "id": c.pk,
        "status": c.status,
        "status_label": str(c.get_status_display()),
        "member": shown_name(viewer, c.member),
        "phone": shown_phone(c.member),
        "employer": c.member.employer,
        "community_id": c.community_id,
        "community": c.community.name,
        "assigned_org": c.assigned_org.name if c.assigned_org else None,
        "registered_at": c.registered_at,
        "commitments": [
            {"id": p.pk, "kind": p.kind, "text": p.text, "fulfilled": p.fulfilled_at is not None}
            for p in c.commitments.all()
        ],
    }


# --- check-ins ------------------------------------------------------------------------------------
@router.post("/checkins", response={201: CheckInOut, 400: ErrorOut, 409: ErrorOut}, auth=session_or_token)
def checkin_register(request: HttpRequest, payload: CheckInIn) -> Any:
    """我是党员我报到: an in-service member checks in to their home community with commitments."""
    user = _user(request)
    try:
        c = svc.checkin_register(
            user=user,
            community_id=payload.community_id,
            name=payload.name,
            employer=payload.employer,
            employer_org=payload.employer_org,
            phone=payload.phone,
            skills=payload.skills,
            commitments=[(x.kind, x.text) for x in payload.commitments],
        )
    except PartyError as exc:
        _raise(exc)
    return HttpStatus(201, _checkin(user, selectors.checkins_mine(user).get(pk=c.pk)))


@router.get("/checkins", response=list[CheckInOut], auth=session_or_token)
@paginate(CappedPagination)
def checkin_list(request: HttpRequest, status: str = "", mine: bool = False) -> Any:
    """Check-ins in the user's scope (``mine=true``: the user's own)."""
    user = _user(request)
    qs = selectors.checkins_mine(user) if mine else selectors.checkins_for_user(user, status=status)
    return [_checkin(user, c) for c in qs[:1000]]


@router.post(
    "/checkins/{int:check_in_id}/{action}",
    response={200: CheckInOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def checkin_action(request: HttpRequest, check_in_id: int, action: str, payload: ActionIn) -> Any:
    """confirm / reject (note required) / activate / withdraw, per the transition table."""
    user = _user(request)
    calls = {
        "confirm": lambda: svc.checkin_confirm(
            check_in_id=check_in_id, actor=user, assigned_org_id=payload.assigned_org_id, note=payload.note
        ),
        "reject": lambda: svc.checkin_reject(check_in_id=check_in_id, actor=user, note=payload.note),
        "activate": lambda: svc.checkin_activate(check_in_id=check_in_id, actor=user, note=payload.note),
        "withdraw": lambda: svc.checkin_withdraw(check_in_id=check_in_id, actor=user, note=payload.note),
    }
    if action not in calls:
        raise ApiError("unknown_action", "未知的报到操作", status=404)
    try:
        calls[action]()
    except PartyError as exc:
        _raise(exc)
    found = CheckIn.objects.select_related("member", "community", "assigned_org").get(pk=check_in_id)
    return _checkin(user, found)


class FulfilIn(Schema):
    note: str = Field(..., max_length=200)
    hours: Decimal | None = Field(None, gt=0, le=24, decimal_places=2, description="记入志愿服务台账")
    served_on: dt.date | None = Field(None, description="默认今天")


class FulfilOut(Schema):
    id: int
    fulfilled: bool
    ledger_entry_id: int | None


@router.post(
    "/commitments/{int:commitment_id}/fulfil",
    response={200: FulfilOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
)
def commitment_fulfil(request: HttpRequest, commitment_id: int, payload: FulfilIn) -> Any:
    """践诺 of a commitment of an active check-in, by the community; with ``hours`` the service is credited
    to the member's volunteer ledger (once per commitment)."""
    try:
        c = svc.commitment_fulfil(commitment_id=commitment_id, actor=_user(request), **payload.dict())
    except PartyError as exc:
        _raise(exc)
    entry = getattr(c, "ledger_entry", None)  # a reverse one-to-one: absent without hours
    return {
        "id": c.pk,
        "fulfilled": c.fulfilled_at is not None,
        "ledger_entry_id": entry.pk if entry else None,
    }


# --- organisations --------------------------------------------------------------------------------
@router.get("/orgs", response=list[OrgOut], auth=session_or_token)
def orgs(request: HttpRequest) -> Any:
    """The organisation tree in the user's scope, flat (``parent_id`` links), in tree order."""
    rows: list[PartyOrg] = list(PartyOrg.objects.for_user(_user(request)).select_related("region")[:5000])
    return [
        {
            "id": o.pk,
            "kind": o.kind,
            "kind_label": str(o.get_kind_display()),
            "name": o.name,
            "parent_id": o.parent_id,
            "region_id": o.region_id,
            "region": o.region.name,
        }
        for o in rows
    ]


# --- hours ----------------------------------------------------------------------------------------
@router.post(
    "/hours",
    response={200: HoursCreatedOut, 201: HoursCreatedOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def hours_record(request: HttpRequest, payload: HoursIn) -> Any:
    """Credit verified hours (the caller is the verifier). The same source twice answers the first (200)."""
    try:
        result = svc.hours_record(actor=_user(request), **payload.dict())
    except PartyError as exc:
        _raise(exc)
    return HttpStatus(201 if result.created else 200, {**_hours(result.entry), "created": result.created})


@router.post(
    "/hours/{int:entry_id}/correct",
    response={201: HoursOut, 400: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
)
def hours_correct(request: HttpRequest, entry_id: int, payload: CorrectIn) -> Any:
    """Take hours back from an entry with a negative correction row (the ledger is append-only)."""
    try:
        entry = svc.hours_correct(
            actor=_user(request), entry_id=entry_id, hours=payload.hours, reason=payload.reason
        )
    except PartyError as exc:
        _raise(exc)
    return HttpStatus(201, _hours(entry))


def _hours(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk,
        "volunteer_id": e.volunteer_id,
        "source": e.source,
        "source_ref": e.source_ref,
        "project_service_id": e.project_service_id,
        "commitment_id": e.commitment_id,
        "title": e.title,
        "served_on": e.served_on,
        "hours": e.hours,
        "corrects_id": e.corrects_id,
    }


@router.get("/me/hours", response={200: LedgerOut, 404: ErrorOut}, auth=session_or_token)
def my_hours(request: HttpRequest) -> Any:
    """我的志愿服务时长: the signed-in volunteer's ledger and totals."""
    volunteer = selectors.volunteer_mine(_user(request))
    if volunteer is None:
        raise Http404
    ledger = selectors.volunteer_ledger(volunteer)
    return {
        "volunteer_id": volunteer.pk,
        "total": ledger.total,
        "this_year": ledger.this_year,
        "entries": [_hours(e) for e in ledger.entries],
    }


@router.post(
    "/certificates", response={201: CertificateOut, 400: ErrorOut, 404: ErrorOut}, auth=session_or_token
)
def certificate_issue(request: HttpRequest, payload: CertificateIn) -> Any:
    """Issue a certificate of hours (for oneself, or by community staff for a volunteer in scope)."""
    user = _user(request)
    volunteer_id = payload.volunteer_id
    if volunteer_id is None:
        mine = selectors.volunteer_mine(user)
        if mine is None:
            raise Http404
        volunteer_id = mine.pk
    try:
        c = svc.certificate_issue(
            actor=user,
            volunteer_id=volunteer_id,
            period_start=payload.period_start,
            period_end=payload.period_end,
        )
    except PartyError as exc:
        _raise(exc)
    return HttpStatus(
        201,
        {
            "id": c.pk,
            "number": c.number,
            "hours": c.hours,
            "entries": c.entries,
            "period_start": c.period_start,
            "period_end": c.period_end,
            "verify_code": c.verify_code,
        },
    )


@router.get("/teams/{int:team_id}", response={200: TeamPublicOut, 404: ErrorOut}, auth=None)
def team_public(request: HttpRequest, team_id: int) -> Any:
    """A public team's total hours (aggregates only; small member counts are not shown)."""
    t = selectors.team_public(team_id)
    return {
        "id": t.team.pk,
        "name": t.team.name,
        "community": t.team.community.name,
        "total_hours": t.total_hours,
        "services": t.services,
        "members": t.members,
    }
