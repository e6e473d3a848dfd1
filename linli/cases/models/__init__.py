"""Models of the closed loop, split by sub-domain; import them from here."""

from linli.cases.models.case import (
    ACCEPT_CLOCK_STATUSES,
    SOLVED_STATUSES,
    STATUS_INFO,
    TERMINAL_STATUSES,
    TRIAGE_CLOCK_STATUSES,
    Case,
    Rating,
    Status,
    StatusCategory,
    StatusInfo,
    Urgency,
    statuses_in,
)
from linli.cases.models.catalog import (
    RESIDENT_CHANNELS,
    STAFF_INTAKE_CHANNELS,
    CaseKind,
    Category,
    Channel,
)
from linli.cases.models.policy import DurationUnit, EscalationLevel, LadderLevel, RoutingRule, SlaPolicy
from linli.cases.models.records import (
    AttachmentKind,
    CaseAttachment,
    CaseEvent,
    CaseFollower,
    CaseNumberCounter,
    Supervision,
)

__all__ = [
    "ACCEPT_CLOCK_STATUSES",
    "RESIDENT_CHANNELS",
    "SOLVED_STATUSES",
    "STAFF_INTAKE_CHANNELS",
    "STATUS_INFO",
    "TERMINAL_STATUSES",
    "TRIAGE_CLOCK_STATUSES",
    "AttachmentKind",
    "Case",
    "CaseAttachment",
    "CaseEvent",
    "CaseFollower",
    "CaseKind",
    "CaseNumberCounter",
    "Category",
    "Channel",
    "DurationUnit",
    "EscalationLevel",
    "LadderLevel",
    "Rating",
    "RoutingRule",
    "SlaPolicy",
    "Status",
    "StatusCategory",
    "StatusInfo",
    "Supervision",
    "Urgency",
    "statuses_in",
]
