"""The loop's actions, each a thin wrapper on ``case_transition``: validate input, compute the field
changes on the locked row (``effect``), and do the action's own side rows in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.models import Unit, User
from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.cases.attachments import PreparedImage, attachment_ingest, images_prepare
from linli.cases.errors import CaseError
from linli.cases.ladder import ladder_load
from linli.cases.location import case_location_resolve
from linli.cases.models import (
    AttachmentKind,
    Case,
    CaseEvent,
    CaseFollower,
    CaseKind,
    Category,
    LadderLevel,
    StatusCategory,
    Supervision,
    Urgency,
)
from linli.cases.routing import route_unit
from linli.cases.services.callers import case_callers_merge
from linli.cases.sla import accept_deadline, deadlines_compute, policy_book_load, resolve_deadline, warn_time
from linli.cases.transitions import case_transition
from linli.core.scoping import may_view

if TYPE_CHECKING:
    from linli.cases.sla import Terms

NOTE_MAX = 1000


def note_clean(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise CaseError("note_too_long", f"说明不能超过{NOTE_MAX}字")
    return note


def _terms(case: Case) -> Terms:
    return policy_book_load().terms(
        kind=case.kind, category_id=case.category_id, level=case.level or LadderLevel.COMMUNITY
    )


def fresh_deadlines(case: Case, start: datetime) -> dict[str, Any]:
    """Deadlines for the case (its current kind, category and level) counted from ``start``."""
    return {"level_started_at": start, **deadlines_compute(start=start, terms=_terms(case)).fields()}


def _classification(case: Case, *, kind: str | None, category_id: int | None) -> dict[str, Any]:
    """Kind and category changes, and the resolve deadline they imply (still counted from arrival)."""
    out: dict[str, Any] = {}
    if kind is not None and kind != case.kind:
        if kind not in CaseKind.values:
            raise CaseError("invalid_kind", "诉求类型不正确")
        out["kind"] = case.kind = kind
    if category_id is not None and category_id != case.category_id:
        if not Category.objects.filter(pk=category_id, is_active=True).exists():
            raise CaseError("unknown_category", "分类不存在或已停用")
        out["category_id"] = case.category_id = category_id
    if out and case.level_started_at is not None:
        terms = _terms(case)
        due = resolve_deadline(case.level_started_at, terms)
        out.update(resolve_due_at=due, warn_at=warn_time(case.level_started_at, due, terms), warned_at=None)
    return out


def _unit(unit_id: int) -> Unit:
    unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
    if unit is None:
        raise CaseError("unknown_unit", "责任单位不存在或已停用")
    return unit


# --- triage ---------------------------------------------------------------------------------------
def case_triage(
    *,
    case_id: int,
    actor: User,
    kind: str | None = None,
    category_id: int | None = None,
    unit_id: int | None = None,
    community_id: int | None = None,
    building_id: int | None = None,
    note: str = "",
) -> Case:
    """梳理: settle kind, category and responsible unit; place an address-only case in its community."""
    note = note_clean(note)

    def effect(case: Case) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if community_id is not None or building_id is not None:
            if case.level:
                raise CaseError("already_located", "工单已定位,不能改到其他社区")
            place = case_location_resolve(building_id=building_id, community_id=community_id)
            if not place.region_path.startswith(case.region_path):
                raise CaseError("outside_jurisdiction", "所选位置不在本辖区")
            out.update(place.fields())
            out.pop("lat")
            out.pop("lng")
            out["level"] = ladder_load().entry(has_estate=place.estate_id is not None, has_community=True)
            for name, value in out.items():
                setattr(case, name, value)
        out.update(_classification(case, kind=kind, category_id=category_id))
        if unit_id is not None:
            out["unit_id"] = _unit(unit_id).pk
        elif "category_id" in out or "region_path" in out:
            routed = route_unit(category_id=case.category_id, region_path=case.region_path)
            if routed is not None:
                out["unit_id"] = routed
        return out

    return case_transition(case_id=case_id, action="triage", actor=actor, note=note, effect=effect).case


def case_reject(
    *,
    case_id: int,
    actor: User,
    note: str,
    rejected_to_unit_id: int | None = None,
    rejected_to_text: str = "",
) -> Case:
    """不予受理, naming the unit that should handle it instead (a unit of ours, or in words)."""
    rejected_to_text = rejected_to_text.strip()[:100]
    if rejected_to_unit_id is None and not rejected_to_text:
        raise CaseError("right_unit_required", "请注明应由哪个单位受理")
    changes: dict[str, Any] = {"rejected_to_text": rejected_to_text}
    if rejected_to_unit_id is not None:
        changes["rejected_to_unit_id"] = _unit(rejected_to_unit_id).pk
    return case_transition(
        case_id=case_id,
        action="reject",
        actor=actor,
        note=note_clean(note),
        effect=lambda case: changes,
        data={"rejected_to_unit_id": rejected_to_unit_id, "rejected_to_text": rejected_to_text},
    ).case


def case_merge(*, case_id: int, actor: User, duplicate_of_id: int, note: str = "") -> Case:
    """合并: this case repeats another; its reporter, followers and callers follow the original from now on."""
    original = Case.objects.for_user(actor).filter(pk=duplicate_of_id).first()
    if original is None:
        raise CaseError("unknown_original", "要合并到的工单不存在或无权访问")
    if original.duplicate_of_id is not None:
        original = Case.objects.get(pk=original.duplicate_of_id)  # always point at the root
    if original.pk == case_id:
        raise CaseError("merge_into_self", "不能与自身合并")
    with transaction.atomic():
        # Both rows locked, lowest id first (two dispatchers merging A into B and B into A at once must not
        # both win and leave two duplicates pointing at each other); the original is judged as locked.
        locked = {
            c.pk: c
            for c in Case.objects.select_for_update().filter(pk__in=[case_id, original.pk]).order_by("pk")
        }
        original = locked[original.pk]
        if original.status_category == StatusCategory.CANCELLED:
            raise CaseError("original_cancelled", "不能合并到已撤销、不予受理或已合并的工单")
        result = case_transition(
            case_id=case_id,
            action="merge",
            actor=actor,
            note=note_clean(note),
            effect=lambda case: {"duplicate_of_id": original.pk},
            data={"duplicate_of": original.number},
        )
        case = result.case
        # The duplicate's reporter and its followers follow the original (each once; not its own reporter).
        users = {case.reporter_id} if case.reporter_id else set()
        users |= set(CaseFollower.objects.filter(case=case).values_list("user_id", flat=True))
        users -= set(CaseFollower.objects.filter(case=original).values_list("user_id", flat=True))
        if original.reporter_id is not None:
            users.discard(original.reporter_id)
        CaseFollower.objects.bulk_create([CaseFollower(case=original, user_id=u) for u in sorted(users)])
        if users:
            Case.objects.filter(pk=original.pk).update(follower_count=F("follower_count") + len(users))
        case_callers_merge(duplicate=case, original=original)  # and its callers' mobiles, by SMS
        CaseEvent.objects.create(
            case=original,
            actor=actor,
            actor_role=result.event.actor_role,
            action="merged_in",
            from_status=original.status,
            to_status=original.status,
            from_level=original.level,
            to_level=original.level,
            data={"duplicate": case.number},
            is_public=False,
            created_at=result.event.created_at,
        )
    return case


def case_answer(
    *,
    case_id: int,
    actor: User,
    result_text: str,
    photos: Sequence[bytes | PreparedImage] = (),
    photos_public: bool = False,
) -> Case:
    """直接答复: the dispatcher answers (an inquiry, a praise) without assigning it."""
    return _resolve(
        case_id=case_id,
        actor=actor,
        action="answer",
        result_text=result_text,
        photos=photos,
        photos_public=photos_public,
    )


# --- assignment -------------------------------------------------------------------------------------
def _assignment(
    case: Case, *, unit_id: int | None, assignee_id: int | None, clear_unit: bool, now: datetime
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if clear_unit:
        out["unit_id"] = case.unit_id = None
    if unit_id is not None:
        out["unit_id"] = case.unit_id = _unit(unit_id).pk
    if assignee_id is not None:
        assignee = User.objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or not user_has_capability(assignee, Capability.CASES_HANDLE):
            raise CaseError("invalid_assignee", "承办人不存在或没有办理权限")
        if not may_view(assignee, case):  # with the new unit set above
            raise CaseError("assignee_out_of_scope", "承办人不负责该工单所在的网格、社区或单位")
    out["assignee_id"] = case.assignee_id = assignee_id
    if case.unit_id is None and case.assignee_id is None:
        raise CaseError("assign_target_required", "请选择责任单位或承办人")
    out.update(accept_deadline(start=now, terms=_terms(case)).fields())
    out["accepted_at"] = None
    return out


def case_assign(
    *,
    case_id: int,
    actor: User,
    unit_id: int | None = None,
    assignee_id: int | None = None,
    clear_unit: bool = False,
    kind: str | None = None,
    category_id: int | None = None,
    note: str = "",
    now: datetime | None = None,
) -> Case:
    """交办 to a unit, a person (community staff, a grid worker), or both; triage fields may come along.

    ``unit_id=None`` keeps the case's current (routed) unit unless ``clear_unit``.
    """
    now = now or timezone.now()

    def effect(case: Case) -> dict[str, Any]:
        out = _classification(case, kind=kind, category_id=category_id)
        out.update(
            _assignment(case, unit_id=unit_id, assignee_id=assignee_id, clear_unit=clear_unit, now=now)
        )
        return out

    return case_transition(
        case_id=case_id,
        action="assign",
        actor=actor,
        note=note_clean(note),
        effect=effect,
        data={"unit_id": unit_id, "assignee_id": assignee_id},
        now=now,
    ).case


def case_reassign(
    *,
    case_id: int,
    actor: User,
    unit_id: int | None = None,
    assignee_id: int | None = None,
    clear_unit: bool = False,
    note: str = "",
    now: datetime | None = None,
) -> Case:
    """转派 an assigned or accepted case to another unit or person."""
    now = now or timezone.now()
    return case_transition(
        case_id=case_id,
        action="reassign",
        actor=actor,
        note=note_clean(note),
        effect=lambda case: _assignment(
            case, unit_id=unit_id, assignee_id=assignee_id, clear_unit=clear_unit, now=now
        ),
        data={"unit_id": unit_id, "assignee_id": assignee_id},
        now=now,
    ).case


# --- handling ---------------------------------------------------------------------------------------
def case_accept(*, case_id: int, actor: User, note: str = "") -> Case:
    """接单: the handler takes it on (and becomes the assignee if it was assigned to the unit)."""
    now = timezone.now()
    return case_transition(
        case_id=case_id,
        action="accept",
        actor=actor,
        note=note_clean(note),
        effect=lambda case: {"assignee_id": case.assignee_id or actor.pk, "accepted_at": now},
        now=now,
    ).case


def case_return(*, case_id: int, actor: User, note: str) -> Case:
    """退单 with a reason: back to the level's dispatcher. The resolution clock keeps running."""
    now = timezone.now()

    def effect(case: Case) -> dict[str, Any]:
        due = deadlines_compute(start=now, terms=_terms(case))
        return {
            "unit_id": None,
            "assignee_id": None,
            "accept_due_at": None,
            "accepted_at": None,
            # A fresh triage clock for the dispatcher; the resolution clock keeps running.
            "triage_due_at": due.triage_due_at,
            "triage_warn_at": due.triage_warn_at,
            "triage_warned_at": None,
            "triage_overdue_at": None,
        }

    return case_transition(
        case_id=case_id, action="return", actor=actor, note=note_clean(note), effect=effect, now=now
    ).case


def _resolve(
    *,
    case_id: int,
    actor: User,
    action: str,
    result_text: str,
    photos: Sequence[bytes | PreparedImage],
    photos_public: bool,
) -> Case:
    result_text = (result_text or "").strip()
    if not result_text:
        raise CaseError("result_required", "请填写办理结果")
    if len(result_text) > 2000:
        raise CaseError("result_too_long", "办理结果不能超过2000字")
    prepared = images_prepare(photos)  # before the transaction: decoding is slow
    with transaction.atomic():
        result = case_transition(
            case_id=case_id,
            action=action,
            actor=actor,
            effect=lambda case: {"result_text": result_text},
        )
        for image in prepared:
            attachment_ingest(
                case=result.case,
                upload=image,
                kind=AttachmentKind.RESULT,
                uploaded_by_id=actor.pk,
                is_public=photos_public,
                event=result.event,
            )
        Supervision.objects.filter(case_id=case_id, resolved_at__isnull=True).update(
            resolved_at=result.event.created_at
        )
    return result.case


def case_resolve(
    *,
    case_id: int,
    actor: User,
    result_text: str,
    photos: Sequence[bytes | PreparedImage] = (),
    photos_public: bool = False,
) -> Case:
    """办结 with a result text and optional photos (marked public or not for 公示)."""
    return _resolve(
        case_id=case_id,
        actor=actor,
        action="resolve",
        result_text=result_text,
        photos=photos,
        photos_public=photos_public,
    )


def case_supervise(*, case_id: int, actor: User, note: str, urgency: str = Urgency.NORMAL) -> Case:
    """督办: flag the case with a note and an urgency; the handler is told, the flag is counted."""
    if urgency not in Urgency.values:
        raise CaseError("invalid_urgency", "紧急程度不正确")
    order = list(Urgency.values)
    now = timezone.now()
    with transaction.atomic():
        result = case_transition(
            case_id=case_id,
            action="supervise",
            actor=actor,
            note=note_clean(note),
            effect=lambda case: {
                "supervision_count": case.supervision_count + 1,
                "urgency": max(case.urgency, urgency, key=order.index),
            },
            data={"urgency": urgency},
            now=now,
        )
        Supervision.objects.create(
            case=result.case, supervisor=actor, urgency=urgency, note=result.event.note, created_at=now
        )
    return result.case
