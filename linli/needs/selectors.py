"""Reads of the three lists and organisations for staff, through the scoping helper.

Lists use ``Model.objects.for_user`` (``needs.view``); "for manage" reads add the ``needs.manage`` rule;
pool reads (resources, organisations to pick from) use ``permissions.pool_q``. A row outside answers None
(→ 404)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from linli.accounts.models import User
from linli.accounts.roles import Capability
from linli.core.scoping import scope_for
from linli.needs.models import (
    BOARD_COLUMNS,
    Need,
    NeedMatch,
    Organisation,
    OrganisationMember,
    Project,
    ProjectService,
    ProjectStatus,
    Resource,
)
from linli.needs.permissions import anchor_paths, manage_q, may_manage, paths_q, pool_q
from linli.places.models import Level, Region

UserLike = User | AnonymousUser


@dataclass(frozen=True)
class NeedFilters:
    status: str = ""
    category: str = ""
    urgency: str = ""
    source_kind: str = ""
    community_id: int | None = None
    q: str = ""


def needs_for_user(*, user: UserLike, filters: NeedFilters | None = None) -> QuerySet[Need]:
    f = filters or NeedFilters()
    qs = Need.objects.for_user(user).select_related("region", "community", "grid")
    if f.status:
        qs = qs.filter(status=f.status)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.urgency:
        qs = qs.filter(urgency=f.urgency)
    if f.source_kind:
        qs = qs.filter(source_kind=f.source_kind)
    if f.community_id is not None:
        qs = qs.filter(community_id=f.community_id)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(description__icontains=f.q))
    return qs.order_by("status_category", "-created_at", "-id")


def need_for_user(*, user: UserLike, need_id: int) -> Need | None:
    return (
        Need.objects.for_user(user)
        .select_related("region", "community", "grid", "source_case", "source_visit", "created_by")
        .filter(pk=need_id)
        .first()
    )


def need_matches(*, need: Need) -> list[NeedMatch]:
    return list(need.matches.select_related("resource", "decided_by").order_by("-decided_at", "-id"))


@dataclass(frozen=True)
class ResourceFilters:
    kind: str = ""
    category: str = ""
    provider_kind: str = ""
    available: bool = False
    q: str = ""


def resources_for_user(*, user: UserLike, filters: ResourceFilters | None = None) -> QuerySet[Resource]:
    """Resources in the user's view scope (the staff list; editing needs manage scope)."""
    f = filters or ResourceFilters()
    qs = Resource.objects.for_user(user).select_related("region", "organisation", "station")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.category:
        qs = qs.filter(category=f.category)
    if f.provider_kind:
        qs = qs.filter(provider_kind=f.provider_kind)
    if f.available:
        qs = qs.filter(is_active=True, remaining__gt=0)
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(provider_name__icontains=f.q))
    return qs


def resource_for_user(*, user: UserLike, resource_id: int) -> Resource | None:
    return (
        Resource.objects.for_user(user)
        .select_related("region", "organisation", "station", "volunteer_team")
        .filter(pk=resource_id)
        .first()
    )


def resource_needs(*, resource: Resource, user: UserLike) -> list[NeedMatch]:
    """The resource's accepted matches whose needs the user may see."""
    visible = Need.objects.for_user(user).values("pk")
    return list(
        resource.matches.filter(need__in=visible).select_related("need").order_by("-decided_at", "-id")[:200]
    )


@dataclass(frozen=True)
class ProjectFilters:
    category: str = ""
    community_id: int | None = None
    q: str = ""


def projects_for_user(*, user: UserLike, filters: ProjectFilters | None = None) -> QuerySet[Project]:
    f = filters or ProjectFilters()
    qs = Project.objects.for_user(user).select_related("community", "organisation")
    if f.category:
        qs = qs.filter(category=f.category)
    if f.community_id is not None:
        qs = qs.filter(community_id=f.community_id)
    if f.q:
        qs = qs.filter(Q(title__icontains=f.q) | Q(organisation__name__icontains=f.q))
    return qs.annotate(need_count=Count("needs", distinct=True))


def project_board(
    *, user: UserLike, filters: ProjectFilters | None = None
) -> list[tuple[str, str, list[Project]]]:
    """The board: one column per non-cancelled status (value, label, projects), 100 per column at most."""
    rows = list(projects_for_user(user=user, filters=filters).exclude(status=ProjectStatus.CANCELLED)[:1000])
    columns = []
    for status in BOARD_COLUMNS:
        in_column = [p for p in rows if p.status == status][:100]
        columns.append((str(status), str(ProjectStatus(status).label), in_column))
    return columns


def project_for_user(*, user: UserLike, project_id: int) -> Project | None:
    return (
        Project.objects.for_user(user)
        .select_related("community", "organisation", "created_by")
        .prefetch_related("needs", "resources")
        .filter(pk=project_id)
        .first()
    )


@dataclass(frozen=True)
class OrgFilters:
    kind: str = ""
    stage: str = ""
    q: str = ""


def organisations_for_user(*, user: UserLike, filters: OrgFilters | None = None) -> QuerySet[Organisation]:
    f = filters or OrgFilters()
    qs = Organisation.objects.for_user(user).select_related("region")
    if f.kind:
        qs = qs.filter(kind=f.kind)
    if f.stage:
        qs = qs.filter(incubation_stage=f.stage)
    if f.q:
        qs = qs.filter(Q(name__icontains=f.q) | Q(services__icontains=f.q))
    return qs


def organisation_for_user(*, user: UserLike, organisation_id: int) -> Organisation | None:
    return Organisation.objects.for_user(user).select_related("region").filter(pk=organisation_id).first()


def organisations_pool(*, user: UserLike) -> QuerySet[Organisation]:
    """Active organisations the user may pick (claiming a project, offering a resource)."""
    q = pool_q(user)
    if q is None:
        return Organisation.objects.none()
    return Organisation.objects.filter(q, is_active=True).order_by("kind", "name")


def stations_pool(*, user: UserLike) -> QuerySet[Any]:
    from linli.stations.models import Station

    q = pool_q(user)
    if q is None:
        return Station.objects.none()
    return Station.objects.filter(q).order_by("region_path", "name")


def regions_managed(*, user: UserLike, levels: tuple[str, ...]) -> QuerySet[Region]:
    """Regions of these levels in the user's ``needs.manage`` scope (the forms' choices)."""
    q = manage_q(user, field="path")
    if q is None:
        return Region.objects.none()
    return Region.objects.filter(q, level__in=levels).order_by("path")


def regions_reportable(*, user: UserLike) -> QuerySet[Region]:
    """Estates and communities the user may file needs in (``needs.report`` or ``needs.manage``)."""
    levels = (Level.COMMUNITY, Level.ESTATE)
    qs: list[Q] = []
    for capability in (Capability.NEEDS_REPORT, Capability.NEEDS_MANAGE):
        scope = scope_for(user, capability)
        if scope.is_global:
            return Region.objects.filter(level__in=levels).order_by("path")
        q = paths_q("path", anchor_paths(scope))
        if q is not None:
            qs.append(q)
    if not qs:
        return Region.objects.none()
    return Region.objects.filter(reduce(lambda a, b: a | b, qs), level__in=levels).order_by("path")


def communities_visible(*, user: UserLike) -> QuerySet[Region]:
    """Communities with needs the user may see (the list filter's choices)."""
    ids = Need.objects.for_user(user).values("community_id")
    return (
        Region.objects.filter(level=Level.COMMUNITY)
        .filter(Q(pk__in=ids) | Q(pk__in=regions_managed(user=user, levels=(Level.COMMUNITY,)).values("pk")))
        .order_by("path")
    )


def needs_for_project_choice(*, user: UserLike, community_id: int) -> QuerySet[Need]:
    """Needs a project may take: waiting or matched, in the community, in the user's manage scope."""
    q = manage_q(user)
    if q is None:
        return Need.objects.none()
    return Need.objects.filter(q, community_id=community_id, status__in=["open", "matched"]).order_by(
        "-created_at"
    )


def user_may_manage(*, user: UserLike, region_path: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and may_manage(user, region_path)


# --- volunteers' service on projects ---------------------------------------------------------------
def project_services(*, project: Project) -> list[ProjectService]:
    """The project's recorded volunteer service, with whether each row is in the hours ledger yet."""
    return list(
        project.services.select_related("volunteer", "team", "ledger_entry").order_by("served_on", "id")[:500]
    )


def project_teams(*, project: Project) -> QuerySet[Any]:
    """Registered volunteer teams offering a resource the project uses (the only ones that may serve)."""
    from linli.party.models import VolunteerTeam

    return (
        VolunteerTeam.objects.filter(resources__projects=project, is_active=True).distinct().order_by("name")
    )


def project_team_volunteers(*, project: Project) -> QuerySet[Any]:
    """Active members of those teams (the service form's choices)."""
    from linli.party.models import Volunteer

    teams = project_teams(project=project).values("pk")
    return (
        Volunteer.objects.filter(is_active=True, team_memberships__team__in=teams)
        .distinct()
        .order_by("name", "id")
    )


def volunteer_teams_pool(*, user: UserLike) -> QuerySet[Any]:
    """Active volunteer teams the user may name as a resource's provider (the pool rule)."""
    from linli.party.models import VolunteerTeam

    q = pool_q(user)
    if q is None:
        return VolunteerTeam.objects.none()
    return VolunteerTeam.objects.filter(q, is_active=True).order_by("region_path", "name")


# --- organisations acting for themselves -----------------------------------------------------------
def organisations_represented(*, user: UserLike) -> list[Organisation]:
    """Active organisations the user represents (组织联络人); empty for everyone else."""
    if not isinstance(user, User) or not user.is_active:
        return []
    return list(
        Organisation.objects.filter(is_active=True, members__user=user, members__is_active=True)
        .select_related("region")
        .order_by("name")
    )


@dataclass(frozen=True)
class OrganisationProjects:
    organisation: Organisation
    claimable: list[Project]  # open projects it may claim
    claimed: list[Project]  # its own, newest first


def projects_for_organisation(*, organisation: Organisation) -> OrganisationProjects:
    from linli.needs.services.representatives import claimable_q

    base = Project.objects.select_related("community").annotate(need_count=Count("needs", distinct=True))
    return OrganisationProjects(
        organisation=organisation,
        claimable=list(
            base.filter(claimable_q(organisation), status=ProjectStatus.OPEN).order_by("-created_at", "-id")[
                :200
            ]
        ),
        claimed=list(base.filter(organisation=organisation).order_by("-created_at", "-id")[:200]),
    )


def organisation_members(*, organisation: Organisation) -> list[OrganisationMember]:
    return list(
        organisation.members.filter(is_active=True).select_related("user", "added_by").order_by("id")[:50]
    )
