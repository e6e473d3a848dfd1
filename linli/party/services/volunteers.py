"""Volunteers, teams, and the append-only ledger of service hours.

``hours_record`` credits verified hours from an activity or task (once per volunteer and source);
``hours_correct`` is the only way to take hours back: a negative row pointing at the entry, never more
than what is left of it (the entry is locked while corrections are summed, so two concurrent corrections
cannot together exceed it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from linli.party.access import party_manages
from linli.party.errors import PartyError
from linli.party.models import (
    MAX_HOURS_PER_ENTRY,
    HoursSource,
    TeamMembership,
    Volunteer,
    VolunteerHours,
    VolunteerTeam,
)
from linli.party.services.orgs import clean_name, clean_phone, community_get

if TYPE_CHECKING:
    from linli.accounts.models import User

CENT = Decimal("0.01")


def _manager(actor: User | None, region_path: str) -> None:
    if actor is None or not party_manages(actor, region_path):
        raise PartyError("not_allowed", "只有本社区党组织管理人员可以操作", status=403)


def volunteer_register(
    *, actor: User, name: str, community_id: int, phone: str = "", user: User | None = None
) -> Volunteer:
    community = community_get(community_id)
    _manager(actor, community.path)
    phone = clean_phone(phone)
    if phone and Volunteer.objects.filter(phone_index__matches=phone).exists():
        raise PartyError("volunteer_exists", "该手机号已登记为志愿者", status=409)
    try:
        with transaction.atomic():
            return Volunteer.objects.create(
                name=clean_name(name), phone=phone, community=community, region_path=community.path, user=user
            )
    except IntegrityError as exc:
        raise PartyError("volunteer_exists", "该手机号或账号已登记为志愿者", status=409) from exc


def team_create(
    *, actor: User, community_id: int, name: str, description: str = "", is_public: bool = True
) -> VolunteerTeam:
    community = community_get(community_id)
    _manager(actor, community.path)
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise PartyError("invalid_name", "请填写队伍名称(不超过100字)")
    try:
        with transaction.atomic():
            return VolunteerTeam.objects.create(
                name=name,
                community=community,
                region_path=community.path,
                description=(description or "").strip()[:300],
                is_public=is_public,
            )
    except IntegrityError as exc:
        raise PartyError("team_exists", "本社区已有同名服务队", status=409) from exc


def team_member_add(
    *, actor: User, team_id: int, volunteer_id: int, is_leader: bool = False
) -> TeamMembership:
    team = VolunteerTeam.objects.filter(pk=team_id).first()
    volunteer = Volunteer.objects.filter(pk=volunteer_id, is_active=True).first()
    if team is None or volunteer is None:
        raise PartyError("not_found", "服务队或志愿者不存在", status=404)
    _manager(actor, team.region_path)
    if not volunteer.region_path.startswith(team.region_path):
        raise PartyError("volunteer_elsewhere", "只能加入本社区的志愿者")
    membership, _ = TeamMembership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"is_leader": is_leader}
    )
    return membership


def _hours(value: Decimal | float | str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise PartyError("invalid_hours", "时长应为数字(小时)") from exc
    if not amount.is_finite() or amount <= 0:
        raise PartyError("invalid_hours", "时长应大于0")
    if amount > MAX_HOURS_PER_ENTRY:
        raise PartyError("too_many_hours", "单次服务时长不能超过24小时")
    return amount


@dataclass(frozen=True)
class HoursResult:
    entry: VolunteerHours
    created: bool  # False: this source was already credited to the volunteer


def hours_record(
    *,
    actor: User,
    volunteer_id: int,
    hours: Decimal | float | str,
    served_on: dt.date,
    title: str,
    source: str,
    source_ref: str = "",
    team_id: int | None = None,
) -> HoursResult:
    """Credit verified service hours (the actor is the verifier)."""
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise PartyError("not_found", "志愿者不存在", status=404)
    _manager(actor, volunteer.region_path)
    if source not in HoursSource.values or source == HoursSource.CORRECTION:
        raise PartyError("invalid_source", "时长来源不正确(更正请使用更正功能)")
    amount = _hours(hours)
    if served_on > timezone.localdate():
        raise PartyError("served_in_future", "服务日期不能晚于今天")
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise PartyError("title_required", "请填写服务内容(不超过100字)")
    source_ref = (source_ref or "").strip()[:64]
    team = None
    if team_id is not None:
        team = VolunteerTeam.objects.filter(pk=team_id, memberships__volunteer=volunteer).first()
        if team is None:
            raise PartyError("not_in_team", "该志愿者不在此服务队")
    if source_ref:
        existing = VolunteerHours.objects.filter(
            volunteer=volunteer, source=source, source_ref=source_ref
        ).first()
        if existing is not None:
            return HoursResult(existing, created=False)
    try:
        with transaction.atomic():
            entry = VolunteerHours.objects.create(
                volunteer=volunteer,
                team=team,
                region_path=volunteer.region_path,
                source=source,
                source_ref=source_ref,
                title=title,
                served_on=served_on,
                hours=amount,
                verified_by=actor,
            )
    except IntegrityError:
        again = VolunteerHours.objects.filter(
            volunteer=volunteer, source=source, source_ref=source_ref
        ).first()
        if again is None:
            raise
        return HoursResult(again, created=False)
    return HoursResult(entry, created=True)


def hours_correct(*, actor: User, entry_id: int, hours: Decimal | float | str, reason: str) -> VolunteerHours:
    """Take back ``hours`` of an entry with a negative correction row (append-only ledger)."""
    amount = _hours(hours)
    reason = (reason or "").strip()
    if not reason:
        raise PartyError("reason_required", "更正须填写原因")
    with transaction.atomic():
        entry = VolunteerHours.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise PartyError("not_found", "时长记录不存在", status=404)
        _manager(actor, entry.region_path)
        if entry.source == HoursSource.CORRECTION:
            raise PartyError("cannot_correct_correction", "更正记录不能再更正,请更正原记录")
        taken = -(VolunteerHours.objects.filter(corrects=entry).aggregate(s=Sum("hours"))["s"] or Decimal(0))
        left = entry.hours - taken
        if amount > left:
            raise PartyError(
                "correction_exceeds_entry",
                f"更正时长不能超过该记录剩余的{left}小时",
                details={"left": str(left)},
            )
        return VolunteerHours.objects.create(
            volunteer_id=entry.volunteer_id,
            team_id=entry.team_id,
            region_path=entry.region_path,
            source=HoursSource.CORRECTION,
            title=f"更正:{reason}"[:100],
            served_on=entry.served_on,
            hours=-amount,
            verified_by=actor,
            corrects=entry,
        )
