"""Needs, matching and resources under /api/needs/ (staff, scoped; contacts masked)."""

# No "from __future__ import annotations": django-ninja resolves the schemas at runtime.
import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.accounts.roles import Capability
from linli.core.api import CappedPagination, ErrorOut, session_or_token
from linli.needs import selectors
from linli.needs import services as svc
from linli.needs.api.common import NOT_FOUND, EventOut, call, events_of, require
from linli.needs.matching import need_suggestions
from linli.needs.models import Need, NeedMatch, Resource
from linli.security.masking import MaskedName, MaskedPhone

router = Router(tags=["needs"], auth=session_or_token)
ERRORS = {400: ErrorOut, 404: ErrorOut, 409: ErrorOut}
Text100 = Field("", max_length=100)


# --- needs ----------------------------------------------------------------------------------------
class NeedOut(Schema):
    id: int
    title: str
    description: str
    category: str
    source_kind: str
    source_case_id: int | None
    source_visit_id: int | None = Field(..., description="关爱走访记录;仅对可查看该记录的人显示")
    source_ref: str
    region_id: int
    region_name: str
    community_id: int
    community_name: str
    grid_id: int | None
    beneficiaries: int
    urgency: str
    status: str
    status_label: str
    contact_name: MaskedName
    contact_phone: MaskedPhone
    created_at: dt.datetime


def need_dict(n: Need, *, visible_visits: frozenset[int] = frozenset()) -> dict[str, Any]:
    """``visible_visits``: the care visits the viewer may read; any other source visit is not named (PI-3)."""
    return {
        **{
            f: getattr(n, f)
            for f in ("id", "title", "description", "category", "source_kind", "source_case_id")
        },
        **{f: getattr(n, f) for f in ("source_ref", "region_id", "community_id", "grid_id", "beneficiaries")},
        **{f: getattr(n, f) for f in ("urgency", "status", "contact_name", "contact_phone", "created_at")},
        "source_visit_id": n.source_visit_id if n.source_visit_id in visible_visits else None,
        "region_name": n.region.name,
        "community_name": n.community.name,
        "status_label": n.get_status_display(),
    }


def visible_visits(user: Any, needs: list[Need]) -> frozenset[int]:
    """Of the needs' source visits, those the user may read (one query, none when no need has one)."""
    ids = {n.source_visit_id for n in needs if n.source_visit_id is not None}
    if not ids:
        return frozenset()
    from linli.people.models import CareVisit

    return frozenset(CareVisit.objects.for_user(user).filter(pk__in=ids).values_list("pk", flat=True))


class NeedQuery(Schema):
    status: str = Field("", max_length=20)
    category: str = Field("", max_length=20)
    urgency: str = Field("", max_length=20)
    source_kind: str = Field("", max_length=20)
    community_id: int | None = Field(None, ge=1, le=2**62)
    q: str = Field("", max_length=50)


@router.get("/", response=list[NeedOut])
@paginate(CappedPagination)
def needs_list(request: HttpRequest, filters: Query[NeedQuery]) -> Any:
    """Needs in the caller's scope, open first."""
    user = require(request)
    f = selectors.NeedFilters(**filters.dict())
    rows = list(selectors.needs_for_user(user=user, filters=f)[:2000])
    visits = visible_visits(user, rows)
    return [need_dict(n, visible_visits=visits) for n in rows]


class NeedIn(Schema):
    title: str = Field(..., max_length=100)
    category: str = Field(..., max_length=20)
    source_kind: str = Field(..., max_length=20)
    region_id: int | None = Field(
        None, ge=1, le=2**62, description="estate or community; from a case: optional"
    )
    beneficiaries: int = Field(1, ge=1, le=100_000)
    urgency: str = Field("normal", max_length=10)
    description: str = Field("", max_length=2000)
    source_case_id: int | None = Field(None, ge=1, le=2**62)
    source_visit_id: int | None = Field(None, ge=1, le=2**62, description="来源为入户走访时:关爱走访记录")
    source_ref: str = Text100
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=30)


@router.post("/", response={201: NeedOut, **ERRORS})
def need_create(request: HttpRequest, body: NeedIn) -> Any:
    """File a need (from a visit, a meeting, a case or a resident)."""
    user = require(request, Capability.NEEDS_REPORT)
    need = call(lambda: svc.need_create(actor=user, **body.dict()))
    need = Need.objects.select_related("region", "community").get(pk=need.pk)
    return HttpStatus(201, need_dict(need, visible_visits=visible_visits(user, [need])))


class NeedDetailOut(NeedOut):
    events: list[EventOut]


@router.get("/{int:need_id}", response={200: NeedDetailOut, 404: ErrorOut})
def need_detail(request: HttpRequest, need_id: int) -> Any:
    user = require(request)
    need = selectors.need_for_user(user=user, need_id=need_id)
    if need is None:
        raise NOT_FOUND
    return {
        **need_dict(need, visible_visits=visible_visits(user, [need])),
        "events": events_of(need.events.order_by("created_at", "id")),
    }


class NoteIn(Schema):
    note: str = Field("", max_length=500)


@router.post("/{int:need_id}/actions/{action}", response={200: NeedOut, **ERRORS})
def need_action(request: HttpRequest, need_id: int, action: str, body: NoteIn) -> Any:
    """``meet`` (已满足), ``close`` (note required; releases its resources) or ``reopen`` (note required)."""
    user = require(request, Capability.NEEDS_MANAGE)
    call(lambda: svc.need_act(actor=user, need_id=need_id, action=action, note=body.note))
    need = Need.objects.select_related("region", "community").get(pk=need_id)
    return need_dict(need, visible_visits=visible_visits(user, [need]))


class SuggestionOut(Schema):
    resource_id: int
    resource_name: str
    provider_name: str
    kind: str
    category: str
    score: float
    category_affinity: float
    proximity: float
    capacity_fit: float
    distance_m: float | None
    remaining: int
    amount: int


@router.get("/{int:need_id}/suggestions", response={200: list[SuggestionOut], 404: ErrorOut})
def need_suggestions_list(request: HttpRequest, need_id: int, limit: int = Query(20, ge=1, le=100)) -> Any:
    """Resources suggested for the need, best first (the score is documented in docs/needs.md)."""
    user = require(request, Capability.NEEDS_MANAGE)
    need = selectors.need_for_user(user=user, need_id=need_id)
    if need is None or not selectors.user_may_manage(user=user, region_path=need.region_path):
        raise NOT_FOUND
    return [
        {
            "resource_id": r.pk,
            "resource_name": r.name,
            "provider_name": r.provider_name,
            "kind": r.kind,
            "category": r.category,
            "score": s.score,
            "category_affinity": s.category,
            "proximity": s.proximity,
            "capacity_fit": s.capacity,
            "distance_m": s.distance_m,
            "remaining": r.remaining,
            "amount": s.amount,
        }
        for s, r in need_suggestions(need=need, limit=limit)
    ]


class MatchIn(Schema):
    resource_id: int = Field(..., ge=1, le=2**62)
    decision: Literal["accept", "reject"]
    reason: str = Field("", max_length=200, description="required to reject")


class MatchOut(Schema):
    id: int
    need_id: int
    resource_id: int
    status: str
    score: float
    distance_m: float | None
    amount: int
    reason: str
    decided_at: dt.datetime


def match_dict(m: NeedMatch) -> dict[str, Any]:
    fields = (
        "id",
        "need_id",
        "resource_id",
        "status",
        "score",
        "distance_m",
        "amount",
        "reason",
        "decided_at",
    )
    return {f: getattr(m, f) for f in fields}


@router.post("/{int:need_id}/matches", response={201: MatchOut, **ERRORS})
def need_match(request: HttpRequest, need_id: int, body: MatchIn) -> Any:
    """Accept a suggested resource (reserves its capacity) or reject it with a reason."""
    user = require(request, Capability.NEEDS_MANAGE)
    if body.decision == "accept":
        match = call(
            lambda: svc.match_accept(
                actor=user, need_id=need_id, resource_id=body.resource_id, note=body.reason
            )
        )
    else:
        match = call(
            lambda: svc.match_reject(
                actor=user, need_id=need_id, resource_id=body.resource_id, reason=body.reason
            )
        )
    return HttpStatus(201, match_dict(match))


@router.get("/{int:need_id}/matches", response={200: list[MatchOut], 404: ErrorOut})
def need_matches(request: HttpRequest, need_id: int) -> Any:
    need = selectors.need_for_user(user=require(request), need_id=need_id)
    if need is None:
        raise NOT_FOUND
    return [match_dict(m) for m in selectors.need_matches(need=need)]


class ReleaseIn(Schema):
    reason: str = Field(..., max_length=200)


@router.post("/matches/{int:match_id}/release", response={200: MatchOut, **ERRORS})
def match_release(request: HttpRequest, match_id: int, body: ReleaseIn) -> Any:
    """Give an accepted resource back (the need returns to 待匹配 when it was its last)."""
    user = require(request, Capability.NEEDS_MANAGE)
    return match_dict(call(lambda: svc.match_release(actor=user, match_id=match_id, reason=body.reason)))


# --- resources ------------------------------------------------------------------------------------
class ResourceOut(Schema):
    id: int
    name: str
    description: str
    kind: str
    category: str
    provider_kind: str
    provider_name: str
    organisation_id: int | None
    station_id: int | None
    volunteer_team_id: int | None
    region_id: int
    region_name: str
    lat: float | None
    lng: float | None
    capacity: int
    capacity_unit: str
    remaining: int
    valid_from: dt.date
    valid_until: dt.date | None
    is_active: bool
    contact_name: MaskedName
    contact_phone: MaskedPhone


def resource_dict(r: Resource) -> dict[str, Any]:
    return {
        **{f: getattr(r, f) for f in ResourceOut.model_fields if f != "region_name"},
        "region_name": r.region.name,
    }


class ResourceQuery(Schema):
    kind: str = Field("", max_length=20)
    category: str = Field("", max_length=20)
    provider_kind: str = Field("", max_length=20)
    available: bool = False
    q: str = Field("", max_length=50)


@router.get("/resources", response=list[ResourceOut])
@paginate(CappedPagination)
def resources_list(request: HttpRequest, filters: Query[ResourceQuery]) -> Any:
    user = require(request)
    f = selectors.ResourceFilters(**filters.dict())
    return [resource_dict(r) for r in selectors.resources_for_user(user=user, filters=f)[:2000]]


class ResourceIn(Schema):
    name: str = Field(..., max_length=100)
    kind: str = Field(..., max_length=20)
    category: str = Field(..., max_length=20)
    provider_kind: str = Field(..., max_length=20)
    region_id: int = Field(..., ge=1, le=2**62)
    capacity: int = Field(..., ge=1, le=1_000_000)
    capacity_unit: str = Field("needs", max_length=10)
    organisation_id: int | None = Field(None, ge=1, le=2**62)
    station_id: int | None = Field(None, ge=1, le=2**62)
    volunteer_team_id: int | None = Field(
        None, ge=1, le=2**62, description="提供方为志愿者时:已登记的志愿服务队(party)"
    )
    provider_name: str = Text100
    provider_ref: str = Field("", max_length=60, description="其他提供方的文字编号")
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    description: str = Field("", max_length=2000)
    contact_name: str = Field("", max_length=50)
    contact_phone: str = Field("", max_length=30)


@router.post("/resources", response={201: ResourceOut, **ERRORS})
def resource_create(request: HttpRequest, body: ResourceIn) -> Any:
    user = require(request, Capability.NEEDS_MANAGE)
    resource = call(lambda: svc.resource_create(actor=user, **body.dict()))
    return HttpStatus(201, resource_dict(resource))


@router.get("/resources/{int:resource_id}", response={200: ResourceOut, 404: ErrorOut})
def resource_detail(request: HttpRequest, resource_id: int) -> Any:
    resource = selectors.resource_for_user(user=require(request), resource_id=resource_id)
    if resource is None:
        raise NOT_FOUND
    return resource_dict(resource)


class ResourcePatch(Schema):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=2000)
    capacity: int | None = Field(None, ge=1, le=1_000_000)
    valid_until: dt.date | None = None
    is_active: bool | None = None


@router.patch("/resources/{int:resource_id}", response={200: ResourceOut, **ERRORS})
def resource_update(request: HttpRequest, resource_id: int, body: ResourcePatch) -> Any:
    """Change a resource (a capacity change keeps what accepted matches reserved)."""
    user = require(request, Capability.NEEDS_MANAGE)
    changes = body.dict(exclude_unset=True)
    changes = {k: v for k, v in changes.items() if v is not None or k == "valid_until"}
    call(lambda: svc.resource_update(actor=user, resource_id=resource_id, changes=changes))
    return resource_dict(Resource.objects.select_related("region").get(pk=resource_id))
