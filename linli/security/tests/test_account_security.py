"""The security admin's screen (MANAGE_SECURITY): find a staff account, reset its authenticator, lift its
lockout — each with a reason and one audit row; every other role, the system admin and superusers
included, gets 404 (AC-5). The break-glass command does the same from a shell."""

from __future__ import annotations

from typing import Any

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import ApiToken, User
from linli.accounts.roles import Role
from linli.accounts.services import api_token_create
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory, staff_with_role
from linli.core.navigation import WORKBENCH, nav_links
from linli.places.tests.factories import SmallDistrict
from linli.security.models import AuditEvent, AuditResult
from linli.security.signin import backup_codes_issue

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
ACCOUNTS = "/security/accounts/"
REASON = "本人手机丢失,已当面核实身份,电话 13912345678"


def detail(user: User) -> str:
    return reverse("security:account", args=[user.pk])


def otp_reset_url(user: User) -> str:
    return reverse("security:account_otp_reset", args=[user.pk])


def unlock_url(user: User) -> str:
    return reverse("security:account_unlock", args=[user.pk])


@pytest.fixture
def security_admin(small_district: SmallDistrict) -> User:
    return staff_with_role(Role.SECURITY_ADMIN, district=small_district, username="anquan")


@pytest.fixture
def sec_client(security_admin: User) -> Client:
    client = Client()
    client.force_login(security_admin)
    return client


@pytest.fixture
def worker(small_district: SmallDistrict) -> User:
    user = staff_with_role(Role.GRID_WORKER, district=small_district, username="wangwu")
    User.objects.filter(pk=user.pk).update(display_name="王五")
    user.refresh_from_db()
    return user


def enrol(user: User) -> list[str]:
    TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)
    return backup_codes_issue(user)


def lock_out(client: Client, user: User, ip: str = "10.0.0.7") -> None:
    for _ in range(5):
        client.post(
            "/accounts/login/", {"username": user.username, "password": "wrong-Pass-1"}, REMOTE_ADDR=ip
        )


def rows(action: str, result: str | None = None) -> list[AuditEvent]:
    found = AuditEvent.objects.filter(action=action)
    return list(found.filter(result=result) if result else found)


def test_the_urls_live_in_the_security_namespace() -> None:
    assert reverse("security:accounts") == ACCOUNTS
    assert reverse("security:account_unlock", args=[7]) == "/security/accounts/7/unlock/"


# --- who may use it -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "role",
    [
        Role.ADMIN,
        Role.AUDITOR,
        Role.GRID_WORKER,
        Role.COMMUNITY_SECRETARY,
        Role.DISTRICT_STAFF,
        Role.UNIT_HANDLER,
    ],
)
def test_every_other_role_gets_404_changes_nothing_and_the_attempts_are_audited(
    small_district: SmallDistrict, worker: User, role: str
) -> None:
    enrol(worker)
    client = Client()
    client.force_login(staff_with_role(role, district=small_district, index=1, username=f"x-{role}"))

    answers = [
        client.get(ACCOUNTS),
        client.get(ACCOUNTS, {"q": "wang"}),
        client.get(detail(worker)),
        client.post(otp_reset_url(worker), {"otp-reason": REASON}),
        client.post(unlock_url(worker), {"unlock-reason": REASON}),
    ]

    assert [a.status_code for a in answers] == [404] * 5
    assert (
        TOTPDevice.objects.filter(user=worker).exists() and StaticDevice.objects.filter(user=worker).exists()
    )
    assert (
        AuditEvent.objects.filter(action="access.denied", data__reason="security_manage_forbidden").count()
        == 5
    )
    assert not rows("security.otp_reset") and not rows("security.unlock")


def test_a_superuser_system_admin_gets_404_too(db: None) -> None:
    # The system admin's duty excludes the security admin's (AC-5): no capability comes with is_superuser.
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(ACCOUNTS).status_code == 404


def test_a_resident_gets_404_and_anonymous_is_sent_to_sign_in(db: None) -> None:
    resident = Client()
    resident.force_login(ResidentFactory())
    assert resident.get(ACCOUNTS).status_code == 404
    anonymous = Client().get(ACCOUNTS)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_only_the_security_admin_sees_the_menu_entry(
    security_admin: User, small_district: SmallDistrict
) -> None:
    def keys(user: User) -> set[str]:
        return {link.key for link in nav_links(WORKBENCH, user)}

    assert "account_security" in keys(security_admin)
    assert "account_security" not in keys(staff_with_role(Role.ADMIN, district=small_district))


# --- finding an account -------------------------------------------------------------------------------
def test_search_finds_staff_by_account_or_name_masked_and_never_residents(
    sec_client: Client, worker: User
) -> None:
    ResidentFactory(username="wangresident", display_name="王居民")

    by_name = sec_client.get(ACCOUNTS, {"q": "王"})
    by_account = sec_client.get(ACCOUNTS, {"q": "WANG"})

    for page in (by_name, by_account):
        body = page.content.decode()
        assert page.status_code == 200 and page["Cache-Control"] == "no-store"
        assert "wangwu" in body and "王*" in body and "王五" not in body  # names masked (PI-2)
        assert "wangresident" not in body


def test_locked_accounts_are_listed_on_the_landing_page(sec_client: Client, worker: User) -> None:
    lock_out(Client(), worker)
    body = sec_client.get(ACCOUNTS).content.decode()
    assert "wangwu" in body.split("当前被锁定的账号")[1]


def test_a_resident_account_has_no_security_page(sec_client: Client, db: None) -> None:
    resident = ResidentFactory()
    assert sec_client.get(detail(resident)).status_code == 404
    assert sec_client.post(otp_reset_url(resident), {"otp-reason": REASON}).status_code == 404


# --- resetting the authenticator ----------------------------------------------------------------------
def test_resetting_the_authenticator_deletes_devices_and_codes_revokes_tokens_and_is_audited_once(
    sec_client: Client, security_admin: User, worker: User
) -> None:
    enrol(worker)
    api_token_create(user=worker, name="phone")
    page = sec_client.get(detail(worker)).content.decode()
    assert "已绑定" in page and "剩余备用码" in page

    answer = sec_client.post(otp_reset_url(worker), {"otp-reason": REASON})

    assert answer.status_code == 302 and answer["Location"] == detail(worker)
    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert not StaticDevice.objects.filter(user=worker).exists() and not StaticToken.objects.exists()
    assert not ApiToken.objects.filter(user=worker, revoked_at__isnull=True).exists()
    [row] = rows("security.otp_reset")
    assert (row.result, row.actor_id, row.object_type, row.object_id) == (
        AuditResult.OK,
        security_admin.pk,
        "accounts.user",
        str(worker.pk),
    )
    assert row.data["via"] == "screen" and row.data["api_tokens_revoked"] == 1
    assert "13912345678" not in row.data["reason"] and "手机丢失" in row.data["reason"]
    assert "下次登录时须重新绑定" in sec_client.get(detail(worker)).content.decode()


def test_an_action_without_a_reason_is_refused_and_changes_nothing(sec_client: Client, worker: User) -> None:
    enrol(worker)
    answer = sec_client.post(otp_reset_url(worker), {"otp-reason": "   "})
    assert answer.status_code == 400 and "请填写操作理由" in answer.content.decode()
    assert TOTPDevice.objects.filter(user=worker).exists()
    assert not rows("security.otp_reset")


def test_the_security_admin_cannot_act_on_their_own_account(sec_client: Client, security_admin: User) -> None:
    enrol(security_admin)
    answer = sec_client.post(otp_reset_url(security_admin), {"otp-reason": REASON})
    assert answer.status_code == 403 and "不能处理自己的账号" in answer.content.decode()
    assert TOTPDevice.objects.filter(user=security_admin).exists()
    [row] = rows("security.otp_reset")
    assert row.result == AuditResult.DENIED and row.data["code"] == "self_action"


def test_after_a_reset_the_next_sign_in_enrols_again_and_a_verified_session_is_signed_out(
    sec_client: Client, worker: User, settings: Any
) -> None:
    from django_otp.oath import totp

    settings.LINLI_REQUIRE_STAFF_OTP = True
    device = TOTPDevice.objects.create(user=worker, name="authenticator", confirmed=True)
    old_session = Client()
    old_session.post("/accounts/login/", {"username": worker.username, "password": PASSWORD})
    code = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
    assert old_session.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302
    assert old_session.get("/").status_code == 200
    settings.LINLI_REQUIRE_STAFF_OTP = False  # the security admin's test session has no second factor
    sec_client.post(otp_reset_url(worker), {"otp-reason": REASON})
    settings.LINLI_REQUIRE_STAFF_OTP = True

    # The session that had passed the second factor is signed out, not offered a new authenticator.
    out = old_session.get("/")
    assert out.status_code == 302 and out["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in old_session.session
    assert AuditEvent.objects.filter(action="auth.logout", data__reason="otp_reset").count() == 1
    # The next password sign-in enrols a new authenticator.
    fresh = Client()
    answer = fresh.post("/accounts/login/", {"username": worker.username, "password": PASSWORD})
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("accounts:otp_setup"))


# --- lifting a lockout --------------------------------------------------------------------------------
def test_unlocking_lifts_the_lockout_from_every_ip_and_is_audited_once(
    sec_client: Client, security_admin: User, worker: User
) -> None:
    lock_out(Client(), worker, ip="10.0.0.7")
    lock_out(Client(), worker, ip="10.0.0.8")
    locked = Client().post(
        "/accounts/login/", {"username": worker.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert locked.status_code == 429
    assert "已锁定(2 个来源IP)" in sec_client.get(detail(worker)).content.decode()

    answer = sec_client.post(unlock_url(worker), {"unlock-reason": "本人来电确认忘记密码"})

    assert answer.status_code == 302
    assert not AccessAttempt.objects.filter(username=worker.username).exists()
    again = Client().post(
        "/accounts/login/", {"username": worker.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7"
    )
    assert again.status_code == 302
    [row] = rows("security.unlock")
    assert (row.result, row.actor_id, row.object_id, row.data["records_cleared"]) == (
        AuditResult.OK,
        security_admin.pk,
        str(worker.pk),
        2,
    )


def test_only_post_changes_anything(sec_client: Client, worker: User) -> None:
    enrol(worker)
    assert sec_client.get(otp_reset_url(worker)).status_code == 405
    assert sec_client.get(unlock_url(worker)).status_code == 405
    assert TOTPDevice.objects.filter(user=worker).exists()


# --- the break-glass command --------------------------------------------------------------------------
def test_the_command_resets_and_unlocks_with_a_reason_and_is_audited(worker: User) -> None:
    enrol(worker)
    lock_out(Client(), worker)

    call_command(
        "linli_account_security",
        worker.username,
        "--reset-otp",
        "--unlock",
        "--reason",
        "唯一的安全管理员手机丢失",
    )

    assert not TOTPDevice.objects.filter(user=worker).exists()
    assert not AccessAttempt.objects.filter(username=worker.username).exists()
    for action in ("security.otp_reset", "security.unlock"):
        [row] = rows(action)
        assert row.actor_id is None and row.data["via"] == "command" and row.data["operator"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--reset-otp"], "请填写操作理由"),
        (["--reason", "x"], "--reset-otp 或 --unlock"),
    ],
)
def test_the_command_refuses_without_an_action_or_a_reason(
    worker: User, argv: list[str], message: str
) -> None:
    enrol(worker)
    with pytest.raises(CommandError, match=message):
        call_command("linli_account_security", worker.username, *argv)
    assert TOTPDevice.objects.filter(user=worker).exists() and not rows("security.otp_reset")


def test_the_command_refuses_unknown_and_resident_accounts(db: None) -> None:
    with pytest.raises(CommandError, match="没有账号"):
        call_command("linli_account_security", "nobody", "--unlock", "--reason", "x")
    resident = ResidentFactory()
    with pytest.raises(CommandError, match="只能处理工作人员账号"):
        call_command("linli_account_security", resident.username, "--unlock", "--reason", "x")


# --- the Django admin is not a second way in ----------------------------------------------------------
def test_the_admin_has_no_authenticator_pages_and_lockout_records_are_read_only(worker: User) -> None:
    assert not admin.site.is_registered(TOTPDevice) and not admin.site.is_registered(StaticDevice)
    lock_out(Client(), worker)
    root = Client()
    root.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    attempt = AccessAttempt.objects.get(username=worker.username)

    assert root.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk])).status_code == 200
    assert (
        root.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}).status_code
        == 403
    )
    assert AccessAttempt.objects.filter(pk=attempt.pk).exists()
