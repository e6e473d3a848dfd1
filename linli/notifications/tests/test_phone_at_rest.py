"""PI-1 for the outbox: the phone an SMS goes to is stored encrypted, and rows written before the column
was encrypted are sealed by the data migration (and opened again when it is reversed)."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection, transaction

from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import OutboxMessage
from linli.notifications.phones import outbox_phone
from linli.notifications.services import notification_send
from linli.security import crypto

pytestmark = pytest.mark.django_db
migration = import_module("linli.notifications.migrations.0003_encrypt_outbox_phones")


class _Editor:
    connection = connection


def _raw_phone(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM notifications_outboxmessage WHERE id = %s", [pk])
        value: str = cursor.fetchone()[0]
    return value


def test_an_sms_phone_is_ciphertext_in_the_database_and_plain_for_the_provider() -> None:
    resident = ResidentFactory(phone="13812345678")
    with transaction.atomic():
        notification_send(
            recipients=[resident], kind="test", title="t", body="b", sms_text="短信", dedup_key="test:rest:1"
        )
    message = OutboxMessage.objects.get()
    assert crypto.is_ciphertext(_raw_phone(message.pk)) and "13812345678" not in _raw_phone(message.pk)
    assert outbox_phone(message) == "13812345678" and message.phone_display == "138****5678"


def test_the_data_migration_seals_plain_rows_and_reverses() -> None:
    resident = ResidentFactory(phone="13812345678")
    with transaction.atomic():
        notification_send(
            recipients=[resident], kind="test", title="t", body="b", sms_text="短信", dedup_key="test:rest:2"
        )
    message = OutboxMessage.objects.get()
    with connection.cursor() as cursor:  # a row as the plain column held it
        cursor.execute("UPDATE notifications_outboxmessage SET phone = %s", ["13900001111"])

    migration.encrypt(None, _Editor())
    sealed = _raw_phone(message.pk)
    migration.encrypt(None, _Editor())  # a second run leaves sealed rows alone
    assert crypto.is_ciphertext(sealed) and _raw_phone(message.pk) == sealed
    assert outbox_phone(OutboxMessage.objects.get()) == "13900001111"
    migration.decrypt(None, _Editor())
    assert _raw_phone(message.pk) == "13900001111"
