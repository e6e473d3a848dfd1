"""Projects (项目认领), organisations with their incubation pipeline, and the public community progress,
under /api/needs/."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.accounts.roles import Capability
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.needs import selectors
from linli.needs import services as svc
from linli.needs.api.common import NOT_FOUND, EventOut, call, events_of, require
from linli.needs.errors import NeedsError
from linli.needs.models import Organisation, Project
from linli.needs.public import community_progress, public_community
from linli.security.masking import MaskedName, MaskedPhone
from linli.security.ratelimit import api_rate_limit

router = Router(tags=["needs"], auth=session_or_token)
ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut}
ID = Field(..., ge=1, le=2**62)


# --- projects -------------------------------------------------------------------------------------
class ProjectOut(Schema):
    id: int
    title: str
    summary: str
    description: str
    category: str
    community_id: int
    community_name: str
    status: str
    status_label: str
    organisation_id: int | None
    organisation_name: str
    progress: int
    planned_end: dt.date | None
    evaluation_score: int | None
    is_public: bool
    need_ids: list[int]
    resource_ids: list[int]
    created_at: dt.datetime


def project_dict(p: Project) -> dict[str, Any]:
    plain = ("id", "title", "summary", "description", "category", "community_id", "status", "organisation_id")
    more = ("progress", "planned_end", "evaluation_score", "is_public", "created_at")
    return {
        **{f: getattr(p, f) for f in (*plain, *more)},
        "community_name": p.community.name,
        "status_label": p.get_status_display(),
        "organisation_name": p.organisation.name if p.organisation else "",
        "need_ids": sorted(n.pk for n in p.needs.all()),
        "resource_ids": sorted(r.pk for r in p.resources.all()),
    }


def _project_out(project_id: int) -> dict[str, Any]:
    p = (
        Project.objects.select_related("community", "organisation")
        .prefetch_related("needs", "resources")
        .get(pk=project_id)
    )
    return project_dict(p)


class ProjectQuery(Schema):
    category: str = Field("", max_length=20)
    community_id: int | None = Field(None, ge=1, le=2**62)
    q: str = Field("", max_length=50)


@router.get("/projects", response=list[ProjectOut])
@paginate(CappedPagination)
def projects_list(request: HttpRequest, filters: Query[ProjectQuery]) -> Any:
    user = require(request)
    f = selectors.ProjectFilters(**filters.dict())
    rows = selectors.projects_for_user(user=user, filters=f).prefetch_related("needs", "resources")
    return [project_dict(p) for p in rows[:2000]]


class ProjectIn(Schema):
    title: str = Field(..., max_length=100)
    summary: str = Field(..., max_length=300, description="public: no personal data")
    category: str = Field(..., max_length=20)
    community_id: int = ID
    need_ids: list[int] = Field(..., max_length=50)
    description: str = Field("", max_length=2000)
    planned_end: dt.date | None = None
    is_public: bool = True


@router.post("/projects", response={201: ProjectOut, **ERRORS})
def project_create(request: HttpRequest, body: ProjectIn) -> Any:
    """A project for needs of one community; the needs move to 项目实施中."""
    user = require(request, Capability.NEEDS_MANAGE)
    if any(not 1 <= i <= 2**62 for i in body.need_ids):
        raise ApiError("invalid_need_ids", "需求编号不正确", status=400)
    project = call(lambda: svc.project_create(actor=user, **body.dict()))
    return HttpStatus(201, _project_out(project.pk))


class ProjectDetailOut(ProjectOut):
    events: list[EventOut]


@router.get("/projects/{int:project_id}", response={200: ProjectDetailOut, 404: ErrorOut})
def project_detail(request: HttpRequest, project_id: int) -> Any:
    p = selectors.project_for_user(user=require(request), project_id=project_id)
    if p is None:
        raise NOT_FOUND
    return {**project_dict(p), "events": events_of(p.events.order_by("created_at", "id"))}


class ProjectActionIn(Schema):
    note: str = Field("", max_length=500)
    organisation_id: int | None = Field(None, ge=1, le=2**62, description="claim")
    text: str = Field("", max_length=500, description="report")
    progress: int | None = Field(None, ge=0, le=100, description="report")
    is_public: bool = Field(True, description="report")
    score: int | None = Field(None, ge=1, le=5, description="evaluate")


@router.post("/projects/{int:project_id}/actions/{action}", response={200: ProjectOut, **ERRORS})
def project_action(request: HttpRequest, project_id: int, action: str, body: ProjectActionIn) -> Any:
    """``claim`` (organisation_id), ``unclaim``, ``start``, ``report`` (text, progress, is_public),
    ``complete``, ``evaluate`` (score 1–5, note), ``cancel`` (note)."""
    user = require(request, Capability.NEEDS_MANAGE)

    def run() -> Any:
        if action == "claim":
            if body.organisation_id is None:
                raise NeedsError("required", "请选择认领组织")
            return svc.project_claim(
                actor=user, project_id=project_id, organisation_id=body.organisation_id, note=body.note
            )
        if action == "report":
            if body.progress is None:
                raise NeedsError("required", "请填写进度(0-100)")
            return svc.project_report(
                actor=user,
                project_id=project_id,
                text_=body.text,
                progress=body.progress,
                is_public=body.is_public,
            )
        if action == "evaluate":
            if body.score is None:
                raise NeedsError("required", "请填写评估得分(1-5)")
            return svc.project_evaluate(actor=user, project_id=project_id, score=body.score, note=body.note)
        return svc.project_act(actor=user, project_id=project_id, action=action, note=body.note)

    call(run)
    return _project_out(project_id)


# --- organisations --------------------------------------------------------------------------------
class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    focus: str
    credit_code: str
    region_id: int
    region_name: str
    address: str
    services: str
    description: str
    agreement_since: dt.date | None
    is_active: bool
    incubation_stage: str
    incubation_label: str
    contact_name: MaskedName
    contact_phone: MaskedPhone


def organisation_dict(o: Organisation) -> dict[str, Any]:
    skip = {"region_name", "incubation_label"}
    return {
        **{f: getattr(o, f) for f in OrganisationOut.model_fields if f not in skip},
        "region_name": o.region.name,
        "incubation_label": o.get_incubation_stage_display(),
    }


class OrgQuery(Schema):
    kind: str = Field("", max_length=20)
    stage: str = Field("", max_length=24)
    q: str = Field("", max_length=50)


@router.get("/organisations", response=list[OrganisationOut])
@paginate(CappedPagination)
def organisations_list(request: HttpRequest, filters: Query[OrgQuery]) -> Any:
    user = require(request)
    f = selectors.OrgFilters(**filters.dict())
    return [organisation_dict(o) for o in selectors.organisations_for_user(user=user, filters=f)[:2000]]


class OrganisationIn(Schema):
    name: str = Field(..., max_length=100)
    kind: str = Field(..., max_length=20)
    region_id: int = ID
    focus: str = Field("", max_length=20)
    credit_code: str = Field("", max_length=18)
    address: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    services: str = Field("", max_length=300)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=30)
    agreement_since: dt.date | None = None


@router.post("/organisations", response={201: OrganisationOut, **ERRORS})
def organisation_create(request: HttpRequest, body: OrganisationIn) -> Any:
    user = require(request, Capability.NEEDS_MANAGE)
    org = call(lambda: svc.organisation_create(actor=user, **body.dict()))
    return HttpStatus(201, organisation_dict(org))


class OrganisationDetailOut(OrganisationOut):
    events: list[EventOut]


@router.get("/organisations/{int:organisation_id}", response={200: OrganisationDetailOut, 404: ErrorOut})
def organisation_detail(request: HttpRequest, organisation_id: int) -> Any:
    o = selectors.organisation_for_user(user=require(request), organisation_id=organisation_id)
    if o is None:
        raise NOT_FOUND
    return {**organisation_dict(o), "events": events_of(o.events.order_by("occurred_on", "created_at", "id"))}


class IncubationIn(Schema):
    note: str = Field("", max_length=500)
    occurred_on: dt.date | None = None
    credit_code: str = Field("", max_length=18, description="register")
    amount_yuan: int | None = Field(None, ge=1, le=100_000_000, description="purchase")


@router.post(
    "/organisations/{int:organisation_id}/incubation/{action}",
    response={200: OrganisationDetailOut, **ERRORS},
)
def organisation_incubate(request: HttpRequest, organisation_id: int, action: str, body: IncubationIn) -> Any:
    """One step of the pipeline: ``apply``, ``assess``, ``decline``, ``register``, ``host``, ``purchase``,
    ``withdraw`` (see docs/needs.md for the table)."""
    user = require(request, Capability.NEEDS_MANAGE)
    call(
        lambda: svc.organisation_incubate(
            actor=user, organisation_id=organisation_id, action=action, **body.dict()
        )
    )
    o = Organisation.objects.select_related("region").get(pk=organisation_id)
    return {**organisation_dict(o), "events": events_of(o.events.order_by("occurred_on", "created_at", "id"))}


# --- public ---------------------------------------------------------------------------------------
class PublicCategoryOut(Schema):
    label: str
    total: str
    met: str


class PublicUpdateOut(Schema):
    date: str
    progress: int
    text: str


class PublicProjectOut(Schema):
    id: int
    title: str
    summary: str
    category: str
    status: str
    status_label: str
    organisation: str
    progress: int
    updates: list[PublicUpdateOut]


class PublicProgressOut(Schema):
    community_code: str
    community_name: str
    needs_total: int
    needs_met: int
    needs_in_project: int
    needs_waiting: int
    people_served: str
    categories: list[PublicCategoryOut]
    projects: list[PublicProjectOut]


@router.get("/public/{code}", response={200: PublicProgressOut, 404: ErrorOut}, auth=None)
@api_rate_limit("public_api")  # public and anonymous: bounded per client IP (CFG-2)
def public_progress(request: HttpRequest, code: str) -> Any:
    """A community's 三清单 progress for the public: counts (small ones suppressed), projects, public updates.
    No personal data."""
    community = public_community(code=code)
    if community is None:
        raise NOT_FOUND
    p = community_progress(community=community)
    return {
        "community_code": community.code,
        "community_name": community.name,
        **{
            f: getattr(p, f)
            for f in ("needs_total", "needs_met", "needs_in_project", "needs_waiting", "people_served")
        },
        "categories": [c.__dict__ for c in p.categories],
        "projects": [{**pr.__dict__, "updates": [u.__dict__ for u in pr.updates]} for pr in p.projects],
    }
