"""The transition tables of appointments, 代办 steps, room bookings and tool loans, and the one function
that applies any of them.

Each table is the single source of truth for its workflow: for each action, the states it may start from,
the state it leads to (None: unchanged), who may perform it (``permissions.Who``), whether a note is
required, and an optional guard on the locked row (time windows). Services, the API, the pages' buttons
(``actions_for``) and the sweeps read them; tests iterate them and check every forbidden pair.

``transition_apply`` locks the row (``select_for_update``), checks the actor's relation and the table,
applies the field changes computed on the locked row (``effect``, which may also do the action's own
compare-and-set writes, e.g. releasing a slot place), writes the event row, saves with ``update_fields``
and writes the notifications (outbox rows + delivery tasks) in the same transaction — a change and its
messages commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from linli.bookings.errors import BookingError, TransitionError, not_found
from linli.bookings.models import (
    APPOINTMENT_CATEGORY,
    LOAN_CATEGORY,
    ROOM_BOOKING_CATEGORY,
    AgencyDetail,
    AgencyEvent,
    AgencyStep,
    Appointment,
    AppointmentEvent,
    AppointmentStatus,
    LoanStatus,
    RoomBooking,
    RoomBookingEvent,
    RoomBookingStatus,
    ToolLoan,
    ToolLoanEvent,
)
from linli.bookings.permissions import (
    Who,
    agency_relations,
    appointment_relations,
    loan_relations,
    room_booking_relations,
)
from linli.core.scoping import may_view

if TYPE_CHECKING:
    from linli.accounts.models import User

# Residents may take their number from this long before their slot starts.
CHECK_IN_EARLY = dt.timedelta(minutes=60)
NOTE_MAX = 500


@dataclass(frozen=True)
class Transition:
    action: str
    label: str | Promise
    sources: frozenset[str]
    target: str | None  # None: the state does not change (e.g. a loan's due date is extended)
    who: frozenset[Who]
    note_required: bool = False
    guard: str = ""  # a key of the flow's guards, checked on the locked row


def _t(
    action: str,
    label: str | Promise,
    sources: set[str],
    target: str | None,
    who: set[Who],
    **kw: Any,
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(who), **kw)


A, R, L, G = AppointmentStatus, RoomBookingStatus, LoanStatus, AgencyStep
OWNER, STAFF, SYSTEM = Who.OWNER, Who.STAFF, Who.SYSTEM

APPOINTMENT_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("cancel", _("取消预约"), {A.BOOKED}, A.CANCELLED, {OWNER, STAFF}, guard="before_start"),
        _t("reschedule", _("改约"), {A.BOOKED}, A.BOOKED, {OWNER, STAFF}, guard="before_start"),
        _t("check_in", _("签到取号"), {A.BOOKED}, A.CHECKED_IN, {STAFF}, guard="check_in_window"),
        # Recording the window encounter (services.window) completes a checked-in appointment.
        _t("complete", _("办理完成"), {A.CHECKED_IN}, A.DONE, {STAFF}),
        _t("no_show", _("未到"), {A.BOOKED}, A.NO_SHOW, {SYSTEM}, guard="slot_ended"),
    ]
}

AGENCY_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("collect", _("收取材料"), {G.REQUESTED}, G.MATERIALS_COLLECTED, {STAFF}, guard="case_active"),
        _t("submit", _("递交办理"), {G.MATERIALS_COLLECTED}, G.SUBMITTED, {STAFF}, guard="case_active"),
        _t("return_result", _("送回结果"), {G.SUBMITTED}, G.RESULT_RETURNED, {STAFF}, guard="case_active"),
    ]
}

ROOM_BOOKING_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("approve", _("批准"), {R.PENDING}, R.CONFIRMED, {STAFF}, guard="before_start"),
        _t("reject", _("不予批准"), {R.PENDING}, R.REJECTED, {STAFF}, note_required=True),
        _t(
            "cancel", _("取消预订"), {R.PENDING, R.CONFIRMED}, R.CANCELLED, {OWNER, STAFF}, guard="before_end"
        ),
    ]
}

LOAN_TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        _t("return", _("归还"), {L.LENT}, L.RETURNED, {STAFF}),
        _t("extend", _("续借"), {L.LENT}, None, {STAFF}),
    ]
}


# --- guards: (locked row, now) -> (code, message) when refused -------------------------------------
Refusal = tuple[str, str] | None


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%m-%d %H:%M}"


def _before_start(obj: Any, now: dt.datetime) -> Refusal:
    if now >= obj.starts_at:
        return ("already_started", f"{_local(obj.starts_at)} 已开始,不能再取消或更改")
    return None


def _before_end(obj: Any, now: dt.datetime) -> Refusal:
    return ("already_ended", "该时段已结束") if now >= obj.ends_at else None


def _check_in_window(obj: Any, now: dt.datetime) -> Refusal:
    if now < obj.starts_at - CHECK_IN_EARLY:
        return ("check_in_too_early", f"预约时间为 {_local(obj.starts_at)},可提前60分钟签到取号")
    if now >= obj.ends_at:
        return ("check_in_closed", "预约时段已结束,不能再签到取号,请重新预约")
    return None


def _slot_ended(obj: Any, now: dt.datetime) -> Refusal:
    return None if now >= obj.ends_at else ("slot_not_ended", "预约时段尚未结束")


def _case_active(obj: Any, now: dt.datetime) -> Refusal:
    from linli.cases.models import Case, StatusCategory

    category = Case.objects.filter(pk=obj.case_id).values_list("status_category", flat=True).first()
    if category == StatusCategory.CANCELLED:
        return ("case_closed", "该代办工单已撤回或不予受理,不能继续登记进度")
    return None


GUARDS: dict[str, Callable[[Any, dt.datetime], Refusal]] = {
    "before_start": _before_start,
    "before_end": _before_end,
    "check_in_window": _check_in_window,
    "slot_ended": _slot_ended,
    "case_active": _case_active,
}


# --- the flows ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flow:
    """One workflow: its model, its event model, its table and how actors relate to a row."""

    name: str
    noun: str
    model: type[models.Model]
    event_model: type[models.Model]
    event_fk: str
    state_field: str
    states: type[models.TextChoices]
    categories: Mapping[str, str] | None
    table: Mapping[str, Transition]
    relations: Callable[[Any, Any], frozenset[Who]]


APPOINTMENT_FLOW = Flow(
    "appointment",
    "预约",
    Appointment,
    AppointmentEvent,
    "appointment",
    "status",
    AppointmentStatus,
    APPOINTMENT_CATEGORY,
    APPOINTMENT_TRANSITIONS,
    appointment_relations,
)
AGENCY_FLOW = Flow(
    "agency",
    "代办",
    AgencyDetail,
    AgencyEvent,
    "detail",
    "step",
    AgencyStep,
    None,
    AGENCY_TRANSITIONS,
    agency_relations,
)
ROOM_BOOKING_FLOW = Flow(
    "room_booking",
    "场地预订",
    RoomBooking,
    RoomBookingEvent,
    "booking",
    "status",
    RoomBookingStatus,
    ROOM_BOOKING_CATEGORY,
    ROOM_BOOKING_TRANSITIONS,
    room_booking_relations,
)
LOAN_FLOW = Flow(
    "loan",
    "工具借用",
    ToolLoan,
    ToolLoanEvent,
    "loan",
    "status",
    LoanStatus,
    LOAN_CATEGORY,
    LOAN_TRANSITIONS,
    loan_relations,
)
FLOWS = (APPOINTMENT_FLOW, AGENCY_FLOW, ROOM_BOOKING_FLOW, LOAN_FLOW)


def state_label(flow: Flow, state: str) -> str:
    return str(flow.states(state).label) if state in flow.states.values else state


def actions_for(flow: Flow, obj: Any, user: Any) -> list[Transition]:
    """The actions ``user`` may try on ``obj`` in its current state (buttons; guards are checked on use)."""
    relations = flow.relations(user, obj)
    state = getattr(obj, flow.state_field)
    return [t for t in flow.table.values() if state in t.sources and t.who & relations]


@dataclass
class TransitionResult:
    obj: Any
    event: Any
    transition: Transition
    who: Who
    from_state: str
    extra: dict[str, Any] = field(default_factory=dict)


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
    after: After | None = None,
    now: dt.datetime | None = None,
) -> TransitionResult:
    """Apply ``action`` to the row (locked) as ``actor`` (None = the system). Raises BookingError.

    ``effect`` computes further field changes from the locked row (and may write its own rows);
    ``after`` runs in the same transaction once the event exists (notifications through the outbox).
    """
    transition = flow.table.get(action)
    if transition is None:
        raise BookingError("unknown_action", f"未知的操作:{action}")
    now = now or timezone.now()
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise BookingError("note_too_long", f"说明不能超过{NOTE_MAX}字")
    with transaction.atomic():
        obj = flow.model._default_manager.select_for_update().filter(pk=obj_id).first()
        if obj is None:
            raise not_found(flow.noun)
        if actor is None:
            if Who.SYSTEM not in transition.who:
                raise TransitionError("forbidden", "该操作需要由本人或工作人员执行", status=403)
            who = Who.SYSTEM
        else:
            relations = flow.relations(actor, obj)
            # Outside the actor's scope the row does not exist for them (404, not 403).
            if not relations and not may_view(actor, obj):
                raise not_found(flow.noun)
            matched = sorted(transition.who & relations)
            if not matched:
                raise TransitionError(
                    "forbidden", f"您无权对该{flow.noun}执行「{transition.label}」", status=403
                )
            who = Who(matched[0])
        from_state = getattr(obj, flow.state_field)
        if from_state not in transition.sources:
            raise TransitionError(
                "invalid_transition",
                f"{flow.noun}当前状态为「{state_label(flow, from_state)}」,不能执行「{transition.label}」",
            )
        if transition.guard:
            refused = GUARDS[transition.guard](obj, now)
            if refused is not None:
                raise TransitionError(*refused)
        if transition.note_required and not note:
            raise BookingError("note_required", f"「{transition.label}」需要填写说明")

        updates: dict[str, Any] = dict(effect(obj)) if effect is not None else {}
        target = transition.target or from_state
        updates[flow.state_field] = target
        if flow.categories is not None:
            updates["status_category"] = flow.categories[target]
        for name, value in updates.items():
            setattr(obj, name, value)
        obj.save(update_fields=[*updates.keys(), "updated_at"])
        event = flow.event_model._default_manager.create(
            **{flow.event_fk: obj},
            actor=actor,
            actor_role=who.value,
            action=action,
            from_state=from_state,
            to_state=target,
            note=note,
            data=dict(data or {}),
            created_at=now,
        )
        result = TransitionResult(obj=obj, event=event, transition=transition, who=who, from_state=from_state)
        if after is not None:
            after(result)
    return result
