"""Writes of the needs list: file a need (from a visit, a meeting, a case or a resident), edit it, and the
state changes staff make by hand (met, closed, reopened)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.core.scoping import may_view, scope_for
from linli.needs.errors import NeedsError, not_found
from linli.needs.models import (
    NEED_CATEGORY,
    Category,
    MatchStatus,
    Need,
    NeedEvent,
    NeedMatch,
    NeedSource,
    NeedStatus,
    Resource,
    Urgency,
)
from linli.needs.permissions import may_report
from linli.needs.services.common import as_id, choice, number, phone, scoped_row, text
from linli.needs.transitions import NEED_FLOW, TransitionResult, transition_apply
from linli.places.models import Grid, Level, Region

if TYPE_CHECKING:
    import datetime as dt

    from linli.accounts.models import User

BENEFICIARIES_MAX = 100_000
EDITABLE = frozenset({NeedStatus.OPEN, NeedStatus.MATCHED})


def _region_and_community(region_id: Any) -> tuple[Region, Region]:
    region = Region.objects.filter(pk=as_id(region_id)).select_related("parent").first()
    if region is None:
        raise not_found("区域")
    if region.level == Level.COMMUNITY:
        return region, region
    if region.level == Level.ESTATE and region.parent is not None:
        return region, region.parent
    raise NeedsError("invalid_region_level", "需求应登记到小区或社区")


def _visit_region_id(building_path: str) -> int | None:
    """The estate (else the community) above a visited building, from the visit's copied path."""
    building = Region.objects.filter(path=building_path).select_related("parent").first()
    parent = building.parent if building is not None else None
    while parent is not None and parent.level not in (Level.ESTATE, Level.COMMUNITY):
        parent = parent.parent
    return parent.pk if parent is not None else None


def need_create(
    *,
    actor: User,
    title: str,
    category: str,
    source_kind: str,
    region_id: int | None = None,
    beneficiaries: int = 1,
    urgency: str = Urgency.NORMAL,
    description: str = "",
    source_case_id: int | None = None,
    source_visit_id: int | None = None,
    source_ref: str = "",
    grid_id: int | None = None,
    contact_name: str = "",
    contact_phone: str = "",
) -> Need:
    """File a need. From a case (诉求转需求) the region defaults to the case's estate or community; from a
    care-registry visit (走访发现, the filer must be able to read the visit) to the visited building's
    estate, and the grid to the visit's."""
    title = text(title, label="需求", max_length=100, required=True)
    category = choice(category, Category, label="类别")
    source_kind = choice(source_kind, NeedSource, label="来源")
    urgency = choice(urgency, Urgency, label="紧急程度")
    beneficiaries = number(beneficiaries, label="受益人数", low=1, high=BENEFICIARIES_MAX)
    case = None
    if source_kind == NeedSource.CASE:
        from linli.cases.models import Case

        case = Case.objects.filter(pk=as_id(source_case_id)).first()
        if case is None or not may_view(actor, case):
            raise not_found("来源工单")
        if region_id is None:
            region_id = case.estate_id or case.community_id
        if grid_id is None:
            grid_id = case.grid_id
    elif source_case_id is not None:
        raise NeedsError("source_case_needs_case_source", "只有来源为“诉求工单”的需求才能关联工单")
    visit = None
    if source_visit_id is not None:
        if source_kind != NeedSource.VISIT:
            raise NeedsError("source_visit_needs_visit_source", "只有来源为“入户走访”的需求才能关联走访记录")
        from linli.people.models import CareVisit

        # care.view scope: someone who may not read the visit cannot learn it exists (PI-3, AC-1).
        visit = CareVisit.objects.for_user(actor).filter(pk=as_id(source_visit_id)).first()
        if visit is None:
            raise not_found("来源走访记录")
        if region_id is None:
            region_id = _visit_region_id(visit.region_path)
        if grid_id is None:
            grid_id = visit.grid_id
    region, community = _region_and_community(region_id)
    grid = None
    if grid_id is not None:
        grid = Grid.objects.filter(pk=as_id(grid_id), community=community).first()
        if grid is None:
            raise NeedsError("invalid_grid", "网格不属于该社区")
    if grid is None and not may_report(actor, region_path=region.path, grid_id=None):
        # A grid worker files in their own grid of that community.
        mine = sorted(scope_for(actor, Capability.NEEDS_REPORT).grid_ids)
        grid = Grid.objects.filter(pk__in=mine, community=community).order_by("code").first()
    if not may_report(actor, region_path=region.path, grid_id=grid.pk if grid else None):
        raise not_found("区域")
    need = Need(
        title=title,
        description=text(description, label="详细情况", max_length=2000),
        category=category,
        source_kind=source_kind,
        source_case=case,
        source_visit=visit,
        source_ref=text(source_ref, label="来源记录", max_length=100),
        region=region,
        community=community,
        region_path=region.path,
        grid=grid,
        beneficiaries=beneficiaries,
        urgency=urgency,
        contact_name=text(contact_name, label="联系人", max_length=50),
        contact_phone=phone(contact_phone),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            need.save()
            NeedEvent.objects.create(need=need, actor=actor, action="create", to_state=need.status)
    except IntegrityError as exc:
        if case is not None and Need.objects.filter(source_case=case).exists():
            raise NeedsError("case_already_has_need", "该工单已转为需求,请勿重复登记", status=409) from exc
        raise
    return need


NEED_EDITABLE_FIELDS = (
    "title",
    "description",
    "category",
    "beneficiaries",
    "urgency",
    "contact_name",
    "contact_phone",
)


def need_update(*, actor: User, need_id: int, changes: dict[str, Any]) -> Need:
    """Correct a need while it waits for resources (not once it is in a project or finished)."""
    scoped_row(Need.objects.all(), actor, need_id, noun="需求")
    unknown = set(changes) - set(NEED_EDITABLE_FIELDS)
    if unknown:
        raise NeedsError("not_editable", f"不能修改:{'、'.join(sorted(unknown))}")
    clean: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "title":
            clean[name] = text(value, label="需求", max_length=100, required=True)
        elif name == "description":
            clean[name] = text(value, label="详细情况", max_length=2000)
        elif name == "category":
            clean[name] = choice(value, Category, label="类别")
        elif name == "beneficiaries":
            clean[name] = number(value, label="受益人数", low=1, high=BENEFICIARIES_MAX)
        elif name == "urgency":
            clean[name] = choice(value, Urgency, label="紧急程度")
        elif name == "contact_name":
            clean[name] = text(value, label="联系人", max_length=50)
        elif name == "contact_phone":
            clean[name] = phone(value)
    with transaction.atomic():
        need = Need.objects.select_for_update().get(pk=need_id)
        if need.status not in EDITABLE:
            raise NeedsError("not_editable", "需求已纳入项目或已结束,不能修改", status=409)
        changed_people = "beneficiaries" in clean and clean["beneficiaries"] != need.beneficiaries
        # The reservations were computed from the old number of people.
        if changed_people and need.matches.filter(status=MatchStatus.ACCEPTED).exists():
            raise NeedsError(
                "beneficiaries_reserved", "已采纳资源后不能修改受益人数,请先释放资源", status=409
            )
        for name, value in clean.items():
            setattr(need, name, value)
        fields = [*clean, "updated_at"]
        if "contact_phone" in clean:
            fields.append("contact_phone_index")
        need.save(update_fields=fields)
        NeedEvent.objects.create(
            need=need, actor=actor, action="edit", from_state=need.status, to_state=need.status,
            data={"fields": sorted(clean)},
        )  # fmt: skip
    return need


def release_accepted(*, need: Need, now: dt.datetime) -> int:
    """Give back every capacity the need's accepted matches reserved (caller holds the need's lock)."""
    released = 0
    for match in NeedMatch.objects.select_for_update().filter(need=need, status=MatchStatus.ACCEPTED):
        give_back(resource_id=match.resource_id, amount=match.amount)
        match.status, match.released_at = MatchStatus.RELEASED, now
        match.save(update_fields=["status", "released_at"])
        released += 1
    return released


def give_back(*, resource_id: int, amount: int) -> None:
    """Compare-and-set: return ``amount`` to the resource, never above its capacity."""
    updated = Resource.objects.filter(pk=resource_id, remaining__lte=F("capacity") - amount).update(
        remaining=F("remaining") + amount, updated_at=timezone.now()
    )
    if updated != 1:  # capacity edits keep capacity ≥ reserved, so this means corrupted counts
        raise NeedsError("capacity_inconsistent", "资源剩余数量异常,请联系管理员核对", status=409)


def need_act(*, actor: User, need_id: int, action: str, note: str = "") -> TransitionResult:
    """The manual state changes of a need: ``meet``, ``close`` (releases its resources), ``reopen``."""
    if action not in {"meet", "close", "reopen"}:
        raise NeedsError("unknown_action", f"未知的操作:{action}")
    scoped_row(Need.objects.all(), actor, need_id, noun="需求")
    now = timezone.now()

    def effect(need: Need) -> dict[str, Any]:
        if action == "meet":
            return {"met_at": now}
        if action == "close":
            release_accepted(need=need, now=now)
            return {"closed_at": now}
        return {"closed_at": None}

    return transition_apply(
        flow=NEED_FLOW, obj_id=need_id, action=action, actor=actor, note=note, effect=effect, now=now
    )


__all__ = ["NEED_CATEGORY", "need_act", "need_create", "need_update"]
