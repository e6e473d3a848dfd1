"""Who takes part beyond staff, under /api/needs/: volunteers' service on projects (credited to their hours
ledger), organisations' representatives, and a representative's own projects and claims (项目认领)."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as HttpStatus

from linli.accounts.roles import Capability
from linli.core.api import ErrorOut, session_or_token
from linli.needs import selectors
from linli.needs import services as svc
from linli.needs.api.common import NOT_FOUND, call, require, user_of
from linli.needs.models import Organisation, Project, ProjectService
from linli.needs.services.representatives import represented_organisation
from linli.party.presenters import shown_name
from linli.security.masking import mask_name, mask_phone

router = Router(tags=["needs"], auth=session_or_token)
ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut}
ID = Field(..., ge=1, le=2**62)


# --- volunteers' service on a project -------------------------------------------------------------
class ServiceIn(Schema):
    volunteer_id: int = ID
    team_id: int = ID
    hours: Decimal = Field(..., gt=0, le=24, decimal_places=2)
    served_on: dt.date | None = Field(None, description="默认今天")


class ServiceOut(Schema):
    id: int
    project_id: int
    volunteer_id: int
    volunteer_name: str = Field(..., description="脱敏,除非可查看完整信息")
    team_id: int
    team_name: str
    served_on: dt.date
    hours: Decimal
    ledger_entry_id: int | None = Field(..., description="记入志愿服务时长台账的记录;项目完成前为空")


def _service_dict(viewer: Any, s: ProjectService) -> dict[str, Any]:
    entry = getattr(s, "ledger_entry", None)  # a reverse one-to-one: absent until credited
    return {
        "id": s.pk,
        "project_id": s.project_id,
        "volunteer_id": s.volunteer_id,
        "volunteer_name": shown_name(viewer, s.volunteer),
        "team_id": s.team_id,
        "team_name": s.team.name,
        "served_on": s.served_on,
        "hours": s.hours,
        "ledger_entry_id": entry.pk if entry is not None else None,
    }


@router.get("/projects/{int:project_id}/services", response={200: list[ServiceOut], 404: ErrorOut})
def project_services(request: HttpRequest, project_id: int) -> Any:
    """Volunteers' recorded service on the project and whether each is in the hours ledger yet."""
    user = require(request)
    project = selectors.project_for_user(user=user, project_id=project_id)
    if project is None:
        raise NOT_FOUND
    return [_service_dict(user, s) for s in selectors.project_services(project=project)]


@router.post("/projects/{int:project_id}/services", response={200: ServiceOut, 201: ServiceOut, **ERRORS})
def project_serve(request: HttpRequest, project_id: int, body: ServiceIn) -> Any:
    """Record a team member's day of service (实施中 or later). On a completed project it is credited to the
    volunteer's hours ledger at once; otherwise when the project completes. The same row again: 200."""
    user = require(request, Capability.NEEDS_MANAGE)
    result = call(lambda: svc.project_serve(actor=user, project_id=project_id, **body.dict()))
    row = ProjectService.objects.select_related("volunteer", "team", "ledger_entry").get(pk=result.service.pk)
    return HttpStatus(201 if result.created else 200, _service_dict(user, row))


# --- representatives (staff) -----------------------------------------------------------------------
class RepresentativeIn(Schema):
    phone: str = Field(..., max_length=20, description="联络人登录用的手机号")


class RepresentativeOut(Schema):
    id: int
    organisation_id: int
    name: str = Field(..., description="脱敏")
    phone: str = Field(..., description="脱敏")
    is_active: bool


def _rep_dict(m: Any) -> dict[str, Any]:
    return {
        "id": m.pk,
        "organisation_id": m.organisation_id,
        "name": mask_name(m.user.display_name or "联络人"),
        "phone": mask_phone(m.user.phone),
        "is_active": m.is_active,
    }


def _org_in_view(request: HttpRequest, organisation_id: int) -> Organisation:
    org = selectors.organisation_for_user(user=require(request), organisation_id=organisation_id)
    if org is None:
        raise NOT_FOUND
    return org


@router.get(
    "/organisations/{int:organisation_id}/representatives",
    response={200: list[RepresentativeOut], 404: ErrorOut},
)
def representatives(request: HttpRequest, organisation_id: int) -> Any:
    org = _org_in_view(request, organisation_id)
    return [_rep_dict(m) for m in selectors.organisation_members(organisation=org)]


@router.post(
    "/organisations/{int:organisation_id}/representatives", response={201: RepresentativeOut, **ERRORS}
)
def representative_add(request: HttpRequest, organisation_id: int, body: RepresentativeIn) -> Any:
    """Name the account with this phone as a representative (it must have signed in once). Audited."""
    user = require(request, Capability.NEEDS_MANAGE)
    member = call(
        lambda: svc.organisation_member_add(
            actor=user, organisation_id=organisation_id, phone=body.phone, request=request
        )
    )
    return HttpStatus(201, _rep_dict(member))


@router.post(
    "/organisations/{int:organisation_id}/representatives/{int:member_id}/remove",
    response={200: RepresentativeOut, **ERRORS},
)
def representative_remove(request: HttpRequest, organisation_id: int, member_id: int) -> Any:
    user = require(request, Capability.NEEDS_MANAGE)
    org = _org_in_view(request, organisation_id)
    if not org.members.filter(pk=member_id).exists():
        raise NOT_FOUND
    member = call(lambda: svc.organisation_member_remove(actor=user, member_id=member_id, request=request))
    return _rep_dict(member)


# --- a representative's own organisation ------------------------------------------------------------
class OrgProjectOut(Schema):
    id: int
    title: str
    summary: str
    category: str
    community_name: str
    status: str
    status_label: str
    progress: int
    planned_end: dt.date | None
    need_count: int


class MyOrganisationOut(Schema):
    id: int
    name: str
    kind: str
    claimable: list[OrgProjectOut]
    claimed: list[OrgProjectOut]


def _org_project(p: Project) -> dict[str, Any]:
    return {
        **{
            f: getattr(p, f)
            for f in ("id", "title", "summary", "category", "status", "progress", "planned_end")
        },
        "community_name": p.community.name,
        "status_label": p.get_status_display(),
        "need_count": getattr(p, "need_count", 0),
    }


@router.get("/my-organisations", response={200: list[MyOrganisationOut], 404: ErrorOut})
def my_organisations(request: HttpRequest) -> Any:
    """The organisations the caller represents, each with the projects it may claim and its own (public
    fields only: a representative is not staff). Someone who represents none: 404."""
    organisations = selectors.organisations_represented(user=user_of(request))
    if not organisations:
        raise NOT_FOUND
    out = []
    for org in organisations:
        board = selectors.projects_for_organisation(organisation=org)
        out.append(
            {
                "id": org.pk,
                "name": org.name,
                "kind": org.kind,
                "claimable": [_org_project(p) for p in board.claimable],
                "claimed": [_org_project(p) for p in board.claimed],
            }
        )
    return out


class ClaimIn(Schema):
    note: str = Field("", max_length=500)


@router.post(
    "/my-organisations/{int:organisation_id}/projects/{int:project_id}/claim",
    response={200: OrgProjectOut, **ERRORS},
)
def my_organisation_claim(request: HttpRequest, organisation_id: int, project_id: int, body: ClaimIn) -> Any:
    """项目认领 by the organisation's own representative. A project it may not claim: 404; one no longer
    open: ``invalid_transition`` (409)."""
    user = user_of(request)
    call(lambda: represented_organisation(user=user, organisation_id=organisation_id))
    call(
        lambda: svc.project_claim_as_organisation(
            user=user, project_id=project_id, organisation_id=organisation_id, note=body.note
        )
    )
    p = Project.objects.select_related("community").get(pk=project_id)
    p.need_count = p.needs.count()  # type: ignore[attr-defined]
    return _org_project(p)
