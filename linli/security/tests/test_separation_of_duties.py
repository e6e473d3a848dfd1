"""Separation of duties (AC-5): system admin, security admin and auditor are three different people."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from linli.accounts.forms import MembershipAdminForm
from linli.accounts.models import Membership, User
from linli.accounts.roles import ROLE_CAPABILITIES, ROLE_SCOPE_KIND, Capability, Role, ScopeKind
from linli.accounts.services import AccountError, membership_grant
from linli.accounts.tests.factories import UserFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict
from linli.security.duties import duty_violations

DUTY_ROLES = [Role.ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR]


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def grant(user: User, role: str, district: SmallDistrict) -> Membership:
    if ROLE_SCOPE_KIND[role] == ScopeKind.GLOBAL:
        return membership_grant(user=user, role=role)
    return membership_grant(user=user, role=role, region_id=district.district.id)


def test_the_security_admin_role_is_global_and_manages_security_only() -> None:
    assert ROLE_SCOPE_KIND[Role.SECURITY_ADMIN] == ScopeKind.GLOBAL
    caps = ROLE_CAPABILITIES[Role.SECURITY_ADMIN]
    assert Capability.MANAGE_SECURITY in caps
    assert not caps & {Capability.VIEW_PEOPLE, Capability.MANAGE_ACCOUNTS, Capability.VIEW_AUDIT}
    assert Capability.MANAGE_SECURITY not in ROLE_CAPABILITIES[Role.ADMIN] | ROLE_CAPABILITIES[Role.AUDITOR]


@pytest.mark.parametrize("held", DUTY_ROLES)
@pytest.mark.parametrize("adding", DUTY_ROLES)
def test_no_account_gets_a_second_duty(small_district: SmallDistrict, held: str, adding: str) -> None:
    user = staff_with_role(held, district=small_district)
    if held == adding:
        grant(user, adding, small_district)  # the same duty again is fine (idempotent)
        return
    with pytest.raises(AccountError) as exc:
        grant(user, adding, small_district)
    assert exc.value.code == "duty_conflict" and "三员分立" in exc.value.message
    assert not Membership.objects.filter(user=user, role=adding).exists()


def test_a_superuser_counts_as_system_admin(small_district: SmallDistrict) -> None:
    root = UserFactory(is_superuser=True, is_staff=True)
    for role in (Role.AUDITOR, Role.SECURITY_ADMIN):
        with pytest.raises(AccountError):
            grant(root, role, small_district)
    grant(root, Role.ADMIN, small_district)


def test_ordinary_roles_combine_freely_with_one_duty(small_district: SmallDistrict) -> None:
    auditor = staff_with_role(Role.AUDITOR, district=small_district)
    membership_grant(user=auditor, role=Role.DISTRICT_STAFF, region_id=small_district.district.id)
    assert auditor.memberships.count() == 2


def test_an_inactive_duty_does_not_block_another(small_district: SmallDistrict) -> None:
    user = staff_with_role(Role.AUDITOR, district=small_district)
    Membership.objects.filter(user=user).update(is_active=False)
    grant(user, Role.SECURITY_ADMIN, small_district)


def test_the_admin_form_refuses_a_second_duty(small_district: SmallDistrict) -> None:
    user = staff_with_role(Role.AUDITOR, district=small_district)
    form = MembershipAdminForm(data={"user": user.pk, "role": Role.ADMIN, "is_active": True})
    assert not form.is_valid()
    assert "三员分立" in str(form.errors)
    # Editing the auditor's own row to another duty replaces it: allowed.
    row = user.memberships.get()
    edit = MembershipAdminForm(
        data={"user": user.pk, "role": Role.SECURITY_ADMIN, "is_active": True}, instance=row
    )
    assert edit.is_valid(), edit.errors


def test_the_check_command_names_accounts_that_slipped_past(small_district: SmallDistrict) -> None:
    call_command("linli_check_duties")  # clean: passes
    auditor = staff_with_role(Role.AUDITOR, district=small_district, username="shenji")
    User.objects.filter(pk=auditor.pk).update(is_superuser=True)  # ticked in the admin's user form
    assert [v.username for v in duty_violations()] == ["shenji"]
    with pytest.raises(CommandError, match="1 个账号违反三员分立"):
        call_command("linli_check_duties")


def test_the_database_system_check_reports_violations(small_district: SmallDistrict) -> None:
    from django.core import checks

    auditor = staff_with_role(Role.AUDITOR, district=small_district, username="shenji2")
    User.objects.filter(pk=auditor.pk).update(is_superuser=True)
    messages = checks.run_checks(databases=["default"], tags=[checks.Tags.database])
    assert any(m.id == "linli_security.E101" and "shenji2" in m.msg for m in messages)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_grants_of_different_duties_let_exactly_one_through() -> None:
    from linli.core.tests.concurrency import run_in_threads
    from linli.places.tests.factories import build_small_district

    district = build_small_district()
    user = UserFactory(username="race")
    roles = iter([Role.ADMIN, Role.AUDITOR])
    pick = threading.Lock()
    mine = threading.local()

    def attempt() -> str:
        if not hasattr(mine, "role"):  # each thread keeps its role across the SQLite lock retries
            with pick:
                mine.role = next(roles)
        try:
            grant(user, mine.role, district)
        except AccountError as exc:
            return exc.code
        return "ok"

    assert sorted(run_in_threads(attempt, n=2)) == ["duty_conflict", "ok"]
    assert duty_violations() == []
