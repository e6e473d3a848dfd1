"""Reads of the party app, scoped through ``for_user``; public reads (team totals, certificate check)
return aggregates only, never names."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import Count, DecimalField, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncMonth
from django.http import Http404
from django.utils import timezone

from linli.party.models import (
    CheckIn,
    HoursCertificate,
    HoursSource,
    PartyMember,
    PartyOrg,
    Volunteer,
    VolunteerHours,
    VolunteerTeam,
)
from linli.security.denials import ScopeDenied

if TYPE_CHECKING:
    from linli.accounts.models import User

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


def _cents(value: Decimal | int | float | None) -> Decimal:
    """SQLite returns sums of decimals as plain numbers: give every total two decimals on every backend."""
    return Decimal(str(value or 0)).quantize(CENT)


# Public pages suppress small counts (PI-7): a team of 3 does not say it has 3 members.
SMALL_COUNT = 5


def _get_or_404(qs: QuerySet[Any], model: type[models.Model], pk: int, label: str) -> Any:
    found = qs.filter(pk=pk).first()
    if found is None:
        if model._default_manager.filter(pk=pk).exists():
            raise ScopeDenied(object_type=label, object_id=pk)
        raise Http404
    return found


# --- organisations and members ---------------------------------------------------------------------
@dataclass
class OrgNode:
    org: PartyOrg
    children: list[OrgNode] = field(default_factory=list)
    members: int = 0


def org_tree_for_user(user: User | Any) -> list[OrgNode]:
    """The organisation trees in the user's scope, roots first (two queries)."""
    orgs = list(
        PartyOrg.objects.for_user(user)
        .select_related("region", "leader")
        .order_by("region_path", "sort_order", "id")
    )
    counts = dict(
        PartyMember.objects.filter(org__in=[o.pk for o in orgs], is_active=True)
        .order_by()
        .values("org")
        .annotate(n=Count("id"))
        .values_list("org", "n")
    )
    nodes = {o.pk: OrgNode(o, members=counts.get(o.pk, 0)) for o in orgs}
    roots: list[OrgNode] = []
    for node in nodes.values():
        parent = nodes.get(node.org.parent_id) if node.org.parent_id else None
        (parent.children if parent else roots).append(node)
    return roots


def members_for_user(user: User | Any, *, query: str = "") -> QuerySet[PartyMember]:
    qs = PartyMember.objects.for_user(user).filter(is_active=True).select_related("org", "community")
    if query:
        qs = qs.filter(Q(name__contains=query) | Q(employer__contains=query))
    return qs


# --- check-ins -------------------------------------------------------------------------------------
def checkins_for_user(user: User | Any, *, status: str = "") -> QuerySet[CheckIn]:
    qs = CheckIn.objects.for_user(user).select_related("member", "community", "assigned_org")
    if status:
        qs = qs.filter(status=status)
    return qs.prefetch_related("commitments")


def checkin_for_user(user: User | Any, check_in_id: int) -> CheckIn:
    return _get_or_404(checkins_for_user(user), CheckIn, check_in_id, "party.checkin")


def checkins_mine(user: User | Any) -> QuerySet[CheckIn]:
    return (
        CheckIn.objects.filter(member__user=user)
        .select_related("community", "assigned_org")
        .prefetch_related("commitments", "events")
    )


# --- volunteers and hours --------------------------------------------------------------------------
def _total() -> Any:
    return Coalesce(
        Sum("hours__hours"), Value(ZERO), output_field=DecimalField(max_digits=10, decimal_places=2)
    )


def volunteers_for_user(user: User | Any, *, query: str = "") -> QuerySet[Volunteer]:
    qs = (
        Volunteer.objects.for_user(user)
        .filter(is_active=True)
        .select_related("community")
        .annotate(total=_total())
        .order_by("region_path", "name", "id")  # an aggregate drops Meta.ordering
    )
    if query:
        qs = qs.filter(name__contains=query)
    return qs


def volunteer_for_user(user: User | Any, volunteer_id: int) -> Volunteer:
    return _get_or_404(Volunteer.objects.for_user(user), Volunteer, volunteer_id, "party.volunteer")


def volunteer_mine(user: User | Any) -> Volunteer | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return Volunteer.objects.filter(user=user).select_related("community").first()


@dataclass(frozen=True)
class Ledger:
    entries: list[VolunteerHours]
    total: Decimal
    by_source: dict[str, Decimal]
    this_year: Decimal


def volunteer_ledger(volunteer: Volunteer, *, today: dt.date | None = None) -> Ledger:
    """Every line of the volunteer's ledger (corrections included) and the sums: a total is a plain sum."""
    entries = list(
        VolunteerHours.objects.filter(volunteer=volunteer).select_related(
            "team", "verified_by", "corrects", "project_service"
        )
    )
    by_source: dict[str, Decimal] = defaultdict(lambda: ZERO)
    year = (today or timezone.localdate()).year
    this_year = ZERO
    for e in entries:
        source = e.corrects.source if e.corrects is not None else e.source
        by_source[source] += e.hours
        if e.served_on.year == year:
            this_year += e.hours
    return Ledger(entries, sum((e.hours for e in entries), ZERO), dict(by_source), this_year)


def hours_total(*, volunteer_id: int | None = None, team_id: int | None = None) -> Decimal:
    qs = VolunteerHours.objects.all()
    if volunteer_id is not None:
        qs = qs.filter(volunteer_id=volunteer_id)
    if team_id is not None:
        qs = qs.filter(team_id=team_id)
    return _cents(qs.aggregate(s=Sum("hours"))["s"])


# --- public ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TeamPublic:
    team: VolunteerTeam
    total_hours: Decimal
    members: int | None  # None: fewer than SMALL_COUNT, not shown
    services: int
    by_month: list[tuple[dt.date, Decimal]]


def team_public(team_id: int) -> TeamPublic:
    team = (
        VolunteerTeam.objects.filter(pk=team_id, is_public=True, is_active=True)
        .select_related("community")
        .first()
    )
    if team is None:
        raise Http404
    lines = VolunteerHours.objects.filter(team=team)
    figures = lines.aggregate(
        total=Coalesce(Sum("hours"), Value(ZERO)),
        services=Count("id", filter=~Q(source=HoursSource.CORRECTION)),
    )
    months = list(
        lines.annotate(m=TruncMonth("served_on"))
        .order_by("m")
        .values("m")
        .annotate(h=Sum("hours"))
        .values_list("m", "h")
    )
    members = team.memberships.count()
    return TeamPublic(
        team=team,
        total_hours=_cents(figures["total"]),
        members=members if members >= SMALL_COUNT else None,
        services=figures["services"],
        by_month=[(m, _cents(h)) for m, h in months][-12:],
    )


def teams_public() -> list[tuple[VolunteerTeam, Decimal]]:
    teams = (
        VolunteerTeam.objects.filter(is_public=True, is_active=True)
        .select_related("community")
        .annotate(
            total=Coalesce(
                Sum("hours__hours"), Value(ZERO), output_field=DecimalField(max_digits=10, decimal_places=2)
            )
        )
        .order_by("region_path", "name")
    )
    return [(t, _cents(t.total)) for t in teams[:500]]


def certificate_for_user(user: User | Any, certificate_id: int) -> HoursCertificate:
    qs = HoursCertificate.objects.for_user(user).select_related(
        "volunteer", "volunteer__community", "issued_by"
    )
    return _get_or_404(qs, HoursCertificate, certificate_id, "party.hourscertificate")


def certificate_by_code(code: str) -> HoursCertificate | None:
    code = (code or "").strip().upper()
    if not code or len(code) > 16:
        return None
    return (
        HoursCertificate.objects.filter(verify_code=code)
        .select_related("volunteer", "volunteer__community")
        .first()
    )
