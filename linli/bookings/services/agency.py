"""代办/帮办: ask for an item to be handled for someone, and record the errand's steps.

The request is a case of kind 代办 filed through ``linli.cases.services.case_submit`` — so it is located,
routed, given a deadline and followed through the closed loop like any case — plus this app's
``AgencyDetail`` and its first event, in one transaction: both exist or neither.

Who may ask: a resident for themself (channel 居民端), or staff holding ``bookings.agency`` (grid worker:
网格巡查; window, back office, secretary: 窗口受理) for a resident, named by phone (linked to their account
when they have one) and/or name. Door-to-door visits are for people in the care registry only; until the
people app (分类分色) exists, staff confirm that by hand (``in_care_registry``), residents cannot.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from linli.accounts.roles import Capability, Role
from linli.accounts.scopes import user_has_capability, user_roles
from linli.accounts.services import AccountError, phone_normalize
from linli.bookings import notify
from linli.bookings.errors import BookingError
from linli.bookings.models import AgencyDetail, AgencyEvent, AgencyStep
from linli.bookings.permissions import Who
from linli.bookings.services.lookups import item_active, require_offered, station_published
from linli.bookings.transitions import AGENCY_FLOW, AGENCY_TRANSITIONS, transition_apply
from linli.core.scoping import scope_for
from linli.places.models import Grid, Level
from linli.stations.models import Station

if TYPE_CHECKING:
    from linli.accounts.models import User

TEXT_MAX = 1000
AGENCY_CATEGORY_CODE = "general.agency"  # 综合 › 其他代办事项 (cases seed data); optional


def _community_of(station: Station | None, requester: User) -> int | None:
    """Where the case belongs: the station's community, else the grid worker's own community."""
    if station is not None:
        return station.region_id if station.region.level == Level.COMMUNITY else None
    grids = sorted(scope_for(requester, Capability.BOOKINGS_AGENCY).grid_ids)
    if grids:
        return Grid.objects.filter(pk=grids[0]).values_list("community_id", flat=True).first()
    return None


def _requester_grid(requester: User) -> int | None:
    grids = sorted(scope_for(requester, Capability.BOOKINGS_AGENCY).grid_ids)
    return grids[0] if grids else None


def _category_id() -> int | None:
    from linli.cases.models import Category

    return (
        Category.objects.filter(code=AGENCY_CATEGORY_CODE, is_active=True)
        .values_list("pk", flat=True)
        .first()
    )


def agency_request(
    *,
    requester: User,
    item_id: int | str | None,
    text: str,
    station_id: int | None = None,
    beneficiary_phone: str = "",
    beneficiary_name: str = "",
    door_to_door: bool = False,
    in_care_registry: bool = False,
    care_note: str = "",
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> AgencyDetail:
    from linli.accounts.models import User
    from linli.cases.errors import CaseError
    from linli.cases.models import CaseKind, Channel
    from linli.cases.services import case_submit

    now = now or timezone.now()
    item = item_active(item_id)
    if not item.agency_allowed:
        raise BookingError("agency_not_allowed", f"「{item.name}」不支持代办,请本人到窗口办理")
    station = None
    if station_id:
        station = station_published(station_id)
        require_offered(station=station, item=item, universal_ok=True)
    text = (text or "").strip()
    if not text:
        raise BookingError("text_required", "请简单说明需要代办的情况")
    if len(text) > TEXT_MAX:
        raise BookingError("text_too_long", f"说明不能超过{TEXT_MAX}字")
    care_note = (care_note or "").strip()[:200]
    beneficiary_name = (beneficiary_name or "").strip()
    if len(beneficiary_name) > 50:
        raise BookingError("name_too_long", "姓名不能超过50字")

    staff = user_has_capability(requester, Capability.BOOKINGS_AGENCY)
    on_behalf_of: User | None
    reporter: User | None
    filed_by: User | None
    phone = ""
    if not staff:
        if door_to_door or in_care_registry:
            raise BookingError(
                "door_to_door_not_allowed",
                "上门代办面向关爱名册中的居民,请联系您的网格员为您申请",
                status=403,
            )
        on_behalf_of, beneficiary_name = requester, ""
        channel, reporter, filed_by = Channel.RESIDENT, requester, None
    else:
        if beneficiary_phone.strip():
            try:
                phone = phone_normalize(beneficiary_phone)
            except AccountError as exc:
                raise BookingError(exc.code, exc.message) from exc
        if not phone and not beneficiary_name:
            raise BookingError("beneficiary_required", "请填写代办对象的姓名或手机号")
        if door_to_door and not in_care_registry:
            raise BookingError("door_to_door_not_allowed", "上门代办仅面向关爱名册中的居民")
        on_behalf_of = (
            User.objects.filter(phone_index__matches=phone, is_active=True).first() if phone else None
        )
        is_grid_worker = Role.GRID_WORKER in user_roles(requester)
        channel = Channel.GRID_PATROL if is_grid_worker else Channel.WINDOW
        reporter, filed_by = on_behalf_of, requester

    with transaction.atomic():
        try:
            submitted = case_submit(
                text=f"【代办】{item.name}\n{text}",
                title=f"代办:{item.name}",
                channel=channel,
                reporter=reporter,
                filed_by=filed_by,
                kind=CaseKind.AGENCY,
                category_id=_category_id(),
                community_id=_community_of(station, requester),
                contact_name=beneficiary_name,
                contact_phone=phone,
                is_public=False,  # an errand for a person is nobody else's business
                idempotency_key=idempotency_key,
                now=now,
            )
        except CaseError as exc:
            raise BookingError(exc.code, exc.message, status=exc.status) from exc
        case = submitted.case
        if not submitted.created:
            existing = AgencyDetail.objects.filter(case=case).first()
            if existing is not None:
                return existing  # a retried request (same idempotency key)
            raise BookingError("duplicate_request", "这次提交与之前的一份工单重复", status=409)
        detail = AgencyDetail.objects.create(
            case=case,
            item=item,
            station=station,
            requested_by=requester,
            on_behalf_of=on_behalf_of,
            beneficiary_name=beneficiary_name,
            beneficiary_phone=phone,
            door_to_door=door_to_door,
            in_care_registry=in_care_registry if staff else False,
            care_note=care_note if staff else "",
            step=AgencyStep.REQUESTED,
            step_at=now,
            grid_id=case.grid_id or (_requester_grid(requester) if staff else None),
        )
        AgencyEvent.objects.create(
            detail=detail,
            actor=requester,
            actor_role=(Who.STAFF if staff else Who.OWNER).value,
            action="request",
            from_state="",
            to_state=AgencyStep.REQUESTED,
            data={"case": case.number, "channel": channel},
            created_at=now,
        )
    return detail


def agency_step(
    *, detail_id: int, actor: User, action: str, note: str = "", now: dt.datetime | None = None
) -> AgencyDetail:
    """Record the next step (收取材料 → 递交办理 → 送回结果); the table enforces the order."""
    if action not in AGENCY_TRANSITIONS:
        raise BookingError("unknown_action", f"未知的代办步骤:{action}")
    now = now or timezone.now()

    def effect(detail: AgencyDetail) -> dict[str, Any]:
        return {"step_at": now}

    return transition_apply(
        flow=AGENCY_FLOW,
        obj_id=detail_id,
        action=action,
        actor=actor,
        note=note,
        effect=effect,
        after=notify.agency_step,
        now=now,
    ).obj
