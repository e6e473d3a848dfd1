"""Reads for the home pages: what a staff member's scope holds, always through ``for_user``."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, Sum

from linli.accounts.models import Membership, User
from linli.places.models import Grid, Level, Region


@dataclass(frozen=True)
class ScopeSummary:
    memberships: list[Membership]
    grids: int
    communities: int
    households: int


def workbench_summary_for_user(*, user: User) -> ScopeSummary:
    """The user's active roles with their anchors, and how many grids and communities they can see."""
    memberships = list(
        Membership.objects.filter(user=user, is_active=True)
        .select_related("region", "grid", "grid__community", "unit")
        .order_by("role", "id")
    )
    grids = Grid.objects.for_user(user)
    totals = grids.aggregate(n=Count("id"), households=Sum("households"))
    # A grid worker sees no region rows of their own, yet works in the community around their grid.
    communities = (
        Region.objects.filter(level=Level.COMMUNITY)
        .filter(
            Q(pk__in=Region.objects.for_user(user).filter(level=Level.COMMUNITY).values("pk"))
            | Q(pk__in=grids.values("community_id"))
        )
        .count()
    )
    return ScopeSummary(
        memberships=memberships,
        grids=int(totals["n"] or 0),
        communities=communities,
        households=int(totals["households"] or 0),
    )
