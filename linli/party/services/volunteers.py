"""Volunteers, teams, and the append-only ledger of service hours.

Hours reach the ledger two ways:

- ``hours_credit``: from a task another workflow completed and verified — a volunteer's day on a 三清单
  project when the project is completed (``linli.needs.services.volunteering``), a checked-in member's
  fulfilled commitment (``checkin.commitment_fulfil``). The ledger row points at the task row through a
  one-to-one key, so each task row is credited exactly once whatever retries or races happen.
- ``hours_record``: by hand, verified by a community manager, for activities that have no record of their
  own yet (once per volunteer and ``source_ref``).

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

from linli.party.access import party_manages, party_views
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


def _manager(actor: User | None, region_path: str, *, noun: str = "") -> None:
    """``party.manage`` over the path. A row outside the actor's view scope answers 404 like a missing
    one (AC-1): only someone who may see it learns that they may not change it (403)."""
    if actor is not None and party_manages(actor, region_path):
        return
    if noun and not (actor is not None and party_views(actor, region_path)):
        raise PartyError("not_found", f"{noun}不存在", status=404)
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
    _manager(actor, team.region_path, noun="服务队")
    if not volunteer.region_path.startswith(team.region_path):
        raise PartyError("volunteer_elsewhere", "只能加入本社区的志愿者")
    membership, _ = TeamMembership.objects.get_or_create(
        team=team, volunteer=volunteer, defaults={"is_leader": is_leader}
    )
    return membership


def hours_amount(value: Decimal | float | str) -> Decimal:
    """Hours from input: 0 < h ≤ 24, to the cent (``invalid_hours``, ``too_many_hours``)."""
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


# Sources that only ``hours_credit`` (or ``hours_correct``) writes: never entered by hand.
CREDITED_ONLY = frozenset({HoursSource.CORRECTION, HoursSource.PROJECT})


def hours_credit(
    *,
    verified_by: User,
    volunteer_id: int,
    hours: Decimal | float | str,
    served_on: dt.date,
    title: str,
    team_id: int | None = None,
    project_service_id: int | None = None,
    commitment_id: int | None = None,
) -> HoursResult:
    """Credit hours that flow from a task another workflow completed: exactly one of
    ``project_service_id`` (source ``project``) or ``commitment_id`` (source ``checkin``).

    The calling service has checked who acts and that the task is done (``verified_by`` is that actor);
    this checks the amount and the date and keeps one ledger row per task row: a repeated call answers
    the row already there (``created=False``). Runs inside the caller's transaction."""
    if project_service_id is not None and commitment_id is None:
        key = {"project_service_id": project_service_id}
    elif commitment_id is not None and project_service_id is None:
        key = {"commitment_id": commitment_id}
    else:
        raise ValueError("hours_credit needs exactly one of project_service_id and commitment_id")
    existing = VolunteerHours.objects.filter(**key).first()
    if existing is not None:
        return HoursResult(existing, created=False)
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if volunteer is None:
        raise PartyError("not_found", "志愿者不存在", status=404)
    amount = hours_amount(hours)
    if served_on > timezone.localdate():
        raise PartyError("served_in_future", "服务日期不能晚于今天")
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the caller's transaction usable
            entry = VolunteerHours.objects.create(
                volunteer=volunteer,
                team_id=team_id,
                region_path=volunteer.region_path,
                source=HoursSource.PROJECT if project_service_id is not None else HoursSource.CHECKIN,
                title=(title or "").strip()[:100] or "志愿服务",
                served_on=served_on,
                hours=amount,
                verified_by=verified_by,
                **key,
            )
    except IntegrityError:
        again = VolunteerHours.objects.filter(**key).first()
        if again is None:
            raise
        return HoursResult(again, created=False)
    return HoursResult(entry, created=True)


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
    _manager(actor, volunteer.region_path, noun="志愿者")
    if source not in HoursSource.values or source in CREDITED_ONLY:
        raise PartyError(
            "invalid_source", "时长来源不正确(更正请使用更正功能;项目服务时长在项目完成时自动记入)"
        )
    amount = hours_amount(hours)
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
    amount = hours_amount(hours)
    reason = (reason or "").strip()
    if not reason:
        raise PartyError("reason_required", "更正须填写原因")
    with transaction.atomic():
        entry = VolunteerHours.objects.select_for_update().filter(pk=entry_id).first()
        if entry is None:
            raise PartyError("not_found", "时长记录不存在", status=404)
        _manager(actor, entry.region_path, noun="时长记录")
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
