from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytest_django.fixtures import Settings

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.party.models import OrgKind, PartyOrg
from linli.party.services import party_org_create
from linli.places.tests.factories import SmallDistrict


@pytest.fixture(autouse=True)
def _party_env(settings: Settings) -> None:
    # The world has ~20 staff users: the real password hasher would cost seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class People:
    """The users the party tests need (lighter than the cases world: setup time counts)."""

    d: SmallDistrict
    secretary0: User  # community 0 (street 0): party.manage
    secretary2: User  # community 2 (street 1)
    back_office0: User  # community 0: party.view only
    window0: User  # community 0: no party capability
    street0: User  # street 0: party.view
    district_staff: User  # party.view over the district, no manage
    grid0: User  # grid worker of grid 0
    resident: User


def people_build(d: SmallDistrict) -> People:
    return People(
        d=d,
        secretary0=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=0),
        secretary2=staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=2),
        back_office0=staff_with_role(Role.BACK_OFFICE, district=d, index=0),
        window0=staff_with_role(Role.WINDOW_STAFF, district=d, index=0),
        street0=staff_with_role(Role.STREET_STAFF, district=d, index=0),
        district_staff=staff_with_role(Role.DISTRICT_STAFF, district=d, index=0),
        grid0=staff_with_role(Role.GRID_WORKER, district=d, index=0),
        resident=ResidentFactory(),
    )


@dataclass
class PartyWorld:
    w: People
    committee: PartyOrg  # 社区党委 of community 0
    branch: PartyOrg  # 小区党支部 of estate 0
    group: PartyOrg  # 楼栋党小组 of building 0
    committee2: PartyOrg  # 社区党委 of community 2 (another street)
    member_user: User  # an in-service party member living in community 0 (a resident account)


@pytest.fixture
def pw(small_district: SmallDistrict) -> PartyWorld:
    w = people_build(small_district)
    d = w.d
    committee = party_org_create(
        actor=None, kind=OrgKind.COMMITTEE, name="测试社区00党委", region_id=d.communities[0].pk
    )
    branch = party_org_create(
        actor=None,
        kind=OrgKind.BRANCH,
        name="测试小区000党支部",
        region_id=d.estates[0].pk,
        parent_id=committee.pk,
    )
    group = party_org_create(
        actor=None, kind=OrgKind.GROUP, name="1栋党小组", region_id=d.buildings[0].pk, parent_id=branch.pk
    )
    committee2 = party_org_create(
        actor=None, kind=OrgKind.COMMITTEE, name="测试社区10党委", region_id=d.communities[2].pk
    )
    return PartyWorld(
        w=w,
        committee=committee,
        branch=branch,
        group=group,
        committee2=committee2,
        member_user=ResidentFactory(display_name="李卫东"),
    )
