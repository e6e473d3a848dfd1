"""The reporter's side and the end of the loop: withdraw, rate (满意 / 重办 / 评议), review, unresolved
closing, publication (公示) and notes. Thin wrappers on ``case_transition`` like ``workflow.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from linli.accounts.models import User
from linli.cases.attachments import PreparedImage, attachment_ingest, images_prepare
from linli.cases.errors import CaseError
from linli.cases.models import AttachmentKind, Case, CaseEvent, CaseKind, Rating
from linli.cases.services.workflow import fresh_deadlines, note_clean
from linli.cases.transitions import case_transition


def case_withdraw(*, case_id: int, actor: User, note: str = "") -> Case:
    return case_transition(case_id=case_id, action="withdraw", actor=actor, note=note_clean(note)).case


def case_rate(*, case_id: int, actor: User, rating: str, comment: str = "") -> Case:
    """评价. 满意/基本满意 close it; 不满意 reopens it once (重办), a second time sends it to review (评议)."""
    if rating not in Rating.values:
        raise CaseError("invalid_rating", "请选择满意、基本满意或不满意")
    comment = comment.strip()[:500]
    now = timezone.now()
    if rating != Rating.UNSATISFIED:
        action = "rate"
    else:
        reopened = Case.objects.filter(pk=case_id).values_list("reopen_count", flat=True).first()
        action = "reopen" if not reopened else "send_to_review"  # the guard re-checks on the locked row

    def effect(case: Case) -> dict[str, Any]:
        out: dict[str, Any] = {"rating": rating, "rating_comment": comment, "rated_at": now}
        if action == "reopen":
            out["reopen_count"] = case.reopen_count + 1
            out["assignee_id"] = None
            out["accepted_at"] = None
            out["accept_due_at"] = None
            out.update(fresh_deadlines(case, now))
        return out

    return case_transition(
        case_id=case_id,
        action=action,
        actor=actor,
        note=comment,
        effect=effect,
        data={"rating": rating},
        now=now,
    ).case


# --- review, closing, publication, notes ------------------------------------------------------------
REVIEW_DECISIONS = {"uphold": "review_uphold", "redo": "review_redo", "unresolved": "close_unresolved"}


def case_review(*, case_id: int, actor: User, decision: str, note: str) -> Case:
    """评议 of a twice-unsatisfied case: uphold (closed), redo (back to the dispatcher), or unresolved."""
    action = REVIEW_DECISIONS.get(decision)
    if action is None:
        raise CaseError("invalid_decision", "评议结论应为 uphold、redo 或 unresolved")
    now = timezone.now()

    def effect(case: Case) -> dict[str, Any]:
        if action == "review_redo":
            return {
                "assignee_id": None,
                "accepted_at": None,
                "accept_due_at": None,
                **fresh_deadlines(case, now),
            }
        return {}

    return case_transition(
        case_id=case_id, action=action, actor=actor, note=note_clean(note), effect=effect, now=now
    ).case


def case_close_unresolved(*, case_id: int, actor: User, note: str) -> Case:
    """未解决结案: closed honestly without a solution (the reason is public)."""
    return case_transition(
        case_id=case_id, action="close_unresolved", actor=actor, note=note_clean(note)
    ).case


def case_publish(*, case_id: int, actor: User, public: bool, note: str = "") -> Case:
    """公示 a solved case on the public page, or take it down."""
    return case_transition(
        case_id=case_id,
        action="publish" if public else "unpublish",
        actor=actor,
        note=note_clean(note),
        effect=lambda case: {"is_public": public and case.kind != CaseKind.TIP_OFF},
    ).case


def case_comment(*, case_id: int, actor: User, note: str) -> Case:
    """备注: a note on the timeline (the reporter adding details, staff recording a call)."""
    return case_transition(case_id=case_id, action="comment", actor=actor, note=note_clean(note)).case


@dataclass(frozen=True)
class ExternalUpdate:
    event: CaseEvent
    created: bool  # False: the same (source, ref) was posted before and its event is returned


def case_external_update(
    *,
    case_id: int,
    source: str,
    ref: str,
    note: str,
    data: Mapping[str, Any] | None = None,
    photos: Sequence[bytes | PreparedImage] = (),
    now: datetime | None = None,
) -> ExternalUpdate:
    """办理进展 posted by an external system (``source``, e.g. ``open311:<client>``): a public note.

    Idempotent by the system's own id for the update (``ref``): the check runs under the case's row lock,
    so a retry, or two racing posts of one update, record it once (and store its photos once).
    ``photos`` are re-encoded like every case photo and attached to the update's event; like the
    reporter's own photos they are shown publicly only once the case is solved and published (公示).
    """
    note = note_clean(note)
    if not note:
        raise CaseError("note_required", "请填写办理进展")
    prepared = images_prepare(photos)  # before the transaction: decoding is slow
    with transaction.atomic():
        if not Case.objects.select_for_update().filter(pk=case_id).exists():
            raise CaseError("not_found", "工单不存在或无权访问", status=404)
        if ref:
            existing = (
                CaseEvent.objects.filter(
                    case_id=case_id, action="external_update", data__source=source, data__ref=ref
                )
                .order_by("id")
                .first()
            )
            if existing is not None:
                return ExternalUpdate(event=existing, created=False)
        result = case_transition(
            case_id=case_id,
            action="external_update",
            actor=None,
            note=note,
            data={**(data or {}), "source": source, "ref": ref},
            now=now,
        )
        for image in prepared:
            attachment_ingest(
                case=result.case,
                upload=image,
                kind=AttachmentKind.PROGRESS,
                is_public=True,
                event=result.event,
            )
    return ExternalUpdate(event=result.event, created=True)
