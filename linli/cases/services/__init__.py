"""Writes of the closed loop, one function per use case (keyword-only, typed). Import them from here."""

from linli.cases.services.callers import CallerResult, case_caller_add
from linli.cases.services.escalation import case_escalate
from linli.cases.services.feedback import (
    REVIEW_DECISIONS,
    ExternalUpdate,
    case_close_unresolved,
    case_comment,
    case_external_update,
    case_publish,
    case_rate,
    case_review,
    case_withdraw,
)
from linli.cases.services.submit import FollowResult, SubmitResult, case_follow, case_submit
from linli.cases.services.sweep import SweepReport, cases_sweep_sla
from linli.cases.services.workflow import (
    case_accept,
    case_answer,
    case_assign,
    case_merge,
    case_reassign,
    case_reject,
    case_resolve,
    case_return,
    case_supervise,
    case_triage,
)

__all__ = [
    "REVIEW_DECISIONS",
    "CallerResult",
    "ExternalUpdate",
    "FollowResult",
    "SubmitResult",
    "SweepReport",
    "case_accept",
    "case_answer",
    "case_assign",
    "case_caller_add",
    "case_close_unresolved",
    "case_comment",
    "case_escalate",
    "case_external_update",
    "case_follow",
    "case_merge",
    "case_publish",
    "case_rate",
    "case_reassign",
    "case_reject",
    "case_resolve",
    "case_return",
    "case_review",
    "case_submit",
    "case_supervise",
    "case_triage",
    "case_withdraw",
    "cases_sweep_sla",
]
