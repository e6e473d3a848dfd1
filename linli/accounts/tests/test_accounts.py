"""Accounts services: phone numbers, SMS codes (AU-5), resident sign-up, API tokens, role grants."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.db import IntegrityError, transaction

from linli.accounts.models import ApiToken, Membership, PhoneCode, PhoneCodeThrottle, User, UserKind
from linli.accounts.roles import Role
from linli.accounts.services import (
    AccountError,
    api_token_create,
    api_token_revoke,
    api_token_user,
    membership_grant,
    membership_revoke,
    phone_normalize,
    resident_for_verified_phone,
    sms_code_request,
    sms_code_verify,
)
from linli.accounts.tests.factories import ResidentFactory, UserFactory
from linli.core.tests.concurrency import run_in_threads
from linli.places.tests.factories import SmallDistrict

PHONE = "13912345678"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CODE_IN_TEXT = re.compile(r"验证码为(\d+)")


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def send_code(phone: str, caplog: pytest.LogCaptureFixture, capture: Any) -> str:
    """Request a code and read it back from the console SMS backend's log line."""
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="linli.sms"), capture(execute=True):
        sms_code_request(phone=phone)
    codes = [m.group(1) for r in caplog.records if (m := CODE_IN_TEXT.search(r.getMessage()))]
    assert len(codes) == 1, caplog.text
    return codes[0]


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "13912345678",
        " 139 1234 5678 ",
        "139-1234-5678",
        "+86 139 1234 5678",
        "+86-139-1234-5678",
        "(+86) 13912345678",
        "8613912345678",
        "0086 13912345678",
        "１３９１２３４５６７８",  # full-width digits from a Chinese input method
        "＋８６ １３９ １２３４ ５６７８",
    ],
)
def test_phone_numbers_are_normalised_to_eleven_ascii_digits(raw: str) -> None:
    assert phone_normalize(raw) == PHONE


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "abc",
        "1391234567",  # 10 digits
        "139123456789",  # 12 digits
        "12912345678",  # no mobile network starts 12
        "23912345678",
        "+85291234567",  # Hong Kong
        "+1 415 555 0100",
        "139١٢٣٤٥٦٧٨",  # Arabic-Indic digits: \d would take them
        "8613912345678x",
    ],
)
def test_malformed_phone_numbers_are_refused_with_a_code(raw: str) -> None:
    with pytest.raises(AccountError) as err:
        phone_normalize(raw)
    assert err.value.code == "invalid_phone"


# --- SMS codes (AU-5) ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_code_has_six_digits_and_signs_in_once(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    assert re.fullmatch(r"\d{6}", code)
    assert sms_code_verify(phone=PHONE, code=code)
    assert not sms_code_verify(phone=PHONE, code=code)  # single use


@pytest.mark.django_db
def test_the_console_sms_log_never_holds_the_full_phone_number(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    send_code("+86 139-1234-5678", caplog, django_capture_on_commit_callbacks)
    assert PHONE not in caplog.text
    assert "139****5678" in caplog.text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("after", "accepted"), [(timedelta(minutes=4, seconds=59), True), (timedelta(minutes=5), False)]
)
def test_a_code_expires_after_five_minutes(
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
    after: timedelta,
    accepted: bool,
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
        clock.shift(after)
        assert sms_code_verify(phone=PHONE, code=code) is accepted


@pytest.mark.django_db
def test_five_wrong_tries_burn_the_code(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        assert not sms_code_verify(phone=PHONE, code=wrong)
    assert not sms_code_verify(phone=PHONE, code=code)


@pytest.mark.django_db
def test_the_right_code_on_the_fifth_try_still_works(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for attempt in (wrong, "abc", "", "1234567"):
        assert not sms_code_verify(phone=PHONE, code=attempt)
    assert sms_code_verify(phone=PHONE, code=f" {code} ")


@pytest.mark.django_db
def test_a_code_belongs_to_its_phone(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    assert not sms_code_verify(phone="13912345679", code=code)
    assert not sms_code_verify(phone="not a phone", code=code)
    assert sms_code_verify(phone="+86 13912345678", code=code)


@pytest.mark.django_db
def test_at_most_one_code_a_minute_per_phone(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        send_code(PHONE, caplog, django_capture_on_commit_callbacks)
        clock.shift(timedelta(seconds=59))
        with pytest.raises(AccountError) as err:
            sms_code_request(phone=PHONE)
        assert err.value.code == "sms_too_frequent"
        sms_code_request(phone="13912345679")  # another phone is not held up
        clock.shift(timedelta(seconds=2))
        send_code(PHONE, caplog, django_capture_on_commit_callbacks)


@pytest.mark.django_db
def test_at_most_ten_codes_a_day_per_phone(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(10):
            sms_code_request(phone=PHONE)
            clock.shift(timedelta(seconds=61))
        with pytest.raises(AccountError) as err:
            sms_code_request(phone=PHONE)
        assert err.value.code == "sms_daily_limit"
        clock.move_to(START + timedelta(days=1, seconds=1))  # the first one has left the 24 h window
        send_code(PHONE, caplog, django_capture_on_commit_callbacks)


@pytest.mark.django_db
def test_requesting_a_code_for_a_malformed_phone_is_refused() -> None:
    with pytest.raises(AccountError) as err:
        sms_code_request(phone="12345")
    assert err.value.code == "invalid_phone"


# --- residents sign in with a code, staff with a password ---------------------------------------


@pytest.mark.django_db
def test_a_resident_is_created_on_the_first_verified_sign_in_only(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    user = authenticate(None, phone="139 1234 5678", sms_code=code)
    assert user is not None
    assert (user.kind, user.phone) == (UserKind.RESIDENT, PHONE)
    assert PHONE not in user.username and not user.has_usable_password()
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2)):
        again = authenticate(
            None, phone=PHONE, sms_code=send_code(PHONE, caplog, django_capture_on_commit_callbacks)
        )
    assert again is not None and again.pk == user.pk
    assert User.objects.filter(kind=UserKind.RESIDENT).count() == 1


@pytest.mark.django_db
def test_a_wrong_code_creates_no_account() -> None:
    sms_code_request(phone=PHONE)
    code_that_was_not_sent = "000000"
    assert authenticate(None, phone=PHONE, sms_code=code_that_was_not_sent) is None
    assert not User.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_sign_ins_make_one_account() -> None:
    ids = run_in_threads(lambda: resident_for_verified_phone(phone=PHONE).pk, n=4)  # type: ignore[union-attr]
    assert len(set(ids)) == 1
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_staff_cannot_sign_in_with_an_sms_code(
    caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    staff = UserFactory(phone=PHONE)
    code = send_code(PHONE, caplog, django_capture_on_commit_callbacks)
    assert authenticate(None, phone=PHONE, sms_code=code) is None
    assert resident_for_verified_phone(phone=PHONE) is None
    assert User.objects.get(pk=staff.pk).kind == UserKind.STAFF  # nothing was created or converted
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_residents_cannot_sign_in_with_a_password() -> None:
    resident = ResidentFactory(password="a-usable-pass-123")  # even if one was somehow set
    assert resident.has_usable_password()
    assert authenticate(None, username=resident.username, password="a-usable-pass-123") is None
    staff = UserFactory(password="a-usable-pass-123")
    assert authenticate(None, username=staff.username, password="a-usable-pass-123") == staff


# --- API tokens ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_works_until_it_expires(settings: Any) -> None:
    user = ResidentFactory()
    with time_machine.travel(START, tick=False) as clock:
        token, raw = api_token_create(user=user, name="phone")
        assert token.key_hash != raw and raw not in token.key_hash  # only the digest is stored
        assert api_token_user(raw=raw) == user
        assert ApiToken.objects.get(pk=token.pk).last_used_at == START
        clock.shift(timedelta(hours=settings.API_TOKEN_TTL_HOURS) - timedelta(seconds=1))
        assert api_token_user(raw=raw) == user
        clock.shift(timedelta(seconds=1))
        assert api_token_user(raw=raw) is None


@pytest.mark.django_db
def test_a_revoked_token_is_refused_at_once() -> None:
    user = ResidentFactory()
    token, raw = api_token_create(user=user, name="phone")
    _, other_raw = api_token_create(user=user, name="tablet")
    api_token_revoke(token=token)
    api_token_revoke(token=token)  # idempotent
    assert api_token_user(raw=raw) is None
    assert api_token_user(raw=other_raw) == user  # the user's other devices keep theirs


@pytest.mark.django_db
def test_a_disabled_accounts_token_and_garbage_are_refused() -> None:
    user = UserFactory(is_active=False)
    _, raw = api_token_create(user=user, name="app")
    assert api_token_user(raw=raw) is None
    assert api_token_user(raw="") is None
    assert api_token_user(raw="x" * 43) is None


# --- role grants --------------------------------------------------------------------------------


@pytest.fixture
def anchors(small_district: SmallDistrict) -> dict[str, int]:
    from linli.accounts.models import Unit, UnitKind

    community = small_district.communities[0]
    unit = Unit.objects.create(
        name="物业", kind=UnitKind.PROPERTY, region=community, region_path=community.path
    )
    return {"region_id": community.id, "grid_id": small_district.grids[0].id, "unit_id": unit.id}


@pytest.mark.parametrize(
    ("role", "given"),
    [
        (Role.GRID_WORKER, ["region_id"]),
        (Role.GRID_WORKER, []),
        (Role.GRID_WORKER, ["grid_id", "region_id"]),
        (Role.DISTRICT_STAFF, ["grid_id"]),
        (Role.COMMUNITY_SECRETARY, ["unit_id"]),
        (Role.UNIT_HANDLER, ["region_id"]),
        (Role.ADMIN, ["region_id"]),
        (Role.RESIDENT, ["grid_id"]),
    ],
)
def test_a_grant_with_the_wrong_anchor_is_refused(
    anchors: dict[str, int], role: str, given: list[str]
) -> None:
    user = UserFactory()
    with pytest.raises(AccountError) as err:
        membership_grant(user=user, role=role, **{k: anchors[k] for k in given})
    assert err.value.code == "anchor_mismatch"
    assert not Membership.objects.filter(user=user).exists()


def test_unknown_roles_and_staff_roles_for_residents_are_refused(anchors: dict[str, int]) -> None:
    with pytest.raises(AccountError) as err:
        membership_grant(user=UserFactory(), role="mayor", region_id=anchors["region_id"])
    assert err.value.code == "unknown_role"
    with pytest.raises(AccountError) as err:
        membership_grant(user=ResidentFactory(), role=Role.GRID_WORKER, grid_id=anchors["grid_id"])
    assert err.value.code == "not_staff"


def test_the_database_refuses_a_mismatched_anchor_too(anchors: dict[str, int]) -> None:
    """Defence in depth: a write that bypasses the service still cannot anchor a role wrongly."""
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=UserFactory(), role=Role.GRID_WORKER, region_id=anchors["region_id"])


def test_granting_twice_is_one_row_and_regranting_reactivates(anchors: dict[str, int]) -> None:
    user = UserFactory()
    first = membership_grant(user=user, role=Role.GRID_WORKER, grid_id=anchors["grid_id"])
    assert membership_grant(user=user, role=Role.GRID_WORKER, grid_id=anchors["grid_id"]).pk == first.pk
    membership_revoke(membership=first)
    assert not Membership.objects.get(pk=first.pk).is_active
    again = membership_grant(user=user, role=Role.GRID_WORKER, grid_id=anchors["grid_id"])
    assert again.pk == first.pk and Membership.objects.get(pk=first.pk).is_active


@pytest.mark.django_db(transaction=True)
def test_simultaneous_first_code_requests_for_one_phone_send_exactly_one() -> None:
    # No code exists yet for the phone, so there is no code row to lock: the per-phone throttle row is
    # what serialises the requests (on PostgreSQL a lock over an empty set would let them all through).
    def request_code() -> str:
        try:
            sms_code_request(phone=PHONE)
        except AccountError as exc:
            return exc.code
        return "ok"

    answers = run_in_threads(request_code, n=6)

    assert sorted(answers) == ["ok"] + ["sms_too_frequent"] * 5
    assert PhoneCode.objects.count() == 1
    assert PhoneCodeThrottle.objects.count() == 1


@pytest.mark.django_db
def test_the_code_lives_as_long_as_the_configured_ttl_and_the_text_says_so(
    settings: Any, caplog: pytest.LogCaptureFixture, django_capture_on_commit_callbacks: Any
) -> None:
    settings.SMS_CODE_TTL_SECONDS = 120
    with time_machine.travel(START, tick=False) as clock:
        with (
            caplog.at_level(logging.WARNING, logger="linli.sms"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sent = sms_code_request(phone=PHONE)
        assert sent.expires_at == START + timedelta(seconds=120)
        assert "2分钟内有效" in caplog.text
        code = CODE_IN_TEXT.search(caplog.text).group(1)  # type: ignore[union-attr]
        clock.shift(timedelta(seconds=121))
        assert not sms_code_verify(phone=PHONE, code=code)


@pytest.mark.parametrize("ttl", ["301", "3600", "59"])
def test_a_code_lifetime_over_five_minutes_is_refused_at_start_up(
    monkeypatch: pytest.MonkeyPatch, ttl: str
) -> None:
    import runpy
    from pathlib import Path

    from django.core.exceptions import ImproperlyConfigured

    import linli.settings

    monkeypatch.setenv("LINLI_SMS_CODE_TTL", ttl)
    with pytest.raises(ImproperlyConfigured, match="LINLI_SMS_CODE_TTL must be between 60 and 300"):
        runpy.run_path(str(Path(linli.settings.__file__)))


def test_the_default_code_lifetime_is_five_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy
    from pathlib import Path

    import linli.settings

    monkeypatch.delenv("LINLI_SMS_CODE_TTL", raising=False)
    assert runpy.run_path(str(Path(linli.settings.__file__)))["SMS_CODE_TTL_SECONDS"] == 300
    monkeypatch.setenv("LINLI_SMS_CODE_TTL", "300")
    assert runpy.run_path(str(Path(linli.settings.__file__)))["SMS_CODE_TTL_SECONDS"] == 300


@pytest.mark.django_db
def test_codes_and_throttle_rows_older_than_a_day_are_pruned() -> None:
    from linli.accounts.services import phone_codes_prune

    with time_machine.travel(START, tick=False) as clock:
        sms_code_request(phone=PHONE)
        clock.shift(timedelta(hours=23))
        sms_code_request(phone="13912345679")
        clock.shift(timedelta(hours=1, seconds=1))

        assert phone_codes_prune() == 2  # the first phone's code and throttle row

    assert PhoneCode.objects.count() == 1
    assert list(PhoneCodeThrottle.objects.values_list("phone_index", flat=True)) == [
        PhoneCode.objects.get().phone_index
    ]
