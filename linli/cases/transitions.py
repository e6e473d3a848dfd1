"""The transition table of the closed loop and the one function that applies it.

``TRANSITIONS`` is the single source of truth: for each action, the statuses it may start from, the status
it leads to (None: unchanged), who may perform it (relations from ``permissions``), whether a note is
required, whether its event is public, and an optional guard on the locked row. Services, the API, the
workbench's action buttons (``case_actions_for_user``) and the SLA sweep all read it; tests iterate it.

``case_transition`` locks the row, checks the actor's relations and the table, applies the field changes,
writes the ``CaseEvent``, saves with ``update_fields`` and writes the notifications (outbox rows) in the
same transaction, so a case change and its messages commit together or not at all (REL-2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.cases.errors import CaseError, TransitionError
from linli.cases.ladder import ladder_load
from linli.cases.models import (
    ACCEPT_CLOCK_STATUSES,
    STATUS_INFO,
    TRIAGE_CLOCK_STATUSES,
    Case,
    CaseEvent,
    LadderLevel,
    Status,
    StatusCategory,
)
from linli.cases.permissions import Who, acting_role, case_may_view, case_relations

if TYPE_CHECKING:
    from linli.accounts.models import User

S = Status
WORK = frozenset({S.SUBMITTED, S.TRIAGED, S.ASSIGNED, S.IN_PROGRESS})  # the resolution clock runs
OPEN = frozenset(s for s, info in STATUS_INFO.items() if info.category == StatusCategory.OPEN)
ALL = frozenset(Status.values)
TRIAGE_CLOCK = frozenset(TRIAGE_CLOCK_STATUSES)  # the dispatcher's triage deadline runs
ACCEPT_CLOCK = frozenset(ACCEPT_CLOCK_STATUSES)  # the handler's accept deadline runs


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str | None  # None: the status does not change (督办, 关注, 公示, 备注)
    who: frozenset[Who]
    public: bool = False  # the event appears on the reporter's and the public timeline
    note_required: bool = False
    guard: str = ""  # a key of GUARDS, checked on the locked row


def _t(
    action: str,
    label: str | Promise,
    sources: frozenset[str] | set[str],
    target: str | None,
    who: set[Who],
    **kw: Any,
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(who), **kw)


_STAFF_ON_LEVEL = {Who.TRIAGER}
_RATERS = {Who.REPORTER, Who.REVIEWER}  # the reporter, or staff recording a phone call-back (回访)

TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("triage", _("梳理"), {S.SUBMITTED}, S.TRIAGED, _STAFF_ON_LEVEL),
        _t("assign", _("交办"), {S.SUBMITTED, S.TRIAGED}, S.ASSIGNED, {Who.ASSIGNER}, public=True),
        _t("reassign", _("转派"), {S.ASSIGNED, S.IN_PROGRESS}, S.ASSIGNED, {Who.ASSIGNER}),
        _t(
            "reject",
            _("不予受理"),
            {S.SUBMITTED, S.TRIAGED},
            S.REJECTED,
            _STAFF_ON_LEVEL,
            public=True,
            note_required=True,
        ),
        _t("merge", _("合并为重复件"), {S.SUBMITTED, S.TRIAGED}, S.DUPLICATE, _STAFF_ON_LEVEL, public=True),
        _t("answer", _("直接答复"), {S.SUBMITTED, S.TRIAGED}, S.RESOLVED, _STAFF_ON_LEVEL, public=True),
        _t("accept", _("接单"), {S.ASSIGNED}, S.IN_PROGRESS, {Who.HANDLER}, public=True),
        _t("return", _("退单"), {S.ASSIGNED, S.IN_PROGRESS}, S.TRIAGED, {Who.HANDLER}, note_required=True),
        _t("resolve", _("办结"), {S.IN_PROGRESS}, S.RESOLVED, {Who.HANDLER}, public=True),
        _t(
            "escalate",
            _("提请上级"),
            WORK,
            S.SUBMITTED,
            {Who.HANDLER, Who.TRIAGER},
            public=True,
            note_required=True,
            guard="below_top",
        ),
        _t("escalate_timed", _("超时升级"), WORK, S.SUBMITTED, {Who.SYSTEM}, public=True, guard="below_top"),
        _t("supervise", _("督办"), OPEN, None, {Who.SUPERVISOR}, note_required=True),
        _t("withdraw", _("撤回"), {S.SUBMITTED, S.TRIAGED}, S.WITHDRAWN, {Who.REPORTER}, public=True),
        _t("rate", _("评价"), {S.RESOLVED}, S.CLOSED, _RATERS, public=True),
        # 重办 goes back to the dispatcher, who assigns it again (to the same unit or another).
        _t(
            "reopen",
            _("不满意重办"),
            {S.RESOLVED},
            S.TRIAGED,
            _RATERS,
            public=True,
            guard="first_unsatisfied",
        ),
        _t(
            "send_to_review",
            _("不满意转评议"),
            {S.RESOLVED},
            S.REVIEW,
            _RATERS,
            public=True,
            guard="repeat_unsatisfied",
        ),
        _t(
            "review_uphold",
            _("评议:认定办结"),
            {S.REVIEW},
            S.CLOSED,
            {Who.REVIEWER},
            public=True,
            note_required=True,
        ),
        _t(
            "review_redo",
            _("评议:重新交办"),
            {S.REVIEW},
            S.TRIAGED,
            {Who.REVIEWER},
            public=True,
            note_required=True,
        ),
        _t(
            "close_unresolved",
            _("未解决结案"),
            WORK | {S.REVIEW},
            S.CLOSED_UNRESOLVED,
            {Who.REVIEWER},
            public=True,
            note_required=True,
        ),
        _t("auto_close", _("超期未评价自动结案"), {S.RESOLVED}, S.CLOSED, {Who.SYSTEM}, public=True),
        _t("warn", _("临期预警"), WORK, None, {Who.SYSTEM}),
        # The short clocks: the dispatcher's triage deadline and the handler's accept deadline. The sweep
        # warns once and marks overdue once per deadline; nothing moves (escalation is the resolve clock's).
        _t("triage_warn", _("梳理临期预警"), TRIAGE_CLOCK, None, {Who.SYSTEM}),
        _t("triage_overdue", _("梳理超时"), TRIAGE_CLOCK, None, {Who.SYSTEM}),
        _t("accept_warn", _("接单临期预警"), ACCEPT_CLOCK, None, {Who.SYSTEM}),
        _t("accept_overdue", _("接单超时"), ACCEPT_CLOCK, None, {Who.SYSTEM}),
        _t("follow", _("关注(我也遇到)"), OPEN, None, {Who.PUBLIC}, public=True, guard="not_reporter"),
        # 代客: a caller without an account, told the problem is already filed, hears of it by SMS.
        _t("caller_follow", _("来电人关注"), OPEN, None, {Who.INTAKE}),
        # A unit's own system reports progress through Open311 (servicerequestupdates): public, so the
        # reporter reads the note; the public sees the step's name only.
        _t(
            "external_update",
            _("办理进展(外部系统)"),
            ALL,
            None,
            {Who.SYSTEM},
            public=True,
            note_required=True,
        ),
        _t("publish", _("公示"), {S.RESOLVED, S.CLOSED}, None, {Who.SUPERVISOR}),
        _t("unpublish", _("取消公示"), {S.RESOLVED, S.CLOSED}, None, {Who.SUPERVISOR}),
        _t(
            "comment",
            _("备注"),
            ALL,
            None,
            {Who.REPORTER, Who.HANDLER, Who.TRIAGER, Who.SUPERVISOR},
            note_required=True,
        ),
    ]
}

# Actions the resident-facing and staff screens may call directly; the sweep-only ones are excluded.
SYSTEM_ACTIONS = frozenset(a for a, t in TRANSITIONS.items() if t.who == {Who.SYSTEM})


def _guard_below_top(case: Case) -> tuple[str, str] | None:
    if not case.level:
        return ("not_located", "案件尚未定位到社区,不能升级;请先梳理定位")
    if ladder_load().next(case.level) is None:
        return ("top_level", "已是最高层级,无法继续升级")
    return None


def _guard_first_unsatisfied(case: Case) -> tuple[str, str] | None:
    return None if case.reopen_count == 0 else ("already_reopened", "已重办过一次,不满意将转评议")


def _guard_repeat_unsatisfied(case: Case) -> tuple[str, str] | None:
    return None if case.reopen_count > 0 else ("not_reopened_yet", "首次不满意应重办")


GUARDS: dict[str, Callable[[Case], tuple[str, str] | None]] = {
    "below_top": _guard_below_top,
    "first_unsatisfied": _guard_first_unsatisfied,
    "repeat_unsatisfied": _guard_repeat_unsatisfied,
    # not_reporter needs the actor: checked in case_transition
    "not_reporter": lambda case: None,
}


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


@dataclass
class TransitionResult:
    case: Case
    event: CaseEvent
    transition: Transition
    who: Who
    extra: dict[str, Any] = field(default_factory=dict)


def transition_allowed_who(action: str, case: Case, relations: frozenset[Who]) -> Who | None:
    """The relation under which the actor may perform ``action`` on ``case`` in its state, else None."""
    t = TRANSITIONS[action]
    if case.status not in t.sources:
        return None
    matched = sorted(t.who & relations)
    return Who(matched[0]) if matched else None


Effect = Callable[[Case], Mapping[str, Any]]


def case_transition(
    *,
    case_id: int,
    action: str,
    actor: User | None,
    note: str = "",
    effect: Effect | None = None,
    data: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> TransitionResult:
    """Apply ``action`` to the case (locked), as ``actor`` (None = the system). Raises CaseError/TransitionError.

    ``effect`` computes further field changes from the locked row (deadlines, unit, result...).
    Must be called inside ``transaction.atomic()`` or opens its own.
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionError("unknown_action", f"未知的操作:{action}", status=400)
    now = now or timezone.now()
    note = (note or "").strip()
    with transaction.atomic():
        case = Case.objects.select_for_update().filter(pk=case_id).first()
        if case is None:
            raise CaseError("not_found", "工单不存在或无权访问", status=404)
        if actor is None:
            if Who.SYSTEM not in transition.who:
                raise TransitionError("forbidden", "该操作需要由工作人员执行", status=403)
            who = Who.SYSTEM
        else:
            relations = case_relations(actor, case)
            # Outside the actor's scope the case does not exist for them (AC-1: 404, not 403).
            if not (case_may_view(actor, case) or (Who.PUBLIC in relations and Who.PUBLIC in transition.who)):
                raise CaseError("not_found", "工单不存在或无权访问", status=404)
            # The state first: to anyone who sees the case, "not in this state" is the clearer answer
            # (a handler's relation itself depends on the state: see permissions.IN_HAND).
            _check_source(case, transition)
            matched = sorted(transition.who & relations)
            if not matched:
                raise TransitionError("forbidden", f"您无权对该工单执行「{transition.label}」", status=403)
            who = Who(matched[0])
            if transition.guard == "not_reporter" and case.reporter_id == actor.pk:
                raise TransitionError("own_case", "这是您自己上报的工单")
        _check_source(case, transition)
        guard = GUARDS.get(transition.guard) if transition.guard else None
        if guard is not None:
            refused = guard(case)
            if refused is not None:
                raise TransitionError(*refused)
        if transition.note_required and not note:
            raise CaseError("note_required", f"「{transition.label}」需要填写说明")

        from_status, from_level = case.status, case.level
        updates: dict[str, Any] = dict(effect(case)) if effect is not None else {}
        target = transition.target or case.status
        updates.update(_bookkeeping(case, target, now))
        new_level = updates.get("level", case.level)
        if new_level != case.level:
            ladder = ladder_load()
            if ladder.rank(new_level) < ladder.rank(case.level):
                raise TransitionError("level_down", "案件层级只能向上升级")
        for name, value in updates.items():
            setattr(case, name, value)
        case.save(update_fields=[*updates.keys(), "updated_at"])
        event = CaseEvent.objects.create(
            case=case,
            actor=actor,
            actor_role=acting_role(actor, who),
            action=action,
            from_status=from_status,
            to_status=case.status,
            from_level=from_level,
            to_level=case.level,
            note=note,
            data=dict(data or {}),
            is_public=transition.public,
            created_at=now,
        )
        result = TransitionResult(case=case, event=event, transition=transition, who=who)
        from linli.cases.notify import case_event_notify  # notify imports services' models; keep it lazy

        case_event_notify(result)
    return result


def _check_source(case: Case, transition: Transition) -> None:
    if case.status not in transition.sources:
        raise TransitionError(
            "invalid_transition",
            f"工单当前状态为「{status_label(case.status)}」,不能执行「{transition.label}」",
        )


def _bookkeeping(case: Case, target: str, now: datetime) -> dict[str, Any]:
    """Fields every transition into ``target`` keeps in step: the category, resolution and closing times."""
    info = STATUS_INFO[target]
    out: dict[str, Any] = {"status": target, "status_category": info.category}
    was_solved = STATUS_INFO[case.status].solved
    if info.solved and not was_solved:
        out["resolved_at"] = now
        # An unlocated case is handled by the district dispatcher: it counts as solved at district level.
        out["resolved_level"] = case.level or LadderLevel.DISTRICT
    elif not info.solved and info.category == StatusCategory.OPEN and was_solved:
        out["resolved_at"] = None
        out["resolved_level"] = ""
    if info.terminal and not STATUS_INFO[case.status].terminal:
        out["closed_at"] = now
    return out
