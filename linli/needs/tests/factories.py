"""Test data for the three lists: one user per relevant role in a SmallDistrict, and makers that go
through the services (so every row has its event and its scope fields, as in production)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.needs.models import (
    NEED_CATEGORY,
    PROJECT_CATEGORY,
    Category,
    Need,
    NeedSource,
    Organisation,
    OrgKind,
    Project,
    ProviderKind,
    Resource,
    ResourceKind,
)
from linli.needs.services import need_create, organisation_create, project_create, resource_create
from linli.places.models import Region
from linli.places.tests.factories import SmallDistrict

_n = itertools.count(1)


@dataclass
class NeedsWorld:
    d: SmallDistrict
    secretary0: User  # community 0 (street 0)
    secretary1: User  # community 1 (street 0)
    secretary2: User  # community 2 (street 1)
    back_office0: User
    window0: User
    street0: User  # street 0: communities 0 and 1
    district_staff: User
    grid0: User  # grid 0 (community 0)
    grid2: User  # grid 2 (community 1)
    resident: User
    auditor: User


def build_needs_world(d: SmallDistrict) -> NeedsWorld:
    return NeedsWorld(
        d=d,
        secretary0=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=0),
        secretary1=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=1),
        secretary2=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=2),
        back_office0=staff_with_role(Role.BACK_OFFICE, district=d, index=0),
        window0=staff_with_role(Role.WINDOW_STAFF, district=d, index=0),
        street0=staff_with_role(Role.STREET_STAFF, district=d, index=0),
        district_staff=staff_with_role(Role.DISTRICT_STAFF, district=d, index=0),
        grid0=staff_with_role(Role.GRID_WORKER, district=d, index=0),
        grid2=staff_with_role(Role.GRID_WORKER, district=d, index=2),
        resident=ResidentFactory(),
        auditor=staff_with_role(Role.AUDITOR, district=d, index=0),
    )


def make_need(actor: User, region: Region | None, **kw: Any) -> Need:
    fields: dict[str, Any] = {
        "title": f"测试需求{next(_n)}",
        "category": Category.ELDERLY,
        "source_kind": NeedSource.VISIT,
        "region_id": region.pk if region is not None else None,
        "beneficiaries": 1,
    }
    fields.update(kw)
    return need_create(actor=actor, **fields)


def make_org(actor: User, region: Region, *, kind: str = OrgKind.SOCIAL_ORG, **kw: Any) -> Organisation:
    return organisation_create(
        actor=actor, name=kw.pop("name", f"测试组织{next(_n)}"), kind=kind, region_id=region.pk, **kw
    )


def make_resource(
    actor: User,
    region: Region,
    *,
    organisation: Organisation | None = None,
    category: str = Category.ELDERLY,
    capacity: int = 5,
    **kw: Any,
) -> Resource:
    fields: dict[str, Any] = {
        "name": f"测试资源{next(_n)}",
        "kind": ResourceKind.SERVICES,
        "category": category,
        "region_id": region.pk,
        "capacity": capacity,
    }
    if organisation is not None:
        fields |= {"provider_kind": ProviderKind.ORGANISATION, "organisation_id": organisation.pk}
    else:
        fields |= {"provider_kind": ProviderKind.VOLUNTEERS, "provider_name": "测试志愿服务队"}
    fields.update(kw)
    return resource_create(actor=actor, **fields)


def make_project(actor: User, community: Region, needs: list[Need], **kw: Any) -> Project:
    fields: dict[str, Any] = {
        "title": f"测试项目{next(_n)}",
        "summary": "为小区老人提供助餐服务",
        "category": Category.ELDERLY,
        "community_id": community.pk,
        "need_ids": [n.pk for n in needs],
    }
    fields.update(kw)
    return project_create(actor=actor, **fields)


def make_team(actor: User, community: Region, *, members: int = 1) -> tuple[Any, Any]:
    """A registered volunteer team of the community (linli.party) and its first member: a team's members
    serve on projects that use its resources. ``actor`` needs ``party.manage`` there (a secretary)."""
    from linli.party.services import team_create, team_member_add, volunteer_register

    n = next(_n)
    team = team_create(actor=actor, community_id=community.pk, name=f"测试志愿服务队{n}")
    volunteers = [
        volunteer_register(actor=actor, name=f"志愿者{n}{i}", community_id=community.pk, phone="")
        for i in range(members)
    ]
    for v in volunteers:
        team_member_add(actor=actor, team_id=team.pk, volunteer_id=v.pk)
    return team, volunteers[0]


def force_need(need: Need, status: str) -> None:
    """Put a need in a state directly (tests only: the table test needs every state as a start)."""
    Need.objects.filter(pk=need.pk).update(status=status, status_category=NEED_CATEGORY[status])


def force_project(project: Project, status: str, org: Organisation | None = None) -> None:
    Project.objects.filter(pk=project.pk).update(
        status=status, status_category=PROJECT_CATEGORY[status], organisation=org
    )


def force_stage(org: Organisation, stage: str) -> None:
    Organisation.objects.filter(pk=org.pk).update(incubation_stage=stage)
