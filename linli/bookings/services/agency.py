"""代办/帮办: ask for an item to be handled for someone, and record the errand's steps.

The request is a case of kind 代办 filed through ``linli.cases.services.case_submit`` — so it is located,
routed, given a deadline and followed through the closed loop like any case — plus this app's
``AgencyDetail`` and its first event, in one transaction: both exist or neither.

Who may ask: a resident for themself (channel 居民端), or staff holding ``bookings.agency`` (grid worker:
网格巡查; window, back office, secretary: 窗口受理) for a resident, named by phone (linked to their account
when they have one) and/or name.

Door-to-door visits (上门代办) are for people in the care registry (分类分色, ``linli.people``) only, and
only staff file them. The service looks the person up in the registry within the requester's care scope
(``care_record_for_person``: the record the requester picked, else the present resident registered with the
phone given) and links the record. When that finds nobody — the requester holds no care scope (window
staff), or the person is registered under another phone — staff may still confirm membership by hand
(``in_care_registry``, a manual override that must say why in ``care_note``). Residents can do neither.

When a door-visit step (``collect``, ``return_result``: at the person's door) is recorded on a request linked
to a care record, the same transaction records a door visit through ``linli.people.services.care_visit_record``
— the visit plan's next due date moves on — if the actor may edit that record (``care.edit`` in scope: the
grid worker, back office, secretary). Otherwise, or when the record was closed meanwhile, the errand's step
still counts and its event says why no visit was recorded (``care_visit_skipped``).
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
    from linli.people.models import CareRecord

TEXT_MAX = 1000
AGENCY_CATEGORY_CODE = "general.agency"  # 综合 › 其他代办事项 (cases seed data); optional
# The steps that happen at the person's door on a door-to-door errand (材料上门收取, 结果送上门).
DOOR_VISIT_ACTIONS = frozenset({"collect", "return_result"})


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
    care_record_id: int | None = None,
    idempotency_key: str = "",
    now: dt.datetime | None = None,
) -> AgencyDetail:
    """File a 代办 request. ``in_care_registry`` is the staff's manual override for when the registry
    lookup finds nobody; ``care_record_id`` names a record from the requester's own care list."""
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
    care = None
    if not staff:
        if door_to_door or in_care_registry or care_record_id is not None:
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
        care = _care_lookup(requester, phone=phone, record_id=care_record_id)
        if care is not None:
            in_care_registry = True
            if not phone and not beneficiary_name:
                beneficiary_name = care.resident.name  # chosen from the requester's own care list
        elif in_care_registry and not care_note:
            raise BookingError(
                "care_note_required", "关爱名册中未查到该居民:如已人工核实,请在“关爱说明”中写明核实情况"
            )
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
            care_record=care,
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
            data={
                "case": case.number,
                "channel": channel,
                # How membership was established (never which record: the event is read more widely).
                "care": "registry" if care is not None else "manual" if detail.in_care_registry else "",
            },
            created_at=now,
        )
    return detail


def _care_lookup(requester: User, *, phone: str, record_id: int | None) -> CareRecord | None:
    from linli.people.selectors.care import care_record_for_person

    care = care_record_for_person(requester, phone=phone, record_id=record_id)
    if care is None and record_id is not None:
        raise BookingError("care_record_not_found", "关爱对象不存在或无权访问", status=404)
    return care


def _care_visit(
    detail: AgencyDetail, *, actor: User, action: str, note: str, now: dt.datetime
) -> dict[str, Any]:
    """Record the door step as a care visit on the linked record; what happened goes into the event."""
    from linli.catalog.models import ServiceItem
    from linli.people.access import may
    from linli.people.errors import PeopleError
    from linli.people.models import CareRecord, VisitKind
    from linli.people.services import care_visit_record

    record = CareRecord.objects.filter(pk=detail.care_record_id).first() if detail.care_record_id else None
    if record is None:
        return {"care_visit_skipped": "care_record_gone"}
    if not may(actor, Capability.CARE_EDIT, record):
        return {"care_visit_skipped": "no_care_scope"}
    item = ServiceItem.objects.filter(pk=detail.item_id).values_list("name", flat=True).first() or ""
    label = AGENCY_TRANSITIONS[action].label
    notes = f"上门代办「{item}」:{label}" + (f"\n{note}" if note else "")
    try:
        visit = care_visit_record(
            actor=actor, record_id=record.pk, kind=VisitKind.DOOR, notes=notes, visited_at=now
        )
    except PeopleError as exc:  # e.g. the record was closed meanwhile: the errand goes on regardless
        return {"care_visit_skipped": exc.code}
    return {"care_visit": visit.pk}


def agency_step(
    *, detail_id: int, actor: User, action: str, note: str = "", now: dt.datetime | None = None
) -> AgencyDetail:
    """Record the next step (收取材料 → 递交办理 → 送回结果); the table enforces the order. A door step of a
    door-to-door request linked to a care record is also recorded as a care visit (module docstring)."""
    if action not in AGENCY_TRANSITIONS:
        raise BookingError("unknown_action", f"未知的代办步骤:{action}")
    now = now or timezone.now()
    # Filled by ``effect`` on the locked row; transition_apply copies it into the event row afterwards.
    event_data: dict[str, Any] = {}

    def effect(detail: AgencyDetail) -> dict[str, Any]:
        if detail.door_to_door and action in DOOR_VISIT_ACTIONS and detail.care_record_id is not None:
            event_data.update(_care_visit(detail, actor=actor, action=action, note=note, now=now))
        return {"step_at": now}

    return transition_apply(
        flow=AGENCY_FLOW,
        obj_id=detail_id,
        action=action,
        actor=actor,
        note=note,
        effect=effect,
        data=event_data,
        after=notify.agency_step,
        now=now,
    ).obj
