"""Reads for the public 三清单 progress page of a community: no sign-in, no personal data.

What is shown: counts of needs by state and category (a category count below ``SUPPRESS_BELOW`` is shown
as "少于5", PI-7: a small count in a care category could point at a household), the public projects with
their claiming organisation, progress and public updates. Never shown: a need's title, description,
contact or source (those may name people), internal project notes, staff names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum

from linli.needs.models import (
    Category,
    Need,
    NeedStatus,
    Project,
    ProjectStatus,
    ProjectUpdate,
    StatusCategory,
)
from linli.places.models import Level, Region
from linli.security.masking import mask_text

SUPPRESS_BELOW = 5
UPDATES_PER_PROJECT = 5


def shown(count: int) -> str:
    """A count as published: 0, "少于5" for 1–4, else the number."""
    if 0 < count < SUPPRESS_BELOW:
        return f"少于{SUPPRESS_BELOW}"
    return str(count)


@dataclass(frozen=True)
class CategoryRow:
    label: str
    total: str
    met: str


@dataclass(frozen=True)
class PublicUpdate:
    date: str
    progress: int
    text: str


@dataclass(frozen=True)
class PublicProject:
    id: int
    title: str
    summary: str
    category: str
    status: str
    status_label: str
    organisation: str
    progress: int
    updates: list[PublicUpdate] = field(default_factory=list)


@dataclass(frozen=True)
class CommunityProgress:
    community: Region
    needs_total: int
    needs_met: int
    needs_in_project: int
    needs_waiting: int
    people_served: str
    categories: list[CategoryRow]
    projects: list[PublicProject]


def public_community(*, code: str) -> Region | None:
    return Region.objects.filter(code=code, level=Level.COMMUNITY).select_related("parent").first()


def public_projects(community: Region) -> QuerySet[Project]:
    updates = ProjectUpdate.objects.filter(is_public=True).order_by("-created_at", "-id")
    return (
        Project.objects.filter(community=community, is_public=True)
        .exclude(status=ProjectStatus.CANCELLED)
        .select_related("organisation")
        .prefetch_related(Prefetch("updates", queryset=updates, to_attr="public_updates"))
        .order_by("status_category", "-updated_at", "-id")
    )


def community_progress(*, community: Region) -> CommunityProgress:
    """Everything the public page shows, in four queries."""
    counts = {
        row["status"]: row["n"]
        for row in Need.objects.filter(community=community).values("status").annotate(n=Count("id"))
    }
    per_category = (
        Need.objects.filter(community=community)
        .exclude(status=NeedStatus.CLOSED)
        .values("category")
        .annotate(total=Count("id"), met=Count("id", filter=Q(status=NeedStatus.MET)))
        .order_by("category")
    )
    people = (
        Need.objects.filter(community=community, status=NeedStatus.MET).aggregate(n=Sum("beneficiaries"))["n"]
        or 0
    )
    labels = dict(Category.choices)
    projects = []
    for p in public_projects(community)[:100]:
        public_updates: list[Any] = p.public_updates  # type: ignore[attr-defined]
        projects.append(
            PublicProject(
                id=p.pk,
                title=mask_text(p.title),
                summary=mask_text(p.summary),
                category=str(labels.get(p.category, p.category)),
                status=p.status,
                status_label=str(ProjectStatus(p.status).label),
                organisation=p.organisation.name if p.organisation else "",
                progress=p.progress,
                updates=[
                    PublicUpdate(date=f"{u.created_at:%Y-%m-%d}", progress=u.progress, text=mask_text(u.text))
                    for u in public_updates[:UPDATES_PER_PROJECT]
                ],
            )
        )
    open_statuses = (NeedStatus.OPEN, NeedStatus.MATCHED)
    return CommunityProgress(
        community=community,
        needs_total=sum(n for s, n in counts.items() if s != NeedStatus.CLOSED),
        needs_met=counts.get(NeedStatus.MET, 0),
        needs_in_project=counts.get(NeedStatus.IN_PROJECT, 0),
        needs_waiting=sum(counts.get(s, 0) for s in open_statuses),
        people_served=shown(people),
        categories=[
            CategoryRow(
                label=str(labels.get(r["category"], r["category"])),
                total=shown(r["total"]),
                met=shown(r["met"]),
            )
            for r in per_category
        ],
        projects=projects,
    )


def communities_public() -> list[dict[str, Any]]:
    """Communities that have needs or public projects, with their counts (the public index)."""
    rows = (
        Region.objects.filter(level=Level.COMMUNITY)
        .annotate(
            n_needs=Count(
                "community_needs", filter=~Q(community_needs__status=NeedStatus.CLOSED), distinct=True
            ),
            n_met=Count("community_needs", filter=Q(community_needs__status=NeedStatus.MET), distinct=True),
            n_projects=Count(
                "needs_projects",
                filter=Q(needs_projects__is_public=True)
                & ~Q(needs_projects__status_category=StatusCategory.CANCELLED),
                distinct=True,
            ),
        )
        .filter(Q(n_needs__gt=0) | Q(n_projects__gt=0))
        .select_related("parent")
        .order_by("path")
    )
    return [
        {
            "code": r.code,
            "name": r.name,
            "street": r.parent.name if r.parent else "",
            "needs": r.n_needs,
            "met": r.n_met,
            "projects": r.n_projects,
        }
        for r in rows[:500]
    ]
