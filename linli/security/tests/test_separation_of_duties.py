"""Separation of duties (AC-5): system admin, security admin and auditor are three different people."""

from __future__ import annotations

import threading
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from linli.accounts.forms import MembershipAdminForm
from linli.accounts.models import Membership, User
from linli.accounts.roles import ROLE_CAPABILITIES, ROLE_SCOPE_KIND, Capability, Role, ScopeKind
from linli.accounts.services import AccountError, membership_grant
from linli.accounts.tests.factories import UserFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict
from linli.security.duties import duty_violations
from linli.security.models import AuditEvent, AuditResult

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


# --- the admin's user page: the superuser flag and the membership rows, checked as a whole -------------
class _FormFields(HTMLParser):
    """The values a browser would submit for one form of an admin page (inputs, selects, textareas)."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.select, self.textarea = form_id, False, "", ""
        self.data: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or not a.get("name") or "disabled" in a:
            if tag == "option" and self.select and "selected" in a:
                self.data.setdefault(self.select, []).append(a.get("value", ""))
            return
        if tag == "input" and a.get("type") not in {"submit", "button", "checkbox", "radio", "file"}:
            self.data.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "input" and "checked" in a:
            self.data.setdefault(a["name"], []).append(a.get("value", "on"))
        elif tag == "select":
            self.select = a["name"]
            self.data.setdefault(self.select, [])
        elif tag == "textarea":
            self.textarea = a["name"]
            self.data[self.textarea] = [""]

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self.select = ""
        elif tag == "textarea":
            self.textarea = ""
        elif tag == "form":
            self.inside = False

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea][-1] += data


def user_page(client: Client, user: User) -> dict[str, Any]:
    """The user's admin change page as the browser would post it back unchanged."""
    page = client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert page.status_code == 200
    parser = _FormFields("user_form")
    parser.feed(page.content.decode())
    return {k: v if len(v) != 1 else v[0] for k, v in parser.data.items() if k != "password"}


def add_rows(data: dict[str, Any], *rows: dict[str, Any]) -> dict[str, Any]:
    start = int(data["memberships-TOTAL_FORMS"])
    for i, row in enumerate(rows, start=start):
        data.update({f"memberships-{i}-{k}": v for k, v in {"is_active": "on", **row}.items()})
    data["memberships-TOTAL_FORMS"] = str(start + len(rows))
    return data


@pytest.fixture
def admin_client(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def refused(response: Any) -> str:
    assert response.status_code == 200, f"saved ({response.status_code}) instead of refused"
    body = response.content.decode()
    assert "三员分立" in body
    return body


def denied_rows() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="role.grant", result=AuditResult.DENIED))


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SECURITY_ADMIN])
def test_ticking_superuser_on_an_auditor_or_security_admin_is_refused_in_the_admin(
    admin_client: Client, small_district: SmallDistrict, role: str
) -> None:
    person = staff_with_role(role, district=small_district, username="duty")
    data = user_page(admin_client, person)

    body = refused(
        admin_client.post(
            reverse("admin:accounts_user_change", args=[person.pk]), {**data, "is_superuser": "on"}
        )
    )

    assert "不能设为超级用户" in body
    person.refresh_from_db()
    assert not person.is_superuser and duty_violations() == []
    [row] = denied_rows()
    assert (row.object_id, row.data["via"], row.data["refused"]) == (str(person.pk), "admin", ["memberships"])


def test_an_auditor_becomes_a_system_admin_in_one_save_by_switching_the_role_off_and_ticking_the_flag(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    person = staff_with_role(Role.AUDITOR, district=small_district)
    data = user_page(admin_client, person)
    data.pop("memberships-0-is_active")  # the auditor's row switched off (an unticked box is not sent)

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[person.pk]), {**data, "is_superuser": "on"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.is_superuser and not person.memberships.filter(is_active=True).exists()
    assert duty_violations() == [] and denied_rows() == []


def test_ticking_superuser_on_an_ordinary_staff_account_is_saved(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    person = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    data = user_page(admin_client, person)

    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[person.pk]), {**data, "is_superuser": "on"}
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    assert person.is_superuser and denied_rows() == []


def test_two_duties_added_in_one_save_of_the_inline_rows_are_refused(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    person = UserFactory(username="both")
    auditor_row = {"role": Role.AUDITOR, "region": small_district.district.pk}
    data = add_rows(user_page(admin_client, person), {"role": Role.ADMIN}, auditor_row)

    body = refused(admin_client.post(reverse("admin:accounts_user_change", args=[person.pk]), data))

    assert "同时是" in body and "系统管理员" in body and "审计员" in body
    assert not Membership.objects.filter(user=person).exists()
    assert [r.data["refused"] for r in denied_rows()] == [["memberships"]]


def test_a_duty_row_added_with_the_superuser_flag_in_one_save_is_refused(admin_client: Client) -> None:
    person = UserFactory(username="flag")
    data = add_rows(user_page(admin_client, person), {"role": Role.SECURITY_ADMIN})

    refused(
        admin_client.post(
            reverse("admin:accounts_user_change", args=[person.pk]), {**data, "is_superuser": "on"}
        )
    )

    person.refresh_from_db()
    assert not person.is_superuser and not Membership.objects.filter(user=person).exists()


def test_a_second_duty_row_on_an_auditor_is_refused_and_a_plain_role_is_not(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    person = staff_with_role(Role.AUDITOR, district=small_district)
    url = reverse("admin:accounts_user_change", args=[person.pk])

    refused(admin_client.post(url, add_rows(user_page(admin_client, person), {"role": Role.ADMIN})))
    district_row = {"role": Role.DISTRICT_STAFF, "region": small_district.district.pk}
    saved = admin_client.post(url, add_rows(user_page(admin_client, person), district_row))

    assert saved.status_code == 302, saved.content.decode()[:2000]
    assert sorted(person.memberships.values_list("role", flat=True)) == [Role.AUDITOR, Role.DISTRICT_STAFF]


def test_swapping_one_duty_for_another_in_one_save_is_allowed(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    person = staff_with_role(Role.AUDITOR, district=small_district)
    data = user_page(admin_client, person)
    data.pop("memberships-0-is_active")  # the auditor's row switched off (an unticked box is not sent) ...
    add_rows(data, {"role": Role.SECURITY_ADMIN})  # ... and the security admin's added, in one save

    response = admin_client.post(reverse("admin:accounts_user_change", args=[person.pk]), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    assert duty_violations() == []
    assert set(person.memberships.filter(is_active=True).values_list("role", flat=True)) == {
        Role.SECURITY_ADMIN
    }


def test_a_new_user_added_with_two_duties_is_refused(admin_client: Client) -> None:
    from linli.accounts.tests.factories import PASSWORD

    page = admin_client.get(reverse("admin:accounts_user_add"))
    parser = _FormFields("user_form")
    parser.feed(page.content.decode())
    data = {k: v if len(v) != 1 else v[0] for k, v in parser.data.items()}
    data.update({"username": "newbie", "password1": PASSWORD + "Aa!", "password2": PASSWORD + "Aa!"})
    add_rows(data, {"role": Role.ADMIN}, {"role": Role.SECURITY_ADMIN})

    refused(admin_client.post(reverse("admin:accounts_user_add"), data))

    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("page", ["membership", "user"])
def test_an_admin_save_waits_for_a_concurrent_grant_and_then_refuses_the_second_duty(page: str) -> None:
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite's IMMEDIATE transactions queue every writer at BEGIN; the row lock is PostgreSQL's"
        )
    # given an account, and a grant of the security-admin role holding its row lock in another connection
    person = UserFactory(username="racer")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    locked, release = threading.Event(), threading.Event()

    def grant_auditor() -> None:
        try:
            with transaction.atomic():
                User.objects.select_for_update().get(pk=person.pk)
                Membership.objects.create(user=person, role=Role.SECURITY_ADMIN, is_active=True)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=grant_auditor)
    other.start()
    assert locked.wait(10)
    client = Client()
    client.force_login(root)
    data = user_page(client, person) if page == "user" else {}
    # when the admin grants the system-admin duty meanwhile (the save has to wait for the lock)
    threading.Timer(0.5, release.set).start()
    if page == "user":
        response = client.post(
            reverse("admin:accounts_user_change", args=[person.pk]), {**data, "is_superuser": "on"}
        )
    else:
        response = client.post(
            reverse("admin:accounts_membership_add"),
            {"user": person.pk, "role": Role.ADMIN, "is_active": "on"},
        )
    other.join(10)
    # then it saw the security-admin role once the other grant committed, and refused
    refused(response)
    person.refresh_from_db()
    assert not person.is_superuser
    assert not Membership.objects.filter(user=person, role=Role.ADMIN).exists()
    assert duty_violations() == []
