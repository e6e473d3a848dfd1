"""Writes of the projects list: create a project for needs of one community, and its workflow — claim by an
organisation (项目认领), start, report progress (public), complete (its needs are met), evaluate, cancel
(its needs go back to the list). Every change goes through ``PROJECT_TRANSITIONS``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from linli.needs.errors import NeedsError
from linli.needs.models import (
    Category,
    MatchStatus,
    Need,
    NeedMatch,
    NeedStatus,
    Organisation,
    Project,
    ProjectEvent,
    ProjectUpdate,
)
from linli.needs.services.common import choice, managed_region, number, public_text, scoped_row, text
from linli.needs.services.volunteering import project_services_credit
from linli.needs.transitions import NEED_FLOW, PROJECT_FLOW, TransitionResult, transition_apply
from linli.notifications.services import notification_send
from linli.places.models import Level

if TYPE_CHECKING:
    from linli.accounts.models import User

NEEDS_PER_PROJECT = 50


def project_create(
    *,
    actor: User,
    title: str,
    summary: str,
    category: str,
    community_id: int,
    need_ids: Sequence[int],
    description: str = "",
    planned_end: dt.date | None = None,
    is_public: bool = True,
) -> Project:
    """A project for needs of one community; the needs move to 项目实施中 and the resources accepted for
    them are attached to the project."""
    community = managed_region(actor, community_id, levels=(Level.COMMUNITY,), noun="社区")
    ids = sorted({int(i) for i in need_ids})
    if not ids:
        raise NeedsError("needs_required", "请至少选择一项需求")
    if len(ids) > NEEDS_PER_PROJECT:
        raise NeedsError("too_many_needs", f"一个项目最多包含{NEEDS_PER_PROJECT}项需求")
    needs = list(Need.objects.filter(pk__in=ids, community=community))
    if len(needs) != len(ids):
        raise NeedsError("need_not_in_community", "所选需求不存在或不属于该社区", status=404)
    now = timezone.now()
    with transaction.atomic():
        project = Project.objects.create(
            title=text(title, label="项目名称", max_length=100, required=True),
            summary=public_text(summary, label="公开简介", max_length=300, required=True),
            description=text(description, label="内部说明", max_length=2000),
            category=choice(category, Category, label="类别"),
            community=community,
            region_path=community.path,
            planned_end=planned_end,
            is_public=bool(is_public),
            created_by=actor,
        )
        ProjectEvent.objects.create(project=project, actor=actor, action="create", to_state=project.status)
        project.needs.set(needs)
        for need in needs:  # each refuses unless 待匹配 or 已匹配 (the table)
            transition_apply(
                flow=NEED_FLOW,
                obj_id=need.pk,
                action="plan",
                actor=actor,
                data={"project": project.pk},
                now=now,
            )
        resources = NeedMatch.objects.filter(need__in=needs, status=MatchStatus.ACCEPTED).values_list(
            "resource_id", flat=True
        )
        project.resources.set(sorted(set(resources)))
    return project


def _project(actor: User, project_id: int) -> Project:
    row: Project = scoped_row(Project.objects.all(), actor, project_id, noun="项目")
    return row


def _notify(result: TransitionResult, *, title: str, body: str, recipients: list[Any]) -> None:
    project = result.obj
    notification_send(
        recipients=[u for u in recipients if u is not None],
        kind=f"needs.project.{result.transition.action}",
        title=title,
        body=body,
        link=f"/needs/projects/{project.pk}/",
        dedup_key=f"needs:project:{project.pk}:event:{result.event.pk}",
    )


def project_claim(*, actor: User, project_id: int, organisation_id: int, note: str = "") -> Project:
    """Record that an organisation claimed the project (项目认领), by staff on its behalf."""
    project = _project(actor, project_id)
    organisation: Organisation = scoped_row(
        Organisation.objects.all(), actor, organisation_id, noun="组织", pool=True
    )
    return claim_apply(actor=actor, project=project, organisation=organisation, note=note, by="staff")


def claim_apply(*, actor: User, project: Project, organisation: Organisation, note: str, by: str) -> Project:
    """The claim itself, once the caller has decided that ``actor`` may claim ``project`` for
    ``organisation`` (staff in scope, or the organisation's own representative)."""
    if not organisation.is_active:
        raise NeedsError("organisation_inactive", "该组织已停用")
    now = timezone.now()

    def after(result: TransitionResult) -> None:
        _notify(
            result,
            title=f"项目「{project.title}」已被认领",
            body=f"{organisation.name} 认领了项目。",
            recipients=[project.created_by],
        )

    result = transition_apply(
        flow=PROJECT_FLOW,
        obj_id=project.pk,
        action="claim",
        actor=actor,
        note=note,
        effect=lambda p: {"organisation": organisation, "claimed_at": now},
        data={"organisation": organisation.pk, "organisation_name": organisation.name, "by": by},
        after=after,
        now=now,
    )
    return result.obj


def project_act(*, actor: User, project_id: int, action: str, note: str = "") -> Project:
    """``unclaim``, ``start``, ``complete``, ``cancel`` (the actions without further input)."""
    if action not in {"unclaim", "start", "complete", "cancel"}:
        raise NeedsError("unknown_action", f"未知的操作:{action}")
    project = _project(actor, project_id)
    now = timezone.now()

    def effect(p: Project) -> dict[str, Any]:
        if action == "unclaim":
            return {"organisation": None, "claimed_at": None}
        if action == "start":
            return {"started_at": now}
        if action == "complete":
            return {"completed_at": now, "progress": 100}
        return {}

    def after(result: TransitionResult) -> None:
        needs = list(result.obj.needs.filter(status=NeedStatus.IN_PROJECT))
        if action == "complete":
            # Volunteers' recorded service flows into their hours ledger (one ledger row per service row).
            project_services_credit(project=result.obj, actor=actor)
            for need in needs:
                transition_apply(
                    flow=NEED_FLOW, obj_id=need.pk, action="meet", actor=actor,
                    effect=lambda n: {"met_at": now}, data={"project": project.pk}, now=now,
                )  # fmt: skip
            _notify(
                result,
                title=f"项目「{project.title}」已完成",
                body="您登记的需求已通过该项目得到满足。",
                recipients=[project.created_by, *(n.created_by for n in needs)],
            )
        elif action == "cancel":
            for need in needs:
                matched = NeedMatch.objects.filter(need=need, status=MatchStatus.ACCEPTED).exists()
                transition_apply(
                    flow=NEED_FLOW, obj_id=need.pk, action="unplan_matched" if matched else "unplan",
                    actor=actor, note=result.event.note, data={"project": project.pk}, now=now,
                )  # fmt: skip

    result = transition_apply(
        flow=PROJECT_FLOW,
        obj_id=project.pk,
        action=action,
        actor=actor,
        note=note,
        effect=effect,
        after=after,
        now=now,
    )
    return result.obj


def project_report(
    *, actor: User, project_id: int, text_: str, progress: int, is_public: bool = True
) -> ProjectUpdate:
    """A progress report: the project's percentage and, when public, a line on the community's page."""
    project = _project(actor, project_id)
    progress = number(progress, label="进度", low=0, high=100)
    body = (public_text if is_public else text)(text_, label="进展", max_length=500, required=True)
    made: list[ProjectUpdate] = []
    now = timezone.now()

    def effect(p: Project) -> dict[str, Any]:
        made.append(
            ProjectUpdate.objects.create(
                project=p,
                text=body,
                progress=progress,
                is_public=bool(is_public),
                author=actor,
                created_at=now,
            )
        )
        return {"progress": progress}

    transition_apply(
        flow=PROJECT_FLOW, obj_id=project.pk, action="report", actor=actor, note=body, effect=effect,
        data={"progress": progress, "public": bool(is_public)}, now=now,
    )  # fmt: skip
    return made[0]


def project_evaluate(*, actor: User, project_id: int, score: int, note: str = "") -> Project:
    """The community's evaluation of a completed project (1–5)."""
    project = _project(actor, project_id)
    score = number(score, label="评估得分", low=1, high=5)
    note = text(note, label="评估意见", max_length=500)
    now = timezone.now()
    result = transition_apply(
        flow=PROJECT_FLOW,
        obj_id=project.pk,
        action="evaluate",
        actor=actor,
        note=note,
        effect=lambda p: {"evaluated_at": now, "evaluation_score": score, "evaluation_note": note},
        data={"score": score},
        now=now,
    )
    return result.obj
