"""Reads of the closed loop: queues, detail, timeline, allowed actions, nearby cases, public list, 721.

Everything a user reads about cases goes through ``Case.objects.for_user`` (the scoping helper), except
the public list and the "me too" suggestions, which return only what may be shown to anyone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.cases.ladder import LEVEL_DEPTH
from linli.cases.models import (
    ACCEPT_CLOCK_STATUSES,
    SOLVED_STATUSES,
    TRIAGE_CLOCK_STATUSES,
    Case,
    CaseAttachment,
    CaseCaller,
    CaseEvent,
    CaseKind,
    Category,
    LadderLevel,
    Status,
    StatusCategory,
    Supervision,
    Urgency,
)
from linli.cases.permissions import Who, case_relations
from linli.cases.transitions import GUARDS, SYSTEM_ACTIONS, TRANSITIONS
from linli.core.scoping import scope_for
from linli.security.masking import mask_name, mask_text

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from linli.accounts.models import User

    AnyUser = User | AnonymousUser


# --- queues ---------------------------------------------------------------------------------------
# Which deadline the overdue / warned filters look at: the resolution deadline (the default, as on the
# overdue board), the dispatcher's triage deadline, the handler's accept deadline, or any of the three.
DEADLINES = ("resolve", "triage", "accept", "any")


def deadline_overdue_q(deadline: str, now: datetime) -> Q:
    """Cases past ``deadline`` while its clock runs (the same conditions as ``Case.is_*overdue``)."""
    parts = {
        "resolve": Q(status_category=StatusCategory.OPEN, resolve_due_at__lt=now),
        "triage": Q(status__in=TRIAGE_CLOCK_STATUSES, triage_due_at__lt=now),
        "accept": Q(status__in=ACCEPT_CLOCK_STATUSES, accept_due_at__lt=now),
    }
    if deadline == "any":
        return parts["resolve"] | parts["triage"] | parts["accept"]
    return parts[deadline]


def deadline_warned_q(deadline: str) -> Q:
    """Cases the sweep warned (预警) about ``deadline`` while its clock runs."""
    parts = {
        "resolve": Q(status_category=StatusCategory.OPEN, warned_at__isnull=False),
        "triage": Q(status__in=TRIAGE_CLOCK_STATUSES, triage_warned_at__isnull=False),
        "accept": Q(status__in=ACCEPT_CLOCK_STATUSES, accept_warned_at__isnull=False),
    }
    if deadline == "any":
        return parts["resolve"] | parts["triage"] | parts["accept"]
    return parts[deadline]


@dataclass(frozen=True)
class QueueFilters:
    queue: str = "all"  # all | dispatch | handle | review | mine (reported by me)
    status: tuple[str, ...] = ()
    status_category: str = ""
    level: str = ""
    deadline: str = "resolve"  # one of DEADLINES: what ``overdue`` and ``warned`` look at
    overdue: bool | None = None
    warned: bool | None = None
    category_id: int | None = None
    grid_id: int | None = None
    unit_id: int | None = None
    channel: str = ""
    query: str = ""


def _levels_at_or_below(depth: int) -> list[str]:
    """Ladder levels whose owning region is at ``depth`` or deeper (blank counts as the district)."""
    levels = [lv for lv, d in LEVEL_DEPTH.items() if d >= depth]
    if depth <= 1:
        levels.append("")
    return levels


def _dispatch_q(user: AnyUser, capability: str) -> Q | None:
    """Cases whose current level is owned by a region where the user holds ``capability`` (or below it)."""
    scope = scope_for(user, capability)
    if scope.is_global:
        return Q()
    parts = [
        Q(region_path__startswith=p, level__in=_levels_at_or_below(len([s for s in p.split("/") if s])))
        for p in scope.region_paths
    ]
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def case_queue_for_user(
    user: AnyUser, filters: QueueFilters | None = None, *, now: datetime | None = None
) -> QuerySet[Case]:
    """A work queue: the user's cases (scoped) narrowed by role queue and filters, oldest deadline first."""
    f = filters or QueueFilters()
    now = now or timezone.now()
    qs = Case.objects.for_user(user).select_related("category", "unit", "assignee", "grid", "community")
    if f.queue == "dispatch":
        q = _dispatch_q(user, Capability.CASES_TRIAGE)
        if q is None:
            return qs.none()
        qs = qs.filter(q, status__in=[Status.SUBMITTED, Status.TRIAGED])
    elif f.queue == "handle":
        handle = scope_for(user, Capability.CASES_HANDLE)
        q = Q(assignee_id=getattr(user, "pk", None)) | Q(unit_id__in=sorted(handle.unit_ids))
        qs = qs.filter(q, status__in=[Status.ASSIGNED, Status.IN_PROGRESS])
    elif f.queue == "review":
        q = _dispatch_q(user, Capability.CASES_REVIEW)
        if q is None:
            return qs.none()
        qs = qs.filter(q, status=Status.REVIEW)
    elif f.queue == "mine":
        qs = qs.filter(reporter_id=getattr(user, "pk", None))
    if f.status:
        qs = qs.filter(status__in=list(f.status))
    if f.status_category:
        qs = qs.filter(status_category=f.status_category)
    if f.level:
        qs = qs.filter(level=f.level)
    deadline = f.deadline if f.deadline in DEADLINES else "resolve"
    if f.overdue is not None:
        overdue = deadline_overdue_q(deadline, now)
        qs = qs.filter(overdue) if f.overdue else qs.exclude(overdue)
    if f.warned is not None:
        warned = deadline_warned_q(deadline)
        qs = qs.filter(warned) if f.warned else qs.filter(status_category=StatusCategory.OPEN).exclude(warned)
    if f.category_id is not None:
        qs = qs.filter(Q(category_id=f.category_id) | Q(category__parent_id=f.category_id))
    if f.grid_id is not None:
        qs = qs.filter(grid_id=f.grid_id)
    if f.unit_id is not None:
        qs = qs.filter(unit_id=f.unit_id)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.query:
        qs = qs.filter(Q(number__startswith=f.query) | Q(title__contains=f.query))
    if f.queue in ("dispatch", "handle", "review"):
        return qs.order_by("resolve_due_at", "id")
    return qs.order_by("-created_at", "-id")


def cases_mine(user: AnyUser) -> QuerySet[Case]:
    """A resident's own cases, newest first."""
    if not user.is_authenticated:
        return Case.objects.none()
    return Case.objects.filter(reporter_id=user.pk).select_related("category").order_by("-created_at", "-id")


def case_detail_for_user(user: AnyUser, case_id: int) -> Case | None:
    """One case if the user may see it (None → the view answers 404)."""
    return (
        Case.objects.for_user(user)
        .select_related(
            "category", "unit", "assignee", "grid", "estate", "community", "street", "building", "reporter"
        )
        .filter(pk=case_id)
        .first()
    )


def cases_overdue(user: AnyUser, *, now: datetime | None = None) -> QuerySet[Case]:
    """The supervisor's overdue board: open cases past their resolve deadline, longest overdue first."""
    now = now or timezone.now()
    return (
        Case.objects.for_user(user)
        .filter(status_category=StatusCategory.OPEN, resolve_due_at__lt=now)
        .select_related("category", "unit", "community")
        .order_by("resolve_due_at", "id")
    )


# --- timeline and actions -------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineEntry:
    action: str
    label: str
    from_status: str
    to_status: str
    from_level: str
    to_level: str
    note: str
    actor: str  # a display name for staff viewers, the role label otherwise
    created_at: datetime
    is_public: bool


def _label(action: str) -> str:
    t = TRANSITIONS.get(action)
    if t is not None:
        return str(t.label)
    return {"submit": "上报", "merged_in": "合并了重复件"}.get(action, action)


def case_timeline(case: Case, viewer: AnyUser) -> list[TimelineEntry]:
    """The case's history as ``viewer`` may read it.

    Staff in scope see everything. The reporter sees every step (the full timeline) but the notes and
    names of internal steps only on public steps and their own. Anyone else sees the public steps only,
    without names or notes (公示).
    """
    from linli.cases.permissions import case_may_view

    rel = case_relations(viewer, case)
    staff = bool(rel - {Who.REPORTER, Who.PUBLIC}) or (
        case_may_view(viewer, case) and Who.REPORTER not in rel
    )
    reporter = Who.REPORTER in rel
    events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("created_at", "id")
    if not staff and not reporter:
        events = events.filter(is_public=True)
    out: list[TimelineEntry] = []
    for e in events:
        own = e.actor_id is not None and e.actor_id == getattr(viewer, "pk", None)
        show_note = staff or (reporter and (e.is_public or own))
        if staff and e.actor is not None:
            # Staff see colleagues by name, residents masked (PI-2: 张*), like everywhere else.
            resident = e.actor_role in ("reporter", "resident")
            actor = mask_name(str(e.actor)) if resident else str(e.actor)
        elif own:
            actor = "我"
        else:
            actor = (
                "系统"
                if e.actor_role == "system"
                else ("群众" if e.actor_role in ("reporter", "resident") else "工作人员")
            )
        out.append(
            TimelineEntry(
                action=e.action,
                label=_label(e.action),
                from_status=e.from_status,
                to_status=e.to_status,
                from_level=e.from_level,
                to_level=e.to_level,
                note=e.note if show_note else "",
                actor=actor,
                created_at=e.created_at,
                is_public=e.is_public,
            )
        )
    return out


def case_actions_for_user(user: AnyUser, case: Case) -> list[str]:
    """The actions the table allows this user on this case now: the screens show exactly these."""
    rel = case_relations(user, case)
    if not rel:
        return []
    out: list[str] = []
    for action, t in TRANSITIONS.items():
        if action in SYSTEM_ACTIONS or case.status not in t.sources or not (t.who & rel):
            continue
        if t.guard == "not_reporter":
            if Who.REPORTER in rel:
                continue
        elif t.guard and GUARDS[t.guard](case) is not None:
            continue
        out.append(action)
    return out


# --- residents: "me too" and the public page -------------------------------------------------------
EARTH_M = 6_371_000.0


def _distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_M * math.asin(math.sqrt(a))


def _degrees_around(lat: float, radius_m: float, *, margin: float = 0.0) -> tuple[float, float]:
    """Half the height and width, in degrees, of the box holding a circle of ``radius_m`` at ``lat``."""
    dlat = radius_m / 111_320.0 + margin
    dlng = radius_m / (111_320.0 * max(math.cos(math.radians(lat)), 0.01)) + margin
    return dlat, dlng


def cases_nearby_similar(
    *,
    lat: float,
    lng: float,
    category_id: int | None,
    radius_m: float = 100.0,
    days: int = 30,
    limit: int = 5,
    now: datetime | None = None,
) -> list[tuple[Case, float]]:
    """Open public cases of the same category within ``radius_m`` and ``days``: offered before filing.

    Anyone may ask, from any point, so the answer depends on each case's *public* point only (rounded to
    0.001°, ~100 m, as on the public map): distances are measured from it and given to 10 m. Measured
    from the exact point, three askers could triangulate where a resident stood (often their home).
    """
    now = now or timezone.now()
    dlat, dlng = _degrees_around(lat, radius_m, margin=PUBLIC_CELL / 2)
    qs = (
        Case.objects.filter(
            status_category=StatusCategory.OPEN,
            is_public=True,
            created_at__gte=now - timedelta(days=days),
            lat__range=(lat - dlat, lat + dlat),
            lng__range=(lng - dlng, lng + dlng),
        )
        .select_related("category")
        .only(
            "id",
            "number",
            "title",
            "category_id",
            "category__name",
            "kind",
            "reporter_id",
            "status",
            "lat",
            "lng",
            "created_at",
            "follower_count",
        )
    )
    if category_id is not None:
        qs = qs.filter(category_id=category_id)
    found = []
    for case in qs[:200]:
        assert case.lat is not None and case.lng is not None
        d = _distance_m(lat, lng, public_round(case.lat), public_round(case.lng))
        if d <= radius_m:
            found.append((case, round(d, -1)))
    found.sort(key=lambda pair: pair[1])
    return found[:limit]


def cases_similar_in_community(
    *, community_id: int, category_id: int, days: int = 30, limit: int = 5, now: datetime | None = None
) -> list[tuple[Case, float | None]]:
    """For a report with an address only (no point): open public cases of the same category in the same
    community, newest first (no distance to give)."""
    now = now or timezone.now()
    qs = (
        Case.objects.filter(
            status_category=StatusCategory.OPEN,
            is_public=True,
            community_id=community_id,
            category_id=category_id,
            created_at__gte=now - timedelta(days=days),
        )
        .select_related("category")
        .order_by("-created_at", "-id")
    )
    return [(case, None) for case in qs[:limit]]


def cases_similar_for_intake(
    user: AnyUser,
    *,
    category_id: int,
    community_id: int | None = None,
    lat: float | None = None,
    lng: float | None = None,
    radius_m: float = 150.0,
    days: int = 30,
    limit: int = 5,
    now: datetime | None = None,
) -> list[tuple[Case, float | None]]:
    """代客登记's duplicate check: open cases of the category that this staff member may see, near the point
    (nearest first, exact distances: staff see exact points) or, without one, in the community (newest
    first). A caller whose problem is already filed can be told its number instead of filing it again."""
    now = now or timezone.now()
    qs = (
        Case.objects.for_user(user)
        .filter(
            status_category=StatusCategory.OPEN,
            category_id=category_id,
            created_at__gte=now - timedelta(days=days),
        )
        .select_related("category")
    )
    if lat is not None and lng is not None:
        dlat, dlng = _degrees_around(lat, radius_m)
        near = qs.filter(lat__range=(lat - dlat, lat + dlat), lng__range=(lng - dlng, lng + dlng))
        found = []
        for case in near.order_by("-created_at")[:200]:
            assert case.lat is not None and case.lng is not None
            d = _distance_m(lat, lng, case.lat, case.lng)
            if d <= radius_m:
                found.append((case, float(round(d))))
        found.sort(key=lambda pair: pair[1])
        return [(c, d) for c, d in found[:limit]]
    if community_id is not None:
        return [
            (case, None)
            for case in qs.filter(community_id=community_id).order_by("-created_at", "-id")[:limit]
        ]
    return []


PUBLIC_CELL = 0.001  # degrees: what the public learns of a case's point (~100 m)


def public_round(degrees: float) -> float:
    return round(degrees, 3)


def public_cell_range(low: float, high: float) -> tuple[float, float]:
    """The exact-coordinate range whose public (rounded) points lie in [low, high] snapped to the cells.

    Filtering the public map on it makes the answer a function of the rounded points alone: shrinking
    a box a hair at a time can no longer find where a case really is.
    """
    return public_round(low) - PUBLIC_CELL / 2, public_round(high) + PUBLIC_CELL / 2


def attachment_is_public(attachment: CaseAttachment) -> bool:
    """The 公示 rule for a photo, as ``cases_public`` has it for the case: marked public, on a public case
    that is solved (a case closed unresolved is not on the public page, nor are its photos)."""
    case = attachment.case
    return attachment.is_public and case.is_public and case.status in SOLVED_STATUSES


def public_title(case: Case) -> str:
    """A case's title for anyone but its reporter and staff: its category (or kind), never its words."""
    if case.category_id is not None and case.category is not None:
        return case.category.name
    return str(CaseKind(case.kind).label)


def cases_public(*, community_id: int | None = None, category_id: int | None = None) -> QuerySet[Case]:
    """公示: solved cases marked public. Callers serialise them only through ``case_public_dict``."""
    qs = Case.objects.filter(is_public=True, status__in=list(SOLVED_STATUSES)).select_related(
        "category", "community"
    )
    if community_id is not None:
        qs = qs.filter(community_id=community_id)
    if category_id is not None:
        qs = qs.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    return qs.order_by("-resolved_at", "-id")


def case_public_dict(case: Case) -> dict[str, Any]:
    """What anyone may see of a case: no text, no reporter, no contact, a point rounded to ~100 m.

    The title is the category's name, not the resident's own words (those may name people or phones).
    """
    category = case.category.name if case.category else ""
    # The handler's result is published: ID and mobile numbers in it are masked (the resolve form asks
    # them to leave personal details out).
    return {
        "id": case.pk,
        "number": case.number,
        "kind": case.kind,
        "category": category,
        "title": category or str(CaseKind(case.kind).label),
        "status": case.status,
        "status_label": str(Status(case.status).label),
        "community": case.community.name if case.community else "",
        "created_at": case.created_at,
        "resolved_at": case.resolved_at,
        "result_text": mask_text(case.result_text),
        "lat": public_round(case.lat) if case.lat is not None else None,
        "lng": public_round(case.lng) if case.lng is not None else None,
    }


def categories_tree() -> list[dict[str, Any]]:
    """Active categories as groups with their leaves (the report form and Open311 services)."""
    rows = list(Category.objects.filter(is_active=True).order_by("sort", "code"))
    children: dict[int | None, list[Category]] = {}
    for c in rows:
        children.setdefault(c.parent_id, []).append(c)

    def node(c: Category) -> dict[str, Any]:
        return {
            "id": c.pk,
            "code": c.code,
            "name": c.name,
            "default_kind": c.default_kind,
            "children": [node(k) for k in children.get(c.pk, [])],
        }

    return [node(c) for c in children.get(None, [])]


# --- statistics -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class LevelShares:
    total: int
    by_level: dict[str, int]
    shares_721: dict[str, float]  # community (incl. estate), street, district


def resolution_level_shares(*, region_path: str, start: datetime, end: datetime) -> LevelShares:
    """The 721 figure: of the cases solved in [start, end) under a region, the share per resolving level."""
    rows = (
        Case.objects.filter(
            region_path__startswith=region_path,
            status__in=list(SOLVED_STATUSES),
            resolved_at__gte=start,
            resolved_at__lt=end,
        )
        .values("resolved_level")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_level = dict.fromkeys(LadderLevel.values, 0)
    for row in rows:
        by_level[row["resolved_level"] or LadderLevel.DISTRICT] += row["n"]
    total = sum(by_level.values())
    buckets = {
        "community": by_level[LadderLevel.ESTATE] + by_level[LadderLevel.COMMUNITY],
        "street": by_level[LadderLevel.STREET],
        "district": by_level[LadderLevel.DISTRICT],
    }
    shares = {k: (v / total if total else 0.0) for k, v in buckets.items()}
    return LevelShares(total=total, by_level=by_level, shares_721=shares)


@dataclass(frozen=True)
class SupervisionStats:
    """督办 under a region in a period: how often, how urgent, and what became of the supervised cases."""

    supervisions: int  # flags raised
    by_urgency: dict[str, int]
    cases: int  # distinct cases flagged
    cases_solved: int  # of those, solved since (resolved, closed; 721-style)
    cases_open: int  # still open
    by_unit: list[tuple[str, int, int]]  # (responsible unit, flags, cases), most flagged first (top 20)


def supervision_stats(*, region_path: str, start: datetime, end: datetime) -> SupervisionStats:
    """The 督办 figure (issue: "the flag counts in statistics"): flags raised in [start, end) on cases
    under a region, by urgency and by responsible unit, and where the flagged cases stand now."""
    flags = Supervision.objects.filter(
        case__region_path__startswith=region_path, created_at__gte=start, created_at__lt=end
    )
    by_urgency = dict.fromkeys(Urgency.values, 0)
    for row in flags.values("urgency").annotate(n=Count("id")).order_by():
        by_urgency[row["urgency"]] += row["n"]
    flagged = Case.objects.filter(pk__in=flags.values("case_id"))
    counts = flagged.aggregate(
        cases=Count("id"),
        solved=Count("id", filter=Q(status__in=list(SOLVED_STATUSES))),
        open=Count("id", filter=Q(status_category=StatusCategory.OPEN)),
    )
    units = (
        flags.values("case__unit__name")
        .annotate(n=Count("id"), cases=Count("case_id", distinct=True))
        .order_by("-n", "case__unit__name")[:20]
    )
    return SupervisionStats(
        supervisions=sum(by_urgency.values()),
        by_urgency=by_urgency,
        cases=counts["cases"],
        cases_solved=counts["solved"],
        cases_open=counts["open"],
        by_unit=[(row["case__unit__name"] or "", row["n"], row["cases"]) for row in units],
    )


def case_counts_by_category(user: AnyUser) -> dict[str, int]:
    """Open / done / cancelled counts in the user's scope (categories from the status table, never a list)."""
    rows = Case.objects.for_user(user).values("status_category").annotate(n=Count("id")).order_by()
    out = dict.fromkeys(StatusCategory.values, 0)
    for row in rows:
        out[row["status_category"]] = row["n"]
    return out


def case_callers_masked(case: Case) -> list[str]:
    """The numbers of the callers following the case (``CaseCaller``) as screens show them (138****5678)."""
    return list(CaseCaller.objects.filter(case=case).order_by("pk").values_list("phone_masked", flat=True))


__all__ = [
    "QueueFilters",
    "case_actions_for_user",
    "case_callers_masked",
    "case_detail_for_user",
    "case_public_dict",
    "case_queue_for_user",
    "case_timeline",
    "cases_mine",
    "cases_nearby_similar",
    "cases_overdue",
    "cases_public",
    "categories_tree",
    "resolution_level_shares",
]
