"""/api/people/stewards (staff, scoped) and /api/people/buildings/{code}/card (public 三亮 card)."""

# No "from __future__ import annotations": django-ninja resolves Query[...] / Form[...] at runtime.
import datetime as dt
from typing import Any

from django.http import Http404, HttpRequest
from ninja import Field, Query, Schema
from ninja import Status as HttpStatus
from ninja.pagination import paginate

from linli.accounts.roles import Capability
from linli.core.api import ApiError, CappedPagination, ErrorOut, session_or_token
from linli.people.access import may
from linli.people.api.common import not_found, raise_api, require, router, user_of
from linli.people.api.register import _Mapped
from linli.people.errors import PeopleError
from linli.people.models import Steward, StewardKind, StewardStatus
from linli.people.presenters import steward_public, steward_row
from linli.people.selectors.stewards import StewardFilters, building_card, steward_for_user, stewards_for_user
from linli.people.services import steward_buildings_set, steward_register, steward_transition
from linli.people.transitions import TRANSITIONS, actions_from
from linli.places.models import Grid, Level, Region


class StewardOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str  # full for ACTIVE stewards (public on the 三亮 card anyway), masked otherwise
    organisation: str
    duty: str
    duty_phone: str  # public on the card for ACTIVE stewards; masked by the presenter otherwise
    community_id: int
    community: str
    grid_id: int | None
    grid: str
    status: str
    status_label: str
    has_photo: bool


class StewardQuery(Schema):
    kind: StewardKind | None = None
    status: StewardStatus | None = None
    grid_id: int | None = Field(None, ge=1)
    community_id: int | None = Field(None, ge=1)


@router.get("/stewards", response=list[StewardOut], auth=session_or_token, url_name="people_stewards")
@paginate(CappedPagination)
def stewards(request: HttpRequest, q: Query[StewardQuery]) -> Any:
    """Grid workers and stewards in the caller's scope."""
    user = require(request, Capability.VIEW_PEOPLE)
    filters = StewardFilters(
        kind=q.kind or "", status=q.status or "", grid_id=q.grid_id, community_id=q.community_id
    )
    return _Mapped(stewards_for_user(user, filters), steward_row)


class StewardEventOut(Schema):
    action: str
    from_status: str
    to_status: str
    note: str
    created_at: dt.datetime


class BuildingOut(Schema):
    id: int
    code: str
    name: str


class StewardDetailOut(StewardOut):
    buildings: list[BuildingOut]
    events: list[StewardEventOut]
    actions: list[str]


def _detail(user: Any, steward: Steward) -> dict[str, Any]:
    manage = may(user, Capability.STEWARDS_MANAGE, steward)
    return steward_row(steward) | {
        "buildings": [{"id": b.pk, "code": b.code, "name": b.name} for b in steward.buildings.all()],
        "events": [
            {
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
                "created_at": e.created_at,
            }
            for e in steward.events.all()
        ],
        "actions": actions_from(steward.status) if manage else [],
    }


@router.get(
    "/stewards/{int:steward_id}",
    response={200: StewardDetailOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_steward",
)
def steward(request: HttpRequest, steward_id: int) -> Any:
    user = require(request, Capability.VIEW_PEOPLE)
    found = steward_for_user(user, steward_id)
    if found is None:
        not_found(Steward, steward_id)
    return _detail(user, found)


class StewardIn(Schema):
    kind: StewardKind
    name: str = Field(..., max_length=50)
    community_id: int = Field(..., ge=1)
    grid_id: int | None = Field(None, ge=1)
    duty: str = Field(..., max_length=200)
    duty_phone: str = Field("", max_length=30)
    organisation: str = Field("", max_length=100)
    note: str = Field("", max_length=200)


@router.post(
    "/stewards",
    response={201: StewardOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_steward_register",
)
def steward_create(request: HttpRequest, payload: StewardIn) -> Any:
    """Register a recruit or volunteer (status "applied")."""
    user = require(request, Capability.STEWARDS_MANAGE)
    community = Region.objects.filter(pk=payload.community_id, level=Level.COMMUNITY).first()
    probe = Steward(region_path=community.path if community else "", grid_id=payload.grid_id)
    if community is None or not may(user, Capability.STEWARDS_MANAGE, probe):
        not_found(Region, payload.community_id)  # an existing community out of scope is audited (AUD-1)
    grid = Grid.objects.filter(pk=payload.grid_id).first() if payload.grid_id else None
    if payload.grid_id and grid is None:
        raise ApiError("grid_out_of_community", "网格不属于该社区", status=400)
    try:
        created = steward_register(
            actor=user_of(request),
            kind=payload.kind,
            name=payload.name,
            community=community,
            grid=grid,
            duty=payload.duty,
            duty_phone=payload.duty_phone,
            organisation=payload.organisation,
            note=payload.note,
        )
    except PeopleError as exc:
        raise_api(exc)
    return HttpStatus(201, steward_row(created))


def _managed(request: HttpRequest, steward_id: int) -> Steward:
    user = require(request, Capability.STEWARDS_MANAGE)
    found = steward_for_user(user, steward_id)
    if found is None or not may(user, Capability.STEWARDS_MANAGE, found):
        not_found(Steward, steward_id)
    return found


class TransitionIn(Schema):
    action: str = Field(..., description="、".join(TRANSITIONS))
    note: str = Field("", max_length=200)


@router.post(
    "/stewards/{int:steward_id}/transition",
    response={200: StewardDetailOut, 400: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    auth=session_or_token,
    url_name="people_steward_transition",
)
def steward_transition_post(request: HttpRequest, steward_id: int, payload: TransitionIn) -> Any:
    """Move a steward through recruitment and review (vet, reject, activate, suspend, reinstate, leave)."""
    _managed(request, steward_id)
    try:
        steward_transition(
            steward_id=steward_id, action=payload.action, actor=user_of(request), note=payload.note
        )
    except PeopleError as exc:
        raise_api(exc)
    return _detail(user_of(request), _managed(request, steward_id))


class BuildingsIn(Schema):
    building_ids: list[int] = Field(..., max_length=200)


@router.put(
    "/stewards/{int:steward_id}/buildings",
    response={200: StewardDetailOut, 400: ErrorOut, 404: ErrorOut},
    auth=session_or_token,
    url_name="people_steward_buildings",
)
def steward_buildings(request: HttpRequest, steward_id: int, payload: BuildingsIn) -> Any:
    """The buildings whose 三亮 card shows this steward (inside the steward's community)."""
    _managed(request, steward_id)
    try:
        steward_buildings_set(steward_id=steward_id, building_ids=payload.building_ids)
    except PeopleError as exc:
        raise_api(exc)
    return _detail(user_of(request), _managed(request, steward_id))


class CardPersonOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    organisation: str
    duty: str
    duty_phone: str
    photo_url: str


class CardOut(Schema):
    building_code: str
    building: str
    estate: str
    community: str
    grid: str
    grid_workers: list[CardPersonOut]
    stewards: list[CardPersonOut]


@router.get(
    "/buildings/{code}/card",
    response={200: CardOut, 404: ErrorOut},
    auth=None,
    url_name="people_building_card",
)
def card(request: HttpRequest, code: str) -> Any:
    """The public 三亮 card of a building: ACTIVE stewards and grid workers with name, duty and duty
    phone (public by design; nobody else appears)."""
    found = building_card(code[:40])
    if found is None:
        raise Http404
    return {
        "building_code": found.building.code,
        "building": found.building.name,
        "estate": found.estate.name if found.estate else "",
        "community": found.community.name if found.community else "",
        "grid": found.grid_name,
        "grid_workers": [steward_public(s) for s in found.grid_workers],
        "stewards": [steward_public(s) for s in found.stewards],
    }
