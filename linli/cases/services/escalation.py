"""Escalation up the ladder by hand: the handler or the dispatcher asks ("beyond our remit").

The case moves to the next rung's dispatcher with new deadlines counted from now; timed escalation is
the SLA sweep in ``services/sweep.py``.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from linli.accounts.models import User
from linli.cases.errors import CaseError
from linli.cases.ladder import ladder_load
from linli.cases.models import Case
from linli.cases.sla import deadlines_compute, policy_book_load
from linli.cases.transitions import case_transition


def case_escalate(*, case_id: int, actor: User, note: str) -> Case:
    """提请上级: "beyond our remit" — the case moves to the next level's dispatcher with a new deadline."""
    now = timezone.now()
    book = policy_book_load()

    def effect(case: Case) -> dict[str, Any]:
        nxt = ladder_load().next(case.level)
        if nxt is None:  # the guard said so too; this keeps the type checker and a racing admin honest
            raise CaseError("top_level", "已是最高层级,无法继续升级")
        due = deadlines_compute(
            start=now, terms=book.terms(kind=case.kind, category_id=case.category_id, level=nxt)
        )
        return {
            "level": nxt,
            "assignee_id": None,
            "accept_due_at": None,
            "accepted_at": None,
            "escalation_count": case.escalation_count + 1,
            "level_started_at": now,
            **due.fields(),
        }

    note = (note or "").strip()[:1000]
    return case_transition(
        case_id=case_id, action="escalate", actor=actor, note=note, effect=effect, now=now
    ).case
