"""Encryption at rest, blind indexes and key rotation (PI-1)."""

from __future__ import annotations

import base64
import io
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import FieldError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction

from linli.accounts.models import PhoneCode, User
from linli.accounts.services import resident_for_verified_phone, sms_code_request
from linli.accounts.tests.factories import ResidentFactory
from linli.security import crypto
from linli.security.tests.conftest import make_key

ROOT = Path(__file__).resolve().parents[3]
PHONES = ["13812345678", "13900000001", "15011112222", "18600001234", "19987654321"]


def _raw_rows(table: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
        return list(cursor.fetchall())


def _raw_phone(user: User) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user WHERE id = %s", [user.pk])
        return str(cursor.fetchone()[0])


def test_ciphertext_names_its_algorithm_and_key_and_round_trips(data_keys: dict[str, str]) -> None:
    value = crypto.encrypt("13812345678", context="accounts_user.phone")
    algorithm, key_id, _body = value.split(".")
    expected = crypto.SM4_GCM if crypto.sm4_gcm_available() else crypto.AES_256_GCM
    assert (algorithm, key_id) == (expected, "old")
    assert "13812345678" not in value
    assert crypto.decrypt(value, context="accounts_user.phone") == "13812345678"


def test_the_same_value_encrypts_differently_each_time(data_keys: dict[str, str]) -> None:
    a = crypto.encrypt("13812345678", context="t.c")
    b = crypto.encrypt("13812345678", context="t.c")
    assert a != b  # random nonce: equal phones are not linkable in a dump


def test_sm4_and_aes_ciphertexts_coexist(settings: Any, data_keys: dict[str, str]) -> None:
    settings.LINLI_DATA_CIPHER = "aes-256-gcm"
    aes_value = crypto.encrypt("110105199003071237", context="t.c")
    assert aes_value.startswith("aes256gcm.old.")
    if crypto.sm4_gcm_available():
        settings.LINLI_DATA_CIPHER = "sm4-gcm"
        sm4_value = crypto.encrypt("110105199003071237", context="t.c")
        assert sm4_value.startswith("sm4gcm.old.")
        assert crypto.decrypt(sm4_value, context="t.c") == "110105199003071237"
    assert crypto.decrypt(aes_value, context="t.c") == "110105199003071237"


def test_tampered_ciphertext_is_refused_with_a_clear_error(data_keys: dict[str, str]) -> None:
    value = crypto.encrypt("13812345678", context="accounts_user.phone")
    head, body = value.rsplit(".", 1)
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[15] ^= 0x01  # one bit of the ciphertext
    tampered = head + "." + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(crypto.DecryptionError, match="authentication failed"):
        crypto.decrypt(tampered, context="accounts_user.phone")


def test_ciphertext_moved_to_another_column_does_not_decrypt(data_keys: dict[str, str]) -> None:
    value = crypto.encrypt("13812345678", context="accounts_user.phone")
    with pytest.raises(crypto.DecryptionError, match="copied from another column"):
        crypto.decrypt(value, context="people_person.id_number")


def test_header_rewritten_to_another_algorithm_does_not_decrypt(data_keys: dict[str, str]) -> None:
    value = crypto.encrypt("13812345678", context="t.c")
    algorithm, rest = value.split(".", 1)
    other = crypto.AES_256_GCM if algorithm == crypto.SM4_GCM else crypto.SM4_GCM
    if other == crypto.SM4_GCM and not crypto.sm4_gcm_available():
        pytest.skip("no SM4-GCM in this build")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(f"{other}.{rest}", context="t.c")


def test_unknown_key_id_names_the_missing_key(settings: Any, data_keys: dict[str, str]) -> None:
    value = crypto.encrypt("13812345678", context="t.c")
    settings.LINLI_DATA_KEYS = f"new:{data_keys['new']}"
    settings.LINLI_DATA_KEY_ID = "new"
    with pytest.raises(crypto.UnknownKeyError, match="'old' is not in LINLI_DATA_KEYS"):
        crypto.decrypt(value, context="t.c")


@pytest.mark.parametrize(
    ("keys", "active", "message"),
    [
        ("old:notbase64!!", "old", "not valid base64"),
        ("old:" + base64.b64encode(b"short").decode(), "old", "32 random bytes"),
        ("nocolon", "old", "must look like"),
        ("old:" + make_key(), "new", "is not one of LINLI_DATA_KEYS"),
    ],
    # Fixed ids: the keys are random, and pytest-xdist workers must collect identical test names.
    ids=["not-base64", "too-short", "no-key-id", "unknown-active-id"],
)
def test_bad_key_configuration_is_refused(settings: Any, keys: str, active: str, message: str) -> None:
    settings.LINLI_DATA_KEYS, settings.LINLI_DATA_KEY_ID = keys, active
    settings.LINLI_BLIND_INDEX_KEY = make_key()
    with pytest.raises(crypto.KeyConfigError, match=message):
        crypto.keyring()


@pytest.mark.django_db
def test_database_and_dumpdata_hold_no_plaintext_phone(data_keys: dict[str, str]) -> None:
    for phone in PHONES[:3]:
        ResidentFactory(phone=phone)
    for phone in PHONES[3:]:
        resident_for_verified_phone(phone=phone)
    with transaction.atomic():
        sms_code_request(phone="13712345678")

    dump = "\n".join(
        repr(row) for table in ("accounts_user", "accounts_phonecode") for row in _raw_rows(table)
    )
    out = io.StringIO()
    call_command("dumpdata", "accounts.user", "accounts.phonecode", stdout=out)
    for phone in [*PHONES, "13712345678"]:
        assert phone not in dump
        assert phone not in out.getvalue()
        assert phone[-8:] not in dump  # not even the subscriber part (e.g. inside a username)
    assert User.objects.filter(phone_index__matches="13812345678").count() == 1
    assert PhoneCode.objects.count() == 1


@pytest.mark.django_db
def test_dumpdata_output_loads_back_to_the_same_phone(data_keys: dict[str, str]) -> None:
    user = ResidentFactory(phone="13812345678")
    out = io.StringIO()
    call_command("dumpdata", "accounts.user", stdout=out)
    dumped = json.loads(out.getvalue())[0]["fields"]["phone"]
    assert crypto.is_ciphertext(dumped)
    field = User._meta.get_field("phone")
    assert field.to_python(dumped) == "13812345678"
    assert User.objects.get(pk=user.pk).phone == "13812345678"


@pytest.mark.django_db
def test_blind_index_finds_the_user_in_any_written_form(data_keys: dict[str, str]) -> None:
    user = ResidentFactory(phone="13812345678")
    assert len(user.phone_index) == crypto.BLIND_INDEX_CHARS
    for written in ["13812345678", "+86 138-1234-5678", "8613812345678", "0086 138 1234 5678"]:
        assert list(User.objects.filter(phone_index__matches=written)) == [user]
    assert User.objects.filter(phone_index=crypto.blind_index("phone", "13812345678")).get() == user
    assert not User.objects.filter(phone_index__matches="13812345679").exists()


@pytest.mark.django_db
def test_filtering_on_an_encrypted_value_is_refused_not_silently_empty(data_keys: dict[str, str]) -> None:
    ResidentFactory(phone="13812345678")
    with pytest.raises(FieldError, match="blind index"):
        list(User.objects.filter(phone="13812345678"))
    with pytest.raises(FieldError):
        list(User.objects.filter(phone__startswith="138"))
    assert User.objects.exclude(phone="").count() == 1  # "has a phone" still works


@pytest.mark.django_db
def test_one_account_per_phone_is_enforced_through_the_index(data_keys: dict[str, str]) -> None:
    ResidentFactory(phone="13812345678")
    with pytest.raises(IntegrityError), transaction.atomic():
        ResidentFactory(phone="+86 13812345678")


@pytest.mark.django_db
def test_a_tampered_row_fails_loudly_when_read(data_keys: dict[str, str]) -> None:
    victim = ResidentFactory(phone="13812345678")
    other = ResidentFactory(phone="13900000001")
    with connection.cursor() as cursor:  # someone with database access swaps two phones' ciphertexts...
        cursor.execute("UPDATE accounts_user SET phone = %s WHERE id = %s", [_raw_phone(other), victim.pk])
    assert User.objects.get(pk=victim.pk).phone == "13900000001"  # ...same column: AAD cannot tell
    with connection.cursor() as cursor:  # ...but a flipped character is caught
        raw = _raw_phone(victim)
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s",
            [raw[:-3] + ("A" if raw[-3] != "A" else "B") + raw[-2:], victim.pk],
        )
    with pytest.raises(crypto.DecryptionError):
        User.objects.get(pk=victim.pk)


@pytest.mark.django_db
def test_rotation_reencrypts_every_row_and_lookups_still_work(
    settings: Any, data_keys: dict[str, str]
) -> None:
    users = [ResidentFactory(phone=phone) for phone in PHONES]
    assert all(_raw_phone(u).split(".")[1] == "old" for u in users)
    before_updated = {u.pk: User.objects.get(pk=u.pk).updated_at for u in users}

    settings.LINLI_DATA_KEYS = f"old:{data_keys['old']},new:{data_keys['new']}"
    settings.LINLI_DATA_KEY_ID = "new"
    out = io.StringIO()
    call_command("rotate_keys", "--batch", "2", stdout=out)
    assert "accounts.User.phone: 5 updated, 0 failed" in out.getvalue()
    assert all(_raw_phone(u).split(".")[1] == "new" for u in users)

    # The old key can now go: every value reads with the new one alone.
    settings.LINLI_DATA_KEYS = f"new:{data_keys['new']}"
    for user, phone in zip(users, PHONES, strict=True):
        assert User.objects.get(phone_index__matches=phone) == user
        assert User.objects.get(pk=user.pk).phone == phone
        assert User.objects.get(pk=user.pk).updated_at == before_updated[user.pk]

    again = io.StringIO()
    call_command("rotate_keys", stdout=again)  # idempotent: nothing left to do
    assert "accounts.User.phone: 0 updated" in again.getvalue()
    call_command("rotate_keys", "--check", stdout=io.StringIO())


@pytest.mark.django_db
def test_rotation_check_fails_while_old_values_remain(settings: Any, data_keys: dict[str, str]) -> None:
    ResidentFactory(phone="13812345678")
    settings.LINLI_DATA_KEYS = f"old:{data_keys['old']},new:{data_keys['new']}"
    settings.LINLI_DATA_KEY_ID = "new"
    out = io.StringIO()
    with pytest.raises(CommandError, match="still need rotation"):
        call_command("rotate_keys", "--check", stdout=out)
    assert "accounts.User.phone: 1 value(s)" in out.getvalue()


@pytest.mark.django_db
def test_rotation_reports_an_undecryptable_row_and_rotates_the_rest(
    settings: Any, data_keys: dict[str, str]
) -> None:
    good, bad = ResidentFactory(phone="13812345678"), ResidentFactory(phone="13900000001")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE accounts_user SET phone = %s WHERE id = %s",
            [crypto.encrypt("13900000001", context="other_table.phone"), bad.pk],
        )
    settings.LINLI_DATA_KEYS = f"old:{data_keys['old']},new:{data_keys['new']}"
    settings.LINLI_DATA_KEY_ID = "new"
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 value"):
        call_command("rotate_keys", stdout=io.StringIO(), stderr=err)
    assert f"pk={bad.pk}" in err.getvalue()
    assert _raw_phone(good).startswith(crypto.keyring().active_prefix)


@pytest.mark.django_db
def test_blind_index_key_rotation_keeps_lookups_working_while_reindexing(
    settings: Any, data_keys: dict[str, str]
) -> None:
    users = [ResidentFactory(phone=phone) for phone in PHONES]
    settings.LINLI_BLIND_INDEX_KEY = data_keys["blind2"]
    settings.LINLI_BLIND_INDEX_KEY_PREVIOUS = data_keys["blind"]
    # Before the re-index, lookups match through the previous key.
    assert User.objects.get(phone_index__matches=PHONES[0]) == users[0]

    out = io.StringIO()
    call_command("rotate_keys", "--reindex", stdout=out)
    assert "accounts.User.phone_index: 5 updated" in out.getvalue()

    settings.LINLI_BLIND_INDEX_KEY_PREVIOUS = ""
    for user, phone in zip(users, PHONES, strict=True):
        assert User.objects.get(phone_index__matches=phone) == user


def _manage_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LINLI_") and k != "DATABASE_URL"}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_production_refuses_to_start_without_data_keys() -> None:
    result = _manage_check(
        {
            "LINLI_ENV": "production",
            "LINLI_SECRET_KEY": secrets.token_urlsafe(64),
            "LINLI_ALLOWED_HOSTS": "linli.example.org",
        }
    )
    assert result.returncode != 0
    assert (
        "LINLI_DATA_KEYS, LINLI_DATA_KEY_ID and LINLI_BLIND_INDEX_KEY must be set in production"
        in result.stderr
    )


@pytest.mark.slow
def test_a_malformed_key_fails_the_startup_check() -> None:
    result = _manage_check(
        {"LINLI_DATA_KEYS": "k1:dG9vc2hvcnQ=", "LINLI_DATA_KEY_ID": "k1", "LINLI_BLIND_INDEX_KEY": make_key()}
    )
    assert result.returncode != 0
    assert "linli_security.E001" in result.stderr and "32 random bytes" in result.stderr
