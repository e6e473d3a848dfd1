"""Sign-in: lockout per username + IP (AU-1), the staff second factor (AU-2), the password policy (AU-6)
and the first run without any default password (AC-6)."""

from __future__ import annotations

import os
from typing import Any, ClassVar

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from linli.accounts.models import Membership, PasswordHistory, User
from linli.accounts.roles import Role
from linli.accounts.services import sms_code_request
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory
from linli.security.models import AuditEvent, AuditResult

LOGIN = "/accounts/login/"
IP_A, IP_B = "10.0.0.1", "10.0.0.2"


class CapturingSms:
    """Test SMS backend: keeps the texts so a test can read the code it was sent."""

    sent: ClassVar[list[tuple[str, str]]] = []

    def send(self, *, phone: str, text: str) -> None:
        self.sent.append((phone, text))


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    # PBKDF2 at Django's work factor costs ~0.5 s a call; what these tests check is not the hash's cost.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(username="zhangsan")


def post_login(client: Client, username: str, password: str, ip: str = IP_A, next_url: str = "") -> Any:
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(LOGIN, data, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def audit(action: str, result: str | None = None) -> int:
    rows = AuditEvent.objects.filter(action=action)
    return rows.filter(result=result).count() if result else rows.count()


# --- lockout (AU-1) -----------------------------------------------------------------------------
def test_five_failures_lock_the_username_and_ip_and_the_sixth_fails_even_with_the_right_password(
    client: Client, staff: User
) -> None:
    answers = [post_login(client, staff.username, "wrong-Pass-1").status_code for _ in range(5)]
    assert answers[:4] == [200, 200, 200, 200]  # the form again, with an error
    assert answers[4] == 429  # the fifth failure starts the lockout

    sixth = post_login(client, staff.username, PASSWORD)
    assert sixth.status_code == 429
    assert "锁定" in sixth.content.decode()
    assert int(sixth["Retry-After"]) > 0
    assert not signed_in(client)
    # every failure audited once; the lockout once; the refused right password as denied
    assert audit("auth.login", AuditResult.FAILED) == 5
    assert audit("auth.lockout", AuditResult.DENIED) == 1
    assert audit("auth.login", AuditResult.DENIED) == 1
    assert audit("auth.login", AuditResult.OK) == 0
    failed = AuditEvent.objects.filter(action="auth.login", result=AuditResult.FAILED).first()
    assert failed is not None and failed.ip == IP_A and failed.data["username"] == staff.username


def test_another_ip_still_signs_in_while_one_ip_is_locked(client: Client, staff: User) -> None:
    for _ in range(5):
        post_login(client, staff.username, "wrong-Pass-1", ip=IP_A)
    assert post_login(client, staff.username, PASSWORD, ip=IP_A).status_code == 429

    other = Client()
    answer = post_login(other, staff.username, PASSWORD, ip=IP_B)
    assert answer.status_code == 302 and signed_in(other)


def test_another_username_from_the_locked_ip_is_unaffected(client: Client, staff: User) -> None:
    colleague = UserFactory(username="lisi")
    for _ in range(5):
        post_login(client, staff.username, "wrong-Pass-1")
    assert post_login(client, colleague.username, PASSWORD).status_code == 302


def test_lockout_lifts_after_the_cooloff(client: Client, staff: User, settings: Any) -> None:
    with time_machine.travel(timezone.now(), tick=False) as clock:
        for _ in range(5):
            post_login(client, staff.username, "wrong-Pass-1")
        assert post_login(client, staff.username, PASSWORD).status_code == 429
        clock.shift(settings.AXES_COOLOFF_TIME.total_seconds() + 60)
        assert post_login(client, staff.username, PASSWORD).status_code == 302


def test_a_completed_sign_in_forgets_earlier_failures(client: Client, staff: User) -> None:
    for _ in range(4):
        post_login(client, staff.username, "wrong-Pass-1")
    assert post_login(client, staff.username, PASSWORD).status_code == 302
    client.post("/accounts/logout/")
    for _ in range(4):
        post_login(client, staff.username, "wrong-Pass-1")
    assert post_login(client, staff.username, PASSWORD).status_code == 302


def test_api_token_failures_count_and_the_lockout_answers_json(client: Client, staff: User) -> None:
    url = "/api/accounts/token"
    body = {"username": staff.username, "password": "wrong-Pass-1"}
    codes = [client.post(url, body, content_type="application/json", REMOTE_ADDR=IP_A) for _ in range(5)]
    assert [c.status_code for c in codes[:4]] == [401] * 4
    assert codes[4].status_code == 429 and codes[4].json()["code"] == "locked_out"
    right = client.post(
        url,
        {"username": staff.username, "password": PASSWORD},
        content_type="application/json",
        REMOTE_ADDR=IP_A,
    )
    assert right.status_code == 429 and right.json()["code"] == "locked_out"
    assert "token" not in right.json()


def test_resident_sms_sign_in_failures_count_and_the_lockout_never_stores_the_phone(
    client: Client, db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMS_BACKEND = f"{__name__}.CapturingSms"
    CapturingSms.sent.clear()
    phone = "13912345678"
    for _ in range(5):
        answer = client.post(
            "/accounts/login/phone/", {"phone": phone, "sms_code": "000000"}, REMOTE_ADDR=IP_A
        )
    assert answer.status_code == 429  # the fifth wrong code locks this phone from this IP
    with django_capture_on_commit_callbacks(execute=True):
        sms_code_request(phone=phone)
    code = CapturingSms.sent[-1][1].split("验证码为")[1][:6]
    refused = client.post("/accounts/login/phone/", {"phone": phone, "sms_code": code}, REMOTE_ADDR=IP_A)
    assert refused.status_code == 429 and not signed_in(client)
    assert audit("auth.lockout") == 1

    from axes.models import AccessAttempt

    for username, post_data in AccessAttempt.objects.values_list("username", "post_data"):
        assert username.startswith("phone:") and phone not in username
        assert phone not in post_data  # axes masks the posted phone and code (AXES_SENSITIVE_PARAMETERS)


def test_resident_signs_in_by_sms_from_another_ip_while_one_is_locked(
    client: Client, db: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMS_BACKEND = f"{__name__}.CapturingSms"
    resident = ResidentFactory()
    for _ in range(5):
        client.post(
            "/accounts/login/phone/", {"phone": resident.phone, "sms_code": "000000"}, REMOTE_ADDR=IP_A
        )
    with django_capture_on_commit_callbacks(execute=True):
        sms_code_request(phone=resident.phone)
    code = CapturingSms.sent[-1][1].split("验证码为")[1][:6]
    other = Client()
    ok = other.post("/accounts/login/phone/", {"phone": resident.phone, "sms_code": code}, REMOTE_ADDR=IP_B)
    assert ok.status_code == 302 and int(other.session["_auth_user_id"]) == resident.pk


def test_client_ip_behind_a_trusted_proxy_is_taken_from_x_forwarded_for(
    client: Client, staff: User, settings: Any
) -> None:
    settings.LINLI_TRUSTED_PROXY_COUNT = 1
    # The proxy appends the real client; whatever the client wrote to the left is not trusted.
    for _ in range(5):
        client.post(
            LOGIN,
            {"username": staff.username, "password": "wrong-Pass-1"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9",
        )
    row = AuditEvent.objects.filter(action="auth.lockout").get()
    assert row.data["username"] == staff.username
    spoofed = Client().post(
        LOGIN,
        {"username": staff.username, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9",  # same real client, different forged prefix
    )
    assert spoofed.status_code == 429
    elsewhere = Client().post(
        LOGIN,
        {"username": staff.username, "password": PASSWORD},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.10",
    )
    assert elsewhere.status_code == 302


# --- the staff second factor (AU-2) -------------------------------------------------------------
@pytest.fixture
def otp_on(settings: Any) -> None:
    settings.LINLI_REQUIRE_STAFF_OTP = True


def current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def enrolled(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def test_otp_is_required_by_default_only_in_production(settings: Any) -> None:
    if "LINLI_REQUIRE_STAFF_OTP" not in os.environ:
        assert settings.LINLI_REQUIRE_STAFF_OTP is settings.PRODUCTION


def test_staff_without_an_authenticator_reach_only_enrolment(
    client: Client, staff: User, otp_on: None
) -> None:
    answer = post_login(client, staff.username, PASSWORD, next_url="/places/map/")
    assert answer.status_code == 302 and answer["Location"].startswith(reverse("accounts:otp_setup"))
    for url in ["/", "/places/map/", "/admin/"]:
        page = client.get(url)
        assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:otp_setup")), url
    api = client.get("/api/accounts/me")
    assert api.status_code == 401 and api.json()["code"] == "otp_required"


def test_enrolment_shows_our_own_qr_code_and_gives_ten_single_use_backup_codes(
    client: Client, staff: User, otp_on: None
) -> None:
    post_login(client, staff.username, PASSWORD)
    page = client.get(reverse("accounts:otp_setup")).content.decode()
    assert '<svg viewBox="0 0' in page and 'class="qr"' in page
    assert "http" not in page.split('class="qr"')[1].split("</svg>")[0]  # drawn here, nothing fetched
    device = TOTPDevice.objects.get(user=staff, confirmed=False)

    with time_machine.travel(timezone.now(), tick=False) as clock:
        wrong = client.post(reverse("accounts:otp_setup"), {"token": "000000"})
        assert wrong.status_code == 200 and not TOTPDevice.objects.filter(user=staff, confirmed=True).exists()
        clock.shift(2)  # django-otp throttles: 1 s after one failure
        device.refresh_from_db()
        done = client.post(reverse("accounts:otp_setup"), {"token": current_code(device)})
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10 and all(len(c) == 8 for c in codes)
    assert TOTPDevice.objects.filter(user=staff, confirmed=True).count() == 1
    assert client.get("/").status_code == 200  # verified now
    assert audit("auth.otp_enrol", AuditResult.OK) == 1


def test_password_then_totp_signs_in_and_rotates_the_session_key_again(
    client: Client, staff: User, otp_on: None
) -> None:
    device = enrolled(staff)
    answer = post_login(client, staff.username, PASSWORD, next_url="/places/map/")
    assert answer["Location"].startswith(reverse("accounts:otp_verify"))
    key_after_password = client.session.session_key
    with time_machine.travel(timezone.now(), tick=False) as clock:
        bad = client.post(reverse("accounts:otp_verify"), {"token": "123456", "next": "/places/map/"})
        assert bad.status_code == 200 and "不正确" in bad.content.decode()
        clock.shift(2)  # django-otp throttles: 1 s after one failure
        good = client.post(
            reverse("accounts:otp_verify"), {"token": current_code(device), "next": "/places/map/"}
        )
    assert good.status_code == 302 and good["Location"] == "/places/map/"
    assert client.session.session_key != key_after_password
    assert client.get("/places/map/").status_code == 200
    assert audit("auth.otp", AuditResult.OK) == 1 and audit("auth.otp", AuditResult.FAILED) == 1


def test_a_backup_code_works_exactly_once(client: Client, staff: User, otp_on: None) -> None:
    from linli.security.signin import backup_codes_issue

    enrolled(staff)
    code = backup_codes_issue(staff)[0]
    post_login(client, staff.username, PASSWORD)
    assert client.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302
    assert StaticToken.objects.filter(device__user=staff).count() == 9
    client.post("/accounts/logout/")
    post_login(client, staff.username, PASSWORD)
    again = client.post(reverse("accounts:otp_verify"), {"token": code})
    assert again.status_code == 200 and client.get("/").status_code == 302


def test_backup_codes_are_stored_only_as_keyed_hashes(staff: User) -> None:
    from linli.security.signin import backup_code_digest, backup_codes_issue

    codes = backup_codes_issue(staff)
    stored = set(StaticToken.objects.filter(device__user=staff).values_list("token", flat=True))

    assert len(codes) == len(stored) == 10 and not stored & set(codes)  # a dump yields no usable code
    assert stored == {backup_code_digest(c) for c in codes}


def test_wrong_second_factor_codes_lock_out_like_wrong_passwords(
    client: Client, staff: User, otp_on: None
) -> None:
    device = enrolled(staff)
    post_login(client, staff.username, PASSWORD)
    answers = [
        client.post(reverse("accounts:otp_verify"), {"token": f"00000{i}"}, REMOTE_ADDR=IP_A).status_code
        for i in range(5)
    ]
    assert answers == [200, 200, 200, 200, 429]
    assert not signed_in(client)  # the half-signed-in session died with the lockout
    # the right password and the right code are both refused now, from this IP
    assert post_login(client, staff.username, PASSWORD).status_code == 429
    assert audit("auth.otp", AuditResult.FAILED) == 5 and audit("auth.lockout") == 1
    assert device.user_id == staff.pk


def test_a_password_reset_style_login_does_not_bypass_the_second_factor(
    client: Client, staff: User, otp_on: None
) -> None:
    enrolled(staff)
    # PasswordResetConfirmView(post_reset_login=True) and any other path end in login(): same as this.
    client.force_login(staff)
    page = client.get("/")
    assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:otp_verify"))
    assert client.get("/admin/").status_code == 302


def test_residents_never_meet_the_second_factor(client: Client, db: None, otp_on: None) -> None:
    resident = ResidentFactory()
    client.force_login(resident)
    assert client.get("/").status_code == 200


def test_api_tokens_for_staff_need_the_second_factor(client: Client, staff: User, otp_on: None) -> None:
    url = "/api/accounts/token"
    creds = {"username": staff.username, "password": PASSWORD}
    not_enrolled = client.post(url, creds, content_type="application/json")
    assert not_enrolled.status_code == 403 and not_enrolled.json()["code"] == "otp_enrolment_required"
    device = enrolled(staff)
    missing = client.post(url, creds, content_type="application/json")
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required"
    ok = client.post(url, {**creds, "otp_token": current_code(device)}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["token"]


def test_re_enrolling_needs_the_current_authenticator(client: Client, staff: User, otp_on: None) -> None:
    enrolled(staff)
    post_login(client, staff.username, PASSWORD)
    page = client.get(reverse("accounts:otp_setup"))
    assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:otp_verify"))
    assert not TOTPDevice.objects.filter(user=staff, confirmed=False).exists()


# --- password policy (AU-6) ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("Ab1!xyz", "password_too_short"),
        ("onlylowercase-words", "password_too_simple"),  # two classes: lower + symbol
        ("ZHANGSAN-is-9-cool", "password_contains_username"),
        ("1234567890", "password_entirely_numeric"),
        ("Password123", "password_too_common"),
    ],
)
def test_weak_staff_passwords_are_refused(staff: User, password: str, code: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_password(password, user=staff)
    assert code in {e.code for e in exc.value.error_list}


def test_a_strong_password_passes(staff: User) -> None:
    validate_password("Shan-Shui-2024", user=staff)


def test_the_last_five_passwords_cannot_be_reused(staff: User) -> None:
    passwords = [f"Neighbour-{i}-Lane" for i in range(6)]
    for password in passwords:
        validate_password(password, user=staff)
        staff.set_password(password)
        staff.save()
    assert PasswordHistory.objects.filter(user=staff).count() == 5
    for recent in passwords[1:]:
        with pytest.raises(ValidationError):
            validate_password(recent, user=staff)
    validate_password(passwords[0], user=staff)  # the sixth-newest is allowed again


def test_an_expired_staff_password_must_be_changed_first(client: Client, staff: User, settings: Any) -> None:
    settings.LINLI_STAFF_PASSWORD_MAX_AGE_DAYS = 90
    with time_machine.travel(timezone.now() + timezone.timedelta(days=91)):
        assert post_login(client, staff.username, PASSWORD).status_code == 302
        page = client.get("/")
        assert page.status_code == 302 and page["Location"].startswith(reverse("accounts:password_change"))
        changed = client.post(
            reverse("accounts:password_change"),
            {"old_password": PASSWORD, "new_password1": "Shan-Shui-2024", "new_password2": "Shan-Shui-2024"},
        )
        assert changed.status_code == 302
        assert client.get("/").status_code == 200
    assert audit("auth.password_change", AuditResult.OK) == 1


# --- first run (AC-6) ---------------------------------------------------------------------------
def test_a_fresh_install_has_no_account_and_the_admin_login_says_how_to_create_one(
    client: Client, db: None
) -> None:
    assert User.objects.count() == 0  # migrations create no user, so there is no default password
    page = client.get("/admin/login/?next=/admin/").content.decode()
    assert "linli_create_admin" in page and "没有默认密码" in page
    assert "linli_create_admin" not in client.get(LOGIN).content.decode()


def test_create_admin_refuses_a_weak_password_from_the_environment(db: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("LINLI_ADMIN_PASSWORD", "admin123")
    with pytest.raises(CommandError, match="密码不符合要求"):
        call_command("linli_create_admin", "--no-input")
    assert not User.objects.exists()


def test_create_admin_from_the_environment_makes_a_superuser_with_the_admin_role(
    client: Client, db: None, monkeypatch: Any
) -> None:
    monkeypatch.setenv("LINLI_ADMIN_PASSWORD", "Qing-Shan-8848")
    call_command("linli_create_admin", "--no-input", "--username", "root-admin")
    admin = User.objects.get(username="root-admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password("Qing-Shan-8848")
    assert Membership.objects.filter(user=admin, role=Role.ADMIN, is_active=True).exists()
    assert PasswordHistory.objects.filter(user=admin).count() == 1
    assert "linli_create_admin" not in client.get("/admin/login/?next=/admin/").content.decode()
    with pytest.raises(CommandError, match="已存在"):
        call_command("linli_create_admin", "--no-input", "--username", "root-admin")


def test_create_admin_without_a_terminal_or_environment_refuses(db: None, monkeypatch: Any) -> None:
    monkeypatch.delenv("LINLI_ADMIN_PASSWORD", raising=False)
    with pytest.raises(CommandError, match="LINLI_ADMIN_PASSWORD"):
        call_command("linli_create_admin", "--no-input")


def test_demo_accounts_are_refused_in_production(db: None, settings: Any) -> None:
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="生产环境不加载演示数据"):
        call_command("seed_demo", "--size", "small")
    assert not User.objects.exists()


def test_new_backup_codes_keep_a_session_that_passed_with_a_backup_code(
    client: Client, staff: User, otp_on: None
) -> None:
    from linli.security.signin import backup_codes_issue

    enrolled(staff)
    code = backup_codes_issue(staff)[0]
    post_login(client, staff.username, PASSWORD)
    assert client.post(reverse("accounts:otp_verify"), {"token": code}).status_code == 302

    fresh = backup_codes_issue(staff)  # as the backup-codes page does

    assert client.get("/").status_code == 200  # still signed in and verified
    assert StaticToken.objects.filter(device__user=staff).count() == 10 and code not in fresh
