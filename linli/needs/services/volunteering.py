"""Volunteers' service on projects (志愿服务登记) and its flow into their hours ledger.

A project that uses a resource offered by a registered volunteer team (``Resource.volunteer_team``)
records each team member's day of service (``project_serve``). When the project is completed, every row
is credited to the volunteer's ledger (``project_services_credit``, called by ``project_act``); a row
recorded after completion is credited at once. ``party.services.hours_credit`` keeps one ledger row per
service row, so a retried completion or a double submit credits nothing twice. The completing (or
recording) staff member, with ``needs.manage`` over the project, is the ledger row's verifier.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.needs.errors import NeedsError
from linli.needs.models import MAX_SERVICE_HOURS, Project, ProjectService, StatusCategory
from linli.needs.services.common import as_id, scoped_row
from linli.needs.transitions import PROJECT_FLOW, transition_apply
from linli.party.errors import PartyError

if TYPE_CHECKING:
    from linli.accounts.models import User

CENT = Decimal("0.01")


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError) as exc:
        raise NeedsError("invalid_hours", "时长应为数字(小时)") from exc
    if not amount.is_finite() or amount <= 0:
        raise NeedsError("invalid_hours", "时长应大于0")
    if amount > MAX_SERVICE_HOURS:
        raise NeedsError("too_many_hours", "单日服务时长不能超过24小时")
    return amount


@dataclass(frozen=True)
class ServiceResult:
    service: ProjectService
    created: bool  # False: the same volunteer, day and hours were recorded already


def project_serve(
    *,
    actor: User,
    project_id: int,
    volunteer_id: int,
    team_id: int,
    hours: Decimal | float | str,
    served_on: dt.date | None = None,
) -> ServiceResult:
    """Record one volunteer's day of service on a project (实施中, 已完成 or 已评估).

    The team must offer a resource the project uses and the volunteer must be one of its members. The
    same volunteer and day twice answers the first row when the hours agree (a double submit) and
    ``service_exists`` (409) when they differ."""
    from linli.party.models import Volunteer, VolunteerTeam

    project: Project = scoped_row(Project.objects.all(), actor, project_id, noun="项目")
    amount = _amount(hours)
    today = timezone.localdate()
    served_on = served_on or today
    if served_on > today:
        raise NeedsError("date_in_future", "服务日期不能晚于今天")
    if project.started_at is not None and served_on < timezone.localdate(project.started_at):
        raise NeedsError("service_before_start", "服务日期不能早于项目开始实施的日期")
    team = VolunteerTeam.objects.filter(pk=as_id(team_id), resources__projects=project).distinct().first()
    if team is None:
        raise NeedsError("team_not_in_project", "该服务队没有为本项目提供资源")
    volunteer = Volunteer.objects.filter(
        pk=as_id(volunteer_id), is_active=True, team_memberships__team=team
    ).first()
    if volunteer is None:
        raise NeedsError("volunteer_not_in_team", "该志愿者不是此服务队的在册队员")
    existing = ProjectService.objects.filter(
        project=project, volunteer=volunteer, served_on=served_on
    ).first()
    if existing is not None:
        if existing.hours == amount:
            return ServiceResult(existing, created=False)
        raise NeedsError("service_exists", "该志愿者当天在本项目的服务已登记", status=409)
    made: list[ProjectService] = []

    def effect(p: Project) -> dict[str, Any]:
        try:
            with transaction.atomic():
                row = ProjectService.objects.create(
                    project=p, volunteer=volunteer, team=team, served_on=served_on, hours=amount,
                    recorded_by=actor,
                )  # fmt: skip
        except IntegrityError as exc:  # the same row from a concurrent request
            raise NeedsError("service_exists", "该志愿者当天在本项目的服务已登记", status=409) from exc
        made.append(row)
        if p.status_category == StatusCategory.DONE:
            _credit(row, project=p, actor=actor)
        return {}

    transition_apply(
        flow=PROJECT_FLOW,
        obj_id=project.pk,
        action="serve",
        actor=actor,
        effect=effect,
        data={
            "volunteer": volunteer.pk,
            "team": team.pk,
            "served_on": served_on.isoformat(),
            "hours": str(amount),
        },
    )
    return ServiceResult(made[0], created=True)


def _credit(row: ProjectService, *, project: Project, actor: User) -> bool:
    from linli.party.services import hours_credit

    try:
        result = hours_credit(
            verified_by=actor,
            volunteer_id=row.volunteer_id,
            team_id=row.team_id,
            hours=row.hours,
            served_on=row.served_on,
            title=f"三清单项目:{project.title}",
            project_service_id=row.pk,
        )
    except PartyError as exc:
        raise NeedsError(exc.code, exc.message, status=exc.status) from exc
    return result.created


def project_services_credit(*, project: Project, actor: User) -> int:
    """Credit every service row of a completed project not yet in the ledger; returns how many were.
    Called inside the completing transition (the project row is locked)."""
    if project.status_category != StatusCategory.DONE:
        raise NeedsError("project_not_completed", "项目完成后才能记入志愿服务时长", status=409)
    rows = ProjectService.objects.filter(project=project, ledger_entry__isnull=True).order_by("id")
    return sum(1 for row in rows if _credit(row, project=project, actor=actor))
