"""/api/accounts: SMS codes, bearer tokens for residents and staff, who am I."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from linli.accounts.models import ApiToken, User, UserKind
from linli.accounts.roles import Role
from linli.accounts.services import api_token_revoke
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, UserFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict

PHONE = "13912345678"
CODE_IN_TEXT = re.compile(r"验证码为(\d{6})")
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def post(client: Client, path: str, data: dict[str, Any]) -> Any:
    return client.post(path, data, content_type="application/json")


def request_code(
    client: Client, phone: str, caplog: pytest.LogCaptureFixture, capture: Any
) -> tuple[int, Any, str | None]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="linli.sms"), capture(execute=True):
        response = post(client, "/api/accounts/sms-code", {"phone": phone})
    found = [m.group(1) for r in caplog.records if (m := CODE_IN_TEXT.search(r.getMessage()))]
    return response.status_code, response.json(), (found[0] if found else None)


def test_sms_code_is_sent_and_rate_limited_per_phone(
    client: Client, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    status, data, code = request_code(client, "+86 139 1234 5678", caplog, django_capture_on_commit_callbacks)
    assert (status, data) == (200, {"sent": True, "expires_in": 300})
    assert code is not None and PHONE not in caplog.text
    status, data, code = request_code(client, PHONE, caplog, django_capture_on_commit_callbacks)
    assert (status, data["code"], code) == (429, "sms_too_frequent", None)


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"phone": "12345678901"}, 400, "invalid_phone"),
        ({"phone": "+852 9123 4567"}, 400, "invalid_phone"),
        ({}, 422, "invalid_input"),
        ({"phone": "1"}, 422, "invalid_input"),
    ],
)
def test_sms_code_refuses_bad_phones_with_a_code(
    client: Client, payload: dict[str, Any], status: int, code: str
) -> None:
    response = post(client, "/api/accounts/sms-code", payload)
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_a_resident_gets_a_token_with_phone_and_code_and_is_created_once(
    client: Client, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, code = request_code(client, PHONE, caplog, django_capture_on_commit_callbacks)
    issued = post(client, "/api/accounts/token", {"phone": PHONE, "sms_code": code, "name": "小程序"})
    assert issued.status_code == 200, issued.content
    token = issued.json()["token"]
    me = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert me.status_code == 200
    assert me.json()["kind"] == UserKind.RESIDENT
    assert PHONE not in me.content.decode()
    # The code was used up: the same code again is refused, and no second account appears.
    again = post(client, "/api/accounts/token", {"phone": PHONE, "sms_code": code})
    assert (again.status_code, again.json()["code"]) == (401, "invalid_credentials")
    assert User.objects.filter(kind=UserKind.RESIDENT).count() == 1
    assert ApiToken.objects.get().name == "小程序"


def test_a_wrong_code_gets_401_and_no_account(
    client: Client, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    _, _, code = request_code(client, PHONE, caplog, django_capture_on_commit_callbacks)
    assert code is not None
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = post(client, "/api/accounts/token", {"phone": PHONE, "sms_code": wrong})
    assert (response.status_code, response.json()["code"]) == (401, "invalid_credentials")
    assert not User.objects.exists()


def test_staff_get_a_token_with_their_password(client: Client, small_district: SmallDistrict) -> None:
    staff = staff_with_role(Role.GRID_WORKER, district=small_district, index=3)
    issued = post(client, "/api/accounts/token", {"username": staff.username, "password": PASSWORD})
    assert issued.status_code == 200
    me = Client().get("/api/accounts/me", HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")
    data = me.json()
    assert (data["id"], data["kind"]) == (staff.id, UserKind.STAFF)
    assert [m["role"] for m in data["memberships"]] == [Role.GRID_WORKER]
    assert data["memberships"][0]["anchor"] == "测试网格011"


def test_staff_cannot_use_the_sms_path_nor_residents_the_password_path(
    client: Client, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(phone=PHONE)
    _, _, code = request_code(client, PHONE, caplog, django_capture_on_commit_callbacks)
    by_sms = post(client, "/api/accounts/token", {"phone": PHONE, "sms_code": code})
    assert (by_sms.status_code, by_sms.json()["code"]) == (401, "invalid_credentials")

    resident = ResidentFactory(password="resident-pass-8812")
    by_password = post(
        client, "/api/accounts/token", {"username": resident.username, "password": "resident-pass-8812"}
    )
    assert (by_password.status_code, by_password.json()["code"]) == (401, "invalid_credentials")
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [{}, {"username": "someone"}, {"password": "x"}, {"phone": PHONE}, {"sms_code": "123456"}],
)
def test_missing_credentials_get_400(client: Client, payload: dict[str, Any]) -> None:
    response = post(client, "/api/accounts/token", payload)
    assert (response.status_code, response.json()["code"]) == (400, "missing_credentials")


def test_a_token_expires_and_can_be_revoked(client: Client, settings: Any) -> None:
    staff = UserFactory()
    with time_machine.travel(START, tick=False) as clock:
        issued = post(client, "/api/accounts/token", {"username": staff.username, "password": PASSWORD})
        token = issued.json()["token"]
        assert datetime.fromisoformat(issued.json()["expires_at"]) == START + timedelta(
            hours=settings.API_TOKEN_TTL_HOURS
        )
        header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        assert Client().get("/api/accounts/me", **header).status_code == 200
        clock.shift(timedelta(hours=settings.API_TOKEN_TTL_HOURS))
        expired = Client().get("/api/accounts/me", **header)
        assert (expired.status_code, expired.json()["code"]) == (401, "not_authenticated")

    second = post(client, "/api/accounts/token", {"username": staff.username, "password": PASSWORD})
    header = {"HTTP_AUTHORIZATION": f"Bearer {second.json()['token']}"}
    assert Client().get("/api/accounts/me", **header).status_code == 200
    api_token_revoke(token=ApiToken.objects.filter(user=staff).order_by("-created_at").first())  # type: ignore[arg-type]
    assert Client().get("/api/accounts/me", **header).status_code == 401


def test_me_needs_authentication(client: Client) -> None:
    response = client.get("/api/accounts/me")
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")
