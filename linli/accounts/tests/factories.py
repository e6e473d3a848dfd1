"""Users and memberships for tests: one user per role, anchored in a SmallDistrict."""

from __future__ import annotations

import factory

from linli.accounts.models import Unit, UnitKind, User, UserKind
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.places.tests.factories import SmallDistrict

PASSWORD = "test-pass-9481"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    kind = UserKind.STAFF
    password = factory.django.Password(PASSWORD)


class ResidentFactory(UserFactory):
    kind = UserKind.RESIDENT
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = factory.django.Password(None)


def staff_with_role(
    role: str, *, district: SmallDistrict, index: int = 0, username: str | None = None
) -> User:
    """A staff user holding ``role`` anchored at the index-th grid / community / street, as the role needs."""
    user = UserFactory(username=username or f"{role}{index}")
    if role == Role.GRID_WORKER:
        membership_grant(user=user, role=role, grid_id=district.grids[index].id)
    elif role in {Role.RED_STEWARD}:
        membership_grant(user=user, role=role, region_id=district.estates[index].id)
    elif role in {Role.WINDOW_STAFF, Role.BACK_OFFICE, Role.COMMUNITY_SECRETARY}:
        membership_grant(user=user, role=role, region_id=district.communities[index].id)
    elif role == Role.STREET_STAFF:
        membership_grant(user=user, role=role, region_id=district.streets[index].id)
    elif role in {Role.DISTRICT_STAFF, Role.AUDITOR}:
        membership_grant(user=user, role=role, region_id=district.district.id)
    elif role == Role.UNIT_HANDLER:
        unit, _ = Unit.objects.get_or_create(
            region=district.communities[index],
            name=f"测试物业{index}",
            defaults={"kind": UnitKind.PROPERTY, "region_path": district.communities[index].path},
        )
        membership_grant(user=user, role=role, unit_id=unit.id)
    elif role in {Role.ADMIN, Role.SECURITY_ADMIN}:
        membership_grant(user=user, role=role)
    return user
