"""The transition tables of needs, projects (项目认领) and the incubation pipeline, and the one function that
applies any of them.

Each table is the single source of truth for its workflow: for each action, the states it may start from,
the state it leads to (None: unchanged, e.g. a progress report) and whether a note is required. Services,
the API, the pages' buttons (``actions_for``) read them; tests iterate them and check that every forbidden
(state, action) pair raises ``TransitionError`` and changes nothing.

Who may act on which row is decided before, through the scoping helper (``linli.needs.permissions``);
``transition_apply`` checks state only: it locks the row (``select_for_update``), checks the table, applies
the field changes computed on the locked row (``effect``), writes the event row, saves with
``update_fields`` and runs ``after`` (notifications through the outbox) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.needs.errors import NeedsError, TransitionError, not_found
from linli.needs.models import (
    NEED_CATEGORY,
    PROJECT_CATEGORY,
    IncubationStage,
    Need,
    NeedEvent,
    NeedStatus,
    Organisation,
    OrganisationEvent,
    Project,
    ProjectEvent,
    ProjectStatus,
)

if TYPE_CHECKING:
    from linli.accounts.models import User

NOTE_MAX = 500


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str | None  # None: the state does not change (a progress report)
    note_required: bool = False


def _t(action: str, label: str | Promise, sources: set[Any], target: str | None, **kw: Any) -> Transition:
    return Transition(action, label, frozenset(sources), target, **kw)


N, P, I = NeedStatus, ProjectStatus, IncubationStage  # noqa: E741

NEED_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("match", _("采纳资源"), {N.OPEN, N.MATCHED}, N.MATCHED),
        # The last accepted resource was released: back to waiting for one.
        _t("unmatch", _("释放资源"), {N.MATCHED}, N.OPEN),
        _t("plan", _("纳入项目"), {N.OPEN, N.MATCHED}, N.IN_PROJECT),
        # Its project was cancelled: back to the list, with or without resources still reserved.
        _t("unplan", _("项目撤销,退回待匹配"), {N.IN_PROJECT}, N.OPEN),
        _t("unplan_matched", _("项目撤销,退回已匹配"), {N.IN_PROJECT}, N.MATCHED),
        _t("meet", _("确认已满足"), {N.MATCHED, N.IN_PROJECT}, N.MET),
        _t("close", _("关闭需求"), {N.OPEN, N.MATCHED}, N.CLOSED, note_required=True),
        _t("reopen", _("重新打开"), {N.CLOSED}, N.OPEN, note_required=True),
    ]
}

PROJECT_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("claim", _("认领"), {P.OPEN}, P.CLAIMED),
        _t("unclaim", _("退出认领"), {P.CLAIMED}, P.OPEN, note_required=True),
        _t("start", _("开始实施"), {P.CLAIMED}, P.IN_PROGRESS),
        _t("report", _("报告进展"), {P.CLAIMED, P.IN_PROGRESS}, None, note_required=True),
        _t("complete", _("完成"), {P.IN_PROGRESS}, P.COMPLETED),
        # A volunteer's day of service on the project; credited to their hours ledger once it is completed.
        _t("serve", _("登记志愿服务"), {P.IN_PROGRESS, P.COMPLETED, P.EVALUATED}, None),
        _t("evaluate", _("评估"), {P.COMPLETED}, P.EVALUATED),
        _t("cancel", _("撤销"), {P.OPEN, P.CLAIMED, P.IN_PROGRESS}, P.CANCELLED, note_required=True),
    ]
}

_IN_PIPELINE = {I.APPLIED, I.ASSESSED, I.REGISTERED, I.HOSTED, I.SERVICES_PURCHASED}
INCUBATION_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("apply", _("孵化申请"), {I.NONE, I.DECLINED, I.WITHDRAWN}, I.APPLIED),
        _t("assess", _("初步评估通过"), {I.APPLIED}, I.ASSESSED, note_required=True),
        _t("decline", _("评估不通过"), {I.APPLIED, I.ASSESSED}, I.DECLINED, note_required=True),
        _t("register", _("协助注册登记"), {I.ASSESSED}, I.REGISTERED),
        _t("host", _("入驻托管"), {I.REGISTERED}, I.HOSTED),
        # Each purchase contract is one event; a hosted organisation may win several.
        _t(
            "purchase",
            _("政府购买服务"),
            {I.HOSTED, I.SERVICES_PURCHASED},
            I.SERVICES_PURCHASED,
            note_required=True,
        ),
        _t("withdraw", _("退出孵化"), _IN_PIPELINE, I.WITHDRAWN, note_required=True),
    ]
}


@dataclass(frozen=True)
class Flow:
    """One workflow: its model, its event model, its table and where its state lives."""

    name: str
    noun: str
    model: type[models.Model]
    event_model: type[models.Model]
    event_fk: str
    state_field: str
    states: type[models.TextChoices]
    categories: Mapping[str, str] | None
    timestamp_field: str  # set to the time of every change of state
    table: Mapping[str, Transition]


NEED_FLOW = Flow(
    "need",
    "需求",
    Need,
    NeedEvent,
    "need",
    "status",
    NeedStatus,
    NEED_CATEGORY,
    "updated_at",
    NEED_TRANSITIONS,
)
PROJECT_FLOW = Flow(
    "project",
    "项目",
    Project,
    ProjectEvent,
    "project",
    "status",
    ProjectStatus,
    PROJECT_CATEGORY,
    "updated_at",
    PROJECT_TRANSITIONS,
)
INCUBATION_FLOW = Flow(
    "incubation",
    "组织",
    Organisation,
    OrganisationEvent,
    "organisation",
    "incubation_stage",
    IncubationStage,
    None,
    "incubation_changed_at",
    INCUBATION_TRANSITIONS,
)
FLOWS = (NEED_FLOW, PROJECT_FLOW, INCUBATION_FLOW)


def state_label(flow: Flow, state: str) -> str:
    return str(flow.states(state).label) if state in flow.states.values else state


def actions_for(flow: Flow, obj: Any) -> list[Transition]:
    """The actions the table allows on ``obj`` in its current state (the page's buttons)."""
    state = getattr(obj, flow.state_field)
    return [t for t in flow.table.values() if state in t.sources]


@dataclass
class TransitionResult:
    obj: Any
    event: Any
    transition: Transition
    from_state: str


Effect = Callable[[Any], Mapping[str, Any]]
After = Callable[[TransitionResult], None]


def transition_apply(
    *,
    flow: Flow,
    obj_id: int,
    action: str,
    actor: User | None,
    note: str = "",
    effect: Effect | None = None,
    data: Mapping[str, Any] | None = None,
    event_fields: Mapping[str, Any] | None = None,
    after: After | None = None,
    now: dt.datetime | None = None,
) -> TransitionResult:
    """Apply ``action`` to the row (locked) as ``actor`` (None = the system). Raises NeedsError.

    ``effect`` computes further field changes from the locked row (and may write its own rows); ``after``
    runs in the same transaction once the event exists. The caller has checked the actor's scope.
    """
    transition = flow.table.get(action)
    if transition is None:
        raise NeedsError("unknown_action", f"未知的操作:{action}")
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise NeedsError("note_too_long", f"说明不能超过{NOTE_MAX}字")
    with transaction.atomic():
        obj = flow.model._default_manager.select_for_update().filter(pk=obj_id).first()
        if obj is None:
            raise not_found(flow.noun)
        from_state = getattr(obj, flow.state_field)
        if from_state not in transition.sources:
            raise TransitionError(
                "invalid_transition",
                f"{flow.noun}当前状态为「{state_label(flow, from_state)}」,不能执行「{transition.label}」",
            )
        if transition.note_required and not note:
            raise NeedsError("note_required", f"「{transition.label}」需要填写说明")

        updates: dict[str, Any] = dict(effect(obj)) if effect is not None else {}
        target = transition.target or from_state
        updates[flow.state_field] = target
        if flow.categories is not None:
            updates["status_category"] = flow.categories[target]
        if target != from_state:
            updates[flow.timestamp_field] = now
        for name, value in updates.items():
            setattr(obj, name, value)
        fields = set(updates) | ({"updated_at"} if hasattr(obj, "updated_at") else set())
        obj.save(update_fields=sorted(fields))
        event = flow.event_model._default_manager.create(
            **{flow.event_fk: obj},
            actor=actor,
            action=action,
            from_state=from_state,
            to_state=target,
            note=note,
            data=dict(data or {}),
            created_at=now,
            **dict(event_fields or {}),
        )
        result = TransitionResult(obj=obj, event=event, transition=transition, from_state=from_state)
        if after is not None:
            after(result)
    return result
