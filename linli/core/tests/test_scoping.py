"""QUALITY AC-2: "may view" ⇔ "is in ``Model.objects.for_user(user)``", with 0 disagreements, for
generated users (every role anchored at every kind of place, several memberships, inactive memberships,
inactive users, anonymous) and every Region, Grid and Unit.

Both sides are the implementation, so a third opinion is written here from first principles: walk the
object's ancestors through the ``parent`` foreign keys (never the materialised paths the implementation
filters on) and compare them with the anchors of the user's active memberships that carry the model's
capability; a grid anchor sees its grid and the buildings assigned to it; a unit anchor sees its unit;
the global anchor sees everything.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import models

from linli.accounts.models import Membership, Unit, UnitKind, User
from linli.accounts.roles import ROLE_CAPABILITIES, ROLE_SCOPE_KIND, Role, ScopeKind
from linli.accounts.services import AccountError, membership_grant, membership_revoke
from linli.accounts.tests.factories import ResidentFactory, UserFactory
from linli.core.scoping import may_view
from linli.places.models import Grid, Region
from linli.places.tests.factories import SmallDistrict

SCOPED_MODELS: list[type[models.Model]] = [Region, Grid, Unit]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- the independent oracle ---------------------------------------------------------------------


def ancestors_or_self(region: Region | None, regions: dict[int, Region]) -> set[int]:
    out: set[int] = set()
    while region is not None:
        out.add(region.id)
        region = regions.get(region.parent_id) if region.parent_id else None
    return out


def oracle_may_view(
    user: Any, memberships: list[Membership], obj: models.Model, regions: dict[int, Region]
) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    capability = type(obj).scope.capability  # type: ignore[attr-defined]
    if isinstance(obj, Region):
        places = ancestors_or_self(obj, regions)
    elif isinstance(obj, Grid):
        places = ancestors_or_self(regions[obj.community_id], regions)
    else:
        assert isinstance(obj, Unit)
        places = ancestors_or_self(regions[obj.region_id], regions)
    for m in memberships:
        if not m.is_active or capability not in ROLE_CAPABILITIES[m.role]:
            continue
        if ROLE_SCOPE_KIND[m.role] == ScopeKind.GLOBAL:
            return True
        if m.region_id is not None and m.region_id in places:
            return True
        if m.grid_id is not None and (
            (isinstance(obj, Grid) and obj.id == m.grid_id)
            or (isinstance(obj, Region) and obj.grid_id == m.grid_id)
        ):
            return True
        if m.unit_id is not None and isinstance(obj, Unit) and obj.id == m.unit_id:
            return True
    return False


# --- generated users ----------------------------------------------------------------------------


def make_units(d: SmallDistrict) -> list[Unit]:
    """A district department, a street office and a property company in one community."""
    anchors = [(d.district, UnitKind.DEPARTMENT), (d.streets[1], UnitKind.UTILITY)]
    anchors.append((d.communities[2], UnitKind.PROPERTY))
    return [
        Unit.objects.create(name=f"单位{n}", kind=kind, region=region, region_path=region.path)
        for n, (region, kind) in enumerate(anchors)
    ]


def anchors_for(role: str, d: SmallDistrict, units: list[Unit]) -> list[dict[str, int]]:
    kind = ROLE_SCOPE_KIND[role]
    if kind == ScopeKind.GLOBAL:
        return [{}]
    if kind == ScopeKind.GRID:
        return [{"grid_id": g.id} for g in d.grids]
    if kind == ScopeKind.UNIT:
        return [{"unit_id": u.id} for u in units]
    # Region roles at every level, whether or not the role is usually anchored there: the rule must hold.
    places = [d.district, *d.streets, *d.communities, d.estates[0], d.estates[5], d.buildings[3]]
    return [{"region_id": r.id} for r in places]


def user_for(role: str) -> User:
    # No password: hashing one per generated user would dominate the test's time.
    if role == Role.RESIDENT:
        return ResidentFactory()
    return UserFactory(password=None)


def generated_users(d: SmallDistrict, units: list[Unit]) -> list[Any]:
    users: list[Any] = [None, AnonymousUser()]
    # Every role at every anchor its kind allows.
    for role in Role.values:
        for anchor in anchors_for(role, d, units):
            user = user_for(role)
            membership_grant(user=user, role=role, **anchor)
            users.append(user)
    rng = random.Random(2024)
    staff_roles = [r for r in Role.values if r != Role.RESIDENT]
    # Several memberships each, some of them revoked; some whole accounts disabled.
    for n in range(40):
        user = UserFactory(is_active=n % 8 != 7, password=None)
        for _ in range(rng.randint(1, 4)):
            role = rng.choice(staff_roles)
            try:
                membership = membership_grant(user=user, role=role, **rng.choice(anchors_for(role, d, units)))
            except AccountError as exc:  # separation of duties refuses some pairs (AC-5): also a rule
                assert exc.code == "duty_conflict"
                continue
            if rng.random() < 0.3:
                membership_revoke(membership=membership)
        users.append(user)
    # A staff account with no role at all and a resident without the resident membership.
    users += [UserFactory(password=None), ResidentFactory()]
    return users


def fresh(user: Any) -> Any:
    """What the next request sees: a newly loaded user (the scope memo lives on the user object)."""
    if user is None or not getattr(user, "pk", None):
        return user
    return User.objects.get(pk=user.pk)


@pytest.fixture
def world(small_district: SmallDistrict) -> tuple[list[Any], dict[type[models.Model], list[Any]]]:
    units = make_units(small_district)
    users = generated_users(small_district, units)
    objects: dict[type[models.Model], list[Any]] = {
        Region: list(Region.objects.all()),
        Grid: list(Grid.objects.all()),
        Unit: list(Unit.objects.all()),
    }
    return users, objects


def test_may_view_equals_for_user_equals_the_oracle_for_every_user_and_object(
    world: tuple[list[Any], dict[type[models.Model], list[Any]]],
) -> None:
    users, objects = world
    regions = {r.id: r for r in objects[Region]}
    disagreements: list[str] = []
    checked = 0
    seen_some = seen_none = False
    for user in users:
        user = fresh(user)
        # A fresh read of all the user's memberships (active or not), not the request's memo.
        memberships = list(Membership.objects.filter(user_id=user.pk)) if user is not None else []
        for model in SCOPED_MODELS:
            listed = set(model.objects.for_user(user).values_list("pk", flat=True))  # type: ignore[attr-defined]
            for obj in objects[model]:
                checked += 1
                views = may_view(user, obj)
                oracle = oracle_may_view(user, memberships, obj, regions)
                if not (views == (obj.pk in listed) == oracle):
                    disagreements.append(
                        f"{user!r} {model.__name__} {obj}: may_view={views} "
                        f"for_user={obj.pk in listed} oracle={oracle}"
                    )
                seen_some |= oracle
                seen_none |= not oracle
    assert disagreements == [], f"{len(disagreements)} of {checked}:\n" + "\n".join(disagreements[:20])
    assert checked > 5_000 and seen_some and seen_none


def test_a_grid_worker_sees_only_their_grid_and_its_buildings(small_district: SmallDistrict) -> None:
    user = UserFactory()
    mine = small_district.grids[2]
    membership_grant(user=user, role=Role.GRID_WORKER, grid_id=mine.id)
    assert list(Grid.objects.for_user(user)) == [mine]
    buildings = set(Region.objects.for_user(user))
    assert buildings == {b for b in small_district.buildings if b.grid_id == mine.id}
    assert len(buildings) == 2


def test_a_community_anchor_sees_its_subtree_but_not_its_neighbour(small_district: SmallDistrict) -> None:
    user = UserFactory()
    community = small_district.communities[1]
    membership_grant(user=user, role=Role.COMMUNITY_SECRETARY, region_id=community.id)
    visible = set(Region.objects.for_user(user))
    assert community in visible
    assert small_district.communities[0] not in visible
    assert small_district.streets[0] not in visible  # the parent is not part of the subtree
    assert {g.community_id for g in Grid.objects.for_user(user)} == {community.id}


def test_revoking_a_membership_takes_effect_on_the_next_load_of_the_user(
    small_district: SmallDistrict,
) -> None:
    user = UserFactory()
    grid = small_district.grids[0]
    membership = membership_grant(user=user, role=Role.GRID_WORKER, grid_id=grid.id)
    this_request = User.objects.get(pk=user.pk)
    assert may_view(this_request, grid)
    membership_revoke(membership=membership)
    # The scope is memoised per request (per user object); the next request loads the user again.
    assert not may_view(User.objects.get(pk=user.pk), grid)
    assert not Grid.objects.for_user(User.objects.get(pk=user.pk)).exists()


def test_a_disabled_account_sees_nothing(small_district: SmallDistrict) -> None:
    user = UserFactory(is_active=False)
    membership_grant(user=user, role=Role.DISTRICT_STAFF, region_id=small_district.district.id)
    assert not Region.objects.for_user(user).exists()
    assert not may_view(user, small_district.district)


def test_anonymous_and_none_see_nothing(small_district: SmallDistrict) -> None:
    for user in (None, AnonymousUser()):
        assert not Grid.objects.for_user(user).exists()
        assert not may_view(user, small_district.grids[0])
