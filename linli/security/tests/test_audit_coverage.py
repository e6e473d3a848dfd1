"""AUD-1: every login result, lockout, denial, role change, read of sensitive personal data, reveal, export,
import, delete and configuration change writes exactly one audit row, with UTC time, actor, role, IP,
object, action, result and request id. AUD-4: the run-wide log capture is in place."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.accounts.services import AccountError, membership_grant, membership_revoke
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory, staff_with_role
from linli.places.geojson_io import geojson_import
from linli.places.tests.factories import SmallDistrict
from linli.security.audit import audit_sensitive_read
from linli.security.audit_admin import AuditedAdminMixin
from linli.security.denials import ScopeDenied
from linli.security.logscan import pii_leaks
from linli.security.models import AuditEvent, AuditResult
from linli.security.reveal import pii_reveal
from linli.workdays.models import CalendarDay

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
REQUEST_ID = "req-coverage-0001"


def rows(action: str, result: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(action=action)
    return list(found.filter(result=result) if result else found)


def one(action: str, result: str | None = None) -> AuditEvent:
    found = rows(action, result)
    assert len(found) == 1, f"{action}: {len(found)} rows"
    return found[0]


def rows_of_request(request_id: str = REQUEST_ID) -> list[str]:
    return list(
        AuditEvent.objects.filter(request_id=request_id).order_by("seq").values_list("action", flat=True)
    )


@pytest.fixture
def superuser_client(db: None) -> Client:
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


# --- sign-in ---------------------------------------------------------------------------------------------
def test_a_successful_login_writes_exactly_one_row_with_every_field(db: None) -> None:
    staff = UserFactory(username="wangwu")
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)

    client.post("/accounts/login/", {"username": "wangwu", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7")

    row = one("auth.login", AuditResult.OK)
    assert (row.actor_id, row.actor_label, row.ip, row.request_id) == (
        staff.pk,
        "wangwu",
        "10.9.8.7",
        REQUEST_ID,
    )
    assert row.created_at.utcoffset() == timedelta(0)
    assert rows_of_request().count("auth.login") == 1


def test_a_failed_login_writes_exactly_one_row(db: None) -> None:
    UserFactory(username="wangwu")

    Client().post("/accounts/login/", {"username": "wangwu", "password": "wrong-Pass-1"})

    assert one("auth.login").result == AuditResult.FAILED


def test_a_lockout_writes_exactly_one_lockout_row(db: None) -> None:
    UserFactory(username="wangwu")
    client = Client()

    for _ in range(5):
        client.post("/accounts/login/", {"username": "wangwu", "password": "wrong-Pass-1"})

    assert one("auth.lockout").result == AuditResult.DENIED
    assert len(rows("auth.login", AuditResult.FAILED)) == 5


# --- denials ---------------------------------------------------------------------------------------------
def test_a_resident_on_a_staff_page_gets_404_and_one_denial_row(db: None) -> None:
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)
    client.force_login(ResidentFactory())

    assert client.get(reverse("security:audit")).status_code == 404

    row = one("access.denied")
    assert (row.result, row.data["status"], row.data["path"]) == ("denied", 404, "/security/audit/")
    assert rows_of_request() == ["access.denied"]


def test_permission_denied_in_the_admin_writes_one_denial_row(db: None) -> None:
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)
    client.force_login(UserFactory(is_staff=True))

    assert client.get(reverse("admin:workdays_calendarday_add")).status_code == 403

    assert one("access.denied").data["status"] == 403
    assert rows_of_request() == ["access.denied"]


def test_a_view_that_audits_its_own_refusal_is_not_audited_twice(db: None) -> None:
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="view_region"))
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)
    client.force_login(staff)

    assert client.get(reverse("admin:places_region_import_geojson")).status_code == 403

    assert rows_of_request() == ["data.import"]


def test_an_api_403_writes_one_denial_row(db: None, settings: Any) -> None:
    settings.LINLI_REQUIRE_STAFF_OTP = True
    UserFactory(username="wangwu")  # no authenticator bound yet

    response = Client(HTTP_X_REQUEST_ID=REQUEST_ID).post(
        "/api/accounts/token", {"username": "wangwu", "password": PASSWORD}, content_type="application/json"
    )

    assert response.status_code == 403
    assert one("access.denied").data["reason"] == "otp_enrolment_required"
    assert rows_of_request() == ["access.denied"]


def test_the_api_audits_a_scope_404_but_not_a_plain_one(db: None) -> None:
    from linli.api import _not_found

    request = RequestFactory().get("/api/cases/5")
    request.user = UserFactory()

    assert _not_found(request, Http404()).status_code == 404
    assert not rows("access.denied")
    assert _not_found(request, ScopeDenied(object_type="cases.case", object_id=5)).status_code == 404
    row = one("access.denied")
    assert (row.object_type, row.object_id, row.data["status"]) == ("cases.case", "5", 404)


# --- role changes ------------------------------------------------------------------------------------------
def test_granting_and_revoking_a_role_write_one_row_each(small_district: SmallDistrict) -> None:
    actor = staff_with_role(Role.ADMIN, district=small_district)
    person = UserFactory()

    membership = membership_grant(
        user=person, role=Role.GRID_WORKER, grid_id=small_district.grids[0].id, actor=actor
    )
    membership_grant(
        user=person, role=Role.GRID_WORKER, grid_id=small_district.grids[0].id, actor=actor
    )  # no change
    membership_revoke(membership=membership, actor=actor)
    membership_revoke(membership=membership, actor=actor)  # already revoked: no change

    grant = AuditEvent.objects.get(action="role.grant", object_id=str(membership.pk))
    revoke = one("role.revoke")
    assert (grant.actor_id, grant.object_type, grant.data["role"]) == (
        actor.pk,
        "accounts.membership",
        "grid_worker",
    )
    assert (revoke.object_id, revoke.data["user_id"]) == (str(membership.pk), person.pk)


def test_a_grant_refused_by_the_separation_of_duties_writes_one_denied_row(
    small_district: SmallDistrict,
) -> None:
    person = staff_with_role(Role.AUDITOR, district=small_district)

    with pytest.raises(AccountError):
        membership_grant(user=person, role=Role.ADMIN)

    assert one("role.grant", AuditResult.DENIED).data["code"] == "duty_conflict"


def test_a_role_granted_in_the_admin_writes_one_row(
    superuser_client: Client, small_district: SmallDistrict
) -> None:
    person = UserFactory()

    response = superuser_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": person.pk, "role": Role.GRID_WORKER, "grid": small_district.grids[1].pk, "is_active": "on"},
    )

    assert response.status_code == 302, response.content.decode()[:500]
    row = one("role.grant")
    assert (row.actor_label, row.object_id, row.data["via"]) == (
        "root",
        str(Membership.objects.get(user=person).pk),
        "admin",
    )
    assert rows_of_request() == ["role.grant"]


def test_memberships_edited_on_the_user_page_count_as_a_role_change(db: None) -> None:
    model_admin = admin.site._registry[User]
    request = RequestFactory().post("/admin/accounts/user/1/change/")
    request.user = UserFactory(is_staff=True, is_superuser=True)
    person = UserFactory()

    model_admin.log_change(request, person, [{"added": {"name": "角色授权", "object": "张三 网格员"}}])

    row = one("role.change")
    assert row.data["changes"] == [{"kind": "added", "inline": "角色授权"}]  # no object names (people)


# --- configuration changes and deletes in the admin -------------------------------------------------------------
def test_a_configuration_added_changed_and_deleted_in_the_admin_writes_one_row_each(
    superuser_client: Client,
) -> None:
    day = date(2031, 6, 3)
    add = superuser_client.post(
        reverse("admin:workdays_calendarday_add"),
        {"date": day.isoformat(), "kind": "rest_day", "name": "台风停工"},
    )
    assert add.status_code == 302
    row = CalendarDay.objects.get(date=day)
    change = superuser_client.post(
        reverse("admin:workdays_calendarday_change", args=[row.pk]), {"kind": "holiday", "name": "台风停工"}
    )
    assert change.status_code == 302
    delete = superuser_client.post(
        reverse("admin:workdays_calendarday_delete", args=[row.pk]), {"post": "yes"}
    )
    assert delete.status_code == 302

    assert [one(a).object_id for a in ("config.add", "config.change", "config.delete")] == [str(row.pk)] * 3
    assert one("config.change").data["changes"] == [{"kind": "changed", "fields": ["类型"]}]
    assert rows_of_request() == ["config.add", "config.change", "config.delete"]


def test_a_bulk_delete_in_the_admin_writes_one_row_per_object(superuser_client: Client) -> None:
    days = [CalendarDay.objects.create(date=date(2031, 7, d), kind="rest_day") for d in (1, 2)]

    superuser_client.post(
        reverse("admin:workdays_calendarday_changelist"),
        {"action": "delete_selected", "_selected_action": [d.pk for d in days], "post": "yes"},
    )

    assert sorted(r.object_id for r in rows("config.delete")) == sorted(str(d.pk) for d in days)


def test_every_registered_admin_is_audited() -> None:
    unaudited = [
        model._meta.label for model, model_admin in admin.site._registry.items()
        if not isinstance(model_admin, AuditedAdminMixin)
    ]  # fmt: skip
    assert unaudited == []


# --- personal data: read, reveal --------------------------------------------------------------------------------
def test_reading_and_revealing_personal_data_write_one_row_each(small_district: SmallDistrict) -> None:
    viewer = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    person = ResidentFactory(phone="13812345678")
    membership_grant(user=person, role=Role.RESIDENT, region_id=small_district.communities[0].id)

    audit_sensitive_read(
        viewer=viewer, obj=person, fields=["phone", "display_name"], purpose="回访 13812345678"
    )
    pii_reveal(viewer=viewer, obj=person, field="phone", reason="回访")

    read = one("pii.read")
    assert (read.object_type, read.object_id, read.data["fields"]) == (
        "accounts.user",
        str(person.pk),
        ["display_name", "phone"],
    )
    assert "13812345678" not in str(read.data)
    assert one("pii.reveal").result == AuditResult.OK


# --- import and export -----------------------------------------------------------------------------------------------
GEOJSON = """{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"level": "district",
"code": "D9", "name": "测试区", "parent_code": ""}, "geometry": {"type": "Polygon", "coordinates":
[[[104.0, 31.0], [104.1, 31.0], [104.1, 31.1], [104.0, 31.1], [104.0, 31.0]]]}}]}"""


def test_an_import_writes_one_row_and_a_dry_run_none(db: None) -> None:
    actor = UserFactory()

    geojson_import(data=GEOJSON, dry_run=True, actor=actor)
    assert not rows("data.import")
    result = geojson_import(data=GEOJSON, actor=actor)

    assert result.applied
    row = one("data.import")
    assert (row.result, row.actor_id, row.data["created"]) == ("ok", actor.pk, 1)


def test_an_audit_export_writes_one_row(small_district: SmallDistrict) -> None:
    client = Client(HTTP_X_REQUEST_ID=REQUEST_ID)
    client.force_login(staff_with_role(Role.AUDITOR, district=small_district))

    response = client.get(reverse("security:audit_export"), {"format": "csv", "action": "role.grant"})
    b"".join(response.streaming_content)  # type: ignore[attr-defined]

    row = one("audit.export")
    assert (row.data["format"], row.data["rows"], row.data["filters"]) == ("csv", 1, {"action": "role.grant"})
    assert rows_of_request() == ["audit.export"]


# --- AUD-4: logs -------------------------------------------------------------------------------------------------
def test_the_log_scan_finds_ids_and_phones_but_not_their_masked_forms() -> None:
    raw = "id 110105199003071239 phone +86 138-1234-5678, order 110105199003071230, x 13812345"
    masked = "id 110***********1239 phone 138****5678"

    assert pii_leaks(raw) == ["110105199003071239", "+86 138-1234-5678"]
    assert pii_leaks(masked) == []


def test_the_whole_run_is_logged_to_a_masked_capture_that_is_checked_at_the_end() -> None:
    from linli.security.logging import PiiMaskingFilter

    captures = [
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.FileHandler)
        and h.baseFilename.rsplit("/", 1)[-1].startswith("linli-test-log-")
    ]
    assert len(captures) == 1 and any(isinstance(f, PiiMaskingFilter) for f in captures[0].filters)
    logging.getLogger("linli.test").warning("caller phone %s, ID %s", "13812345678", "110105199003071239")
    for handler in captures:
        handler.flush()
        with open(handler.baseFilename, encoding="utf-8") as log:
            text = log.read()
        assert "138****5678" in text and pii_leaks(text) == []
