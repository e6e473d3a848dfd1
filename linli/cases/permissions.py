"""Who may act on a case: the actor's relations to it, computed through the scoping helper.

The transition table names, per action, which relations may perform it; this module answers which
relations a user has to one case. Dispatcher-type relations (triage, assign, supervise, review) need the
capability anchored at the region that owns the case's current level, or above it: a community's staff
dispatch the community's and its estates' cases, but once a case is escalated to the street, only street
(or district) staff may act on it.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from linli.accounts.roles import ROLE_CAPABILITIES, Capability
from linli.accounts.scopes import active_memberships
from linli.cases.ladder import level_region_path
from linli.cases.models import Case, Status
from linli.core.scoping import may_view, scope_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User


class Who(StrEnum):
    REPORTER = "reporter"  # the resident who filed it
    PUBLIC = "public"  # any signed-in user, on a case marked public (following it: "me too")
    HANDLER = (
        "handler"  # cases.handle, and the case is in hand (assigned/in progress) with them or their unit
    )
    TRIAGER = "triager"  # cases.triage at the case's level or above
    ASSIGNER = "assigner"  # cases.assign at the case's level or above
    SUPERVISOR = "supervisor"  # cases.supervise at the case's level or above
    REVIEWER = "reviewer"  # cases.review at the case's level or above (评议, 回访 rating by phone)
    INTAKE = "intake"  # cases.intake, on a case this user may see (代客: a caller told of it follows it)
    SYSTEM = "system"  # the SLA sweep


WHO_CAPABILITY: dict[Who, str] = {
    Who.HANDLER: Capability.CASES_HANDLE,
    Who.TRIAGER: Capability.CASES_TRIAGE,
    Who.ASSIGNER: Capability.CASES_ASSIGN,
    Who.SUPERVISOR: Capability.CASES_SUPERVISE,
    Who.REVIEWER: Capability.CASES_REVIEW,
    Who.INTAKE: Capability.CASES_INTAKE,
}
_LEVEL_BOUND = (Who.TRIAGER, Who.ASSIGNER, Who.SUPERVISOR, Who.REVIEWER)
# A case is a handler's only while it is in their hands (the "handle" queue shows the same): the unit the
# rules predicted at submission, or the one a case keeps after it was returned or escalated, gives its
# handlers no part in a case the dispatcher has not (or no longer) handed them (AC-3).
IN_HAND = frozenset({Status.ASSIGNED, Status.IN_PROGRESS})


def case_may_view(user: User | AnonymousUser | None, case: Case) -> bool:
    return may_view(user, case)


def case_relations(user: User | AnonymousUser | None, case: Case) -> frozenset[Who]:
    """Every relation ``user`` has to ``case`` right now (memberships are read once per request)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    rel: set[Who] = set()
    if case.reporter_id == user.pk:
        rel.add(Who.REPORTER)
    if case.is_public:
        rel.add(Who.PUBLIC)
    handle = scope_for(user, Capability.CASES_HANDLE)
    handles_it = case.assignee_id == user.pk or (case.unit_id is not None and case.unit_id in handle.unit_ids)
    # An assignee who lost their grid or unit since (AC-4) no longer sees the case and may not act.
    if case.status in IN_HAND and not handle.is_empty and handles_it and may_view(user, case):
        rel.add(Who.HANDLER)
    if not scope_for(user, Capability.CASES_INTAKE).is_empty and may_view(user, case):
        rel.add(Who.INTAKE)
    level_path = level_region_path(case.region_path, case.level)
    for who in _LEVEL_BOUND:
        scope = scope_for(user, WHO_CAPABILITY[who])
        if scope.is_global or any(level_path.startswith(p) for p in scope.region_paths):
            rel.add(who)
    return frozenset(rel)


def acting_role(user: User | None, who: Who) -> str:
    """The role recorded on the event: the membership role that granted the relation used."""
    if user is None:
        return Who.SYSTEM.value
    if who in (Who.REPORTER, Who.PUBLIC):
        return "reporter" if who == Who.REPORTER else "resident"
    capability = WHO_CAPABILITY.get(who)
    for membership in active_memberships(user):
        if capability in ROLE_CAPABILITIES.get(membership.role, frozenset()):
            return membership.role
    return who.value
