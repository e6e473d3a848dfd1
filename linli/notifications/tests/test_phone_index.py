"""PI-1 for the outbox: the encrypted phone has a blind index, kept in step on save and on erasure, and
filled for older rows by the data migration 0005."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection, transaction

from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import OutboxMessage
from linli.notifications.phones import outbox_messages_to, outbox_phone, outbox_phones_erase
from linli.notifications.services import notification_send
from linli.security import crypto

pytestmark = pytest.mark.django_db
fill = import_module("linli.notifications.migrations.0005_fill_outbox_phone_index")


class _Editor:
    connection = connection


def _raw(pk: int) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, phone_index FROM notifications_outboxmessage WHERE id = %s", [pk])
        row = cursor.fetchone()
    return row[0], row[1]


def _send(phone: str, key: str) -> OutboxMessage:
    resident = ResidentFactory(phone=phone)
    with transaction.atomic():
        notification_send(
            recipients=[resident], kind="test", title="t", body="b", sms_text="短信", dedup_key=key
        )
    return OutboxMessage.objects.get(recipient=resident)


def test_the_index_is_written_with_the_phone_and_finds_the_messages_to_a_number() -> None:
    mine, other = _send("13812345678", "k1"), _send("13912345678", "k2")

    phone, index = _raw(mine.pk)
    assert crypto.is_ciphertext(phone) and "13812345678" not in phone
    assert index == crypto.blind_index("phone", "13812345678")
    assert list(outbox_messages_to("+86 138 1234 5678")) == [mine]
    assert list(outbox_messages_to("13912345678")) == [other] and not outbox_messages_to("").exists()
    assert outbox_phone(mine) == "13812345678"


def test_erasing_the_number_clears_its_index_too() -> None:
    message = _send("13812345678", "k1")

    assert outbox_phones_erase(OutboxMessage.objects.all()) == 1

    assert _raw(message.pk) == ("", "")
    assert not outbox_messages_to("13812345678").exists()


def test_the_data_migration_fills_the_index_of_older_rows() -> None:
    message, empty = _send("13812345678", "k1"), _send("13912345678", "k2")
    OutboxMessage.objects.filter(pk=empty.pk).update(phone="", phone_index="")
    OutboxMessage.objects.filter(pk=message.pk).update(phone_index="")  # as 0004 left it

    fill.fill(None, _Editor())
    fill.fill(None, _Editor())  # idempotent

    assert _raw(message.pk)[1] == crypto.blind_index("phone", "13812345678")
    assert _raw(empty.pk) == ("", "")
