"""PI-1 / PI-2 for an anonymous reporter's contact phone: ciphertext + blind index in the database (the
data migration seals rows written before), masked in the API and the workbench, revealed only with a
reason and exactly one audit row, and still the number the SMS goes to."""

from __future__ import annotations

import datetime as dt
from importlib import import_module
from typing import ClassVar
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import FieldError
from django.db import connection
from django.test import Client
from pytest_django.fixtures import Settings

from linli.accounts.models import User
from linli.accounts.sms import ConsoleSmsBackend
from linli.cases.contact import cases_with_contact_phone, contact_phone_reveal
from linli.cases.models import Case, Channel
from linli.cases.services import case_submit, cases_sweep_sla
from linli.cases.tests.factories import World, category, grid_point, submit
from linli.notifications.models import OutboxMessage, OutboxStatus
from linli.notifications.outbox import outbox_message_deliver
from linli.notifications.phones import outbox_messages_to
from linli.security import crypto
from linli.security.models import AuditEvent

PHONE = "13812345678"
migration = import_module("linli.cases.migrations.0006_encrypt_case_contact_phones")
SH = ZoneInfo("Asia/Shanghai")


class _Editor:
    connection = connection


def _raw(pk: int) -> tuple[str, str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT contact_phone, contact_phone_index, contact_phone_masked FROM cases_case WHERE id = %s",
            [pk],
        )
        row = cursor.fetchone()
    return row[0], row[1], row[2]


def _anonymous(world: World, phone: str = PHONE, **kw: object) -> Case:
    return submit(world, reporter=None, contact_phone=phone, channel=Channel.RESIDENT, **kw)


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_the_database_holds_ciphertext_and_a_blind_index_never_the_number(world: World) -> None:
    case = _anonymous(world, phone="138 1234-5678")
    sealed, index, masked = _raw(case.pk)

    assert crypto.is_ciphertext(sealed) and PHONE not in sealed
    assert index == crypto.blind_index("phone", PHONE) and masked == "138****5678"
    with connection.cursor() as cursor:  # no column of any case row holds the full number
        cursor.execute("SELECT * FROM cases_case")
        assert not any(PHONE in str(value) for row in cursor.fetchall() for value in row)
    assert contact_phone_reveal(Case.objects.get(pk=case.pk)) == PHONE
    assert list(cases_with_contact_phone("+86 138 1234 5678")) == [case]
    assert not cases_with_contact_phone("13912345678").exists() and not cases_with_contact_phone("").exists()
    with pytest.raises(FieldError, match="blind index"):
        Case.objects.filter(contact_phone=PHONE).exists()


def test_the_data_migration_seals_plain_rows_idempotently_and_reverses(world: World) -> None:
    case, empty = _anonymous(world), submit(world)
    with connection.cursor() as cursor:  # the rows as the plain column held them before 0005
        cursor.execute(
            "UPDATE cases_case SET contact_phone = %s, contact_phone_index = '' WHERE id = %s",
            [PHONE, case.pk],
        )

    migration.encrypt(None, _Editor())
    sealed, index, _ = _raw(case.pk)
    assert crypto.is_ciphertext(sealed) and index == crypto.blind_index("phone", PHONE)
    migration.encrypt(None, _Editor())  # a second run leaves sealed rows alone
    assert _raw(case.pk)[0] == sealed
    assert _raw(empty.pk)[:2] == ("", "")
    assert contact_phone_reveal(Case.objects.get(pk=case.pk)) == PHONE

    migration.decrypt(None, _Editor())
    assert _raw(case.pk)[:2] == (PHONE, "") and _raw(empty.pk)[:2] == ("", "")


def test_the_api_masks_name_and_phone_for_staff_and_the_reporter_sees_their_own_name(world: World) -> None:
    case = submit(world, contact_name="王大妈", contact_phone=PHONE)
    staff = client_for(world.secretary0)
    for url in ("/api/cases/queue", f"/api/cases/{case.pk}"):
        response = staff.get(url)
        body = response.content.decode()
        assert response.status_code == 200 and "王大妈" not in body and PHONE not in body, url
        item = response.json()["items"][0] if "items" in response.json() else response.json()["case"]
        assert (item["contact_name"], item["contact_phone_masked"]) == ("王**", "138****5678")

    mine = client_for(world.resident).get("/api/cases/mine")
    [item] = mine.json()["items"]
    assert item["contact_name"] == "王大妈" and PHONE not in mine.content.decode()
    assert client_for(world.resident2).get("/api/cases/mine").json()["items"] == []


def test_the_workbench_masks_and_a_reveal_with_a_reason_writes_exactly_one_audit_row(world: World) -> None:
    case = _anonymous(world, contact_name="王大妈")
    secretary = client_for(world.secretary0)
    page = secretary.get(f"/cases/wb/{case.pk}/").content.decode()
    assert "138****5678" in page and PHONE not in page and "王**" in page and "王大妈" not in page
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()

    shown = secretary.post(
        f"/cases/wb/{case.pk}/reveal/",
        {"field": "contact_phone", "reason": "回访核实"},
        HTTP_HX_REQUEST="true",
    )

    assert shown.status_code == 200 and PHONE in shown.content.decode()
    [row] = AuditEvent.objects.filter(action="pii.reveal")
    assert (row.result, row.object_id, row.data["field"]) == ("ok", str(case.pk), "contact_phone")
    assert row.data["reason"] == "回访核实" and PHONE not in str(row.data)
    again = secretary.get(f"/cases/wb/{case.pk}/").content.decode()  # a reveal is not sticky
    assert PHONE not in again and AuditEvent.objects.filter(action="pii.reveal").count() == 1


class RecordingSmsBackend(ConsoleSmsBackend):
    """Test double: the console backend that also remembers the full number each message went to."""

    phones: ClassVar[list[str]] = []

    def send(self, *, phone: str, text: str, idempotency_key: str | None = None) -> str:
        type(self).phones.append(phone)
        return super().send(phone=phone, text=text, idempotency_key=idempotency_key)


def test_the_sms_to_an_anonymous_reporter_goes_to_the_decrypted_number(
    world: World, settings: Settings
) -> None:
    settings.SMS_BACKEND = f"{__name__}.RecordingSmsBackend"
    RecordingSmsBackend.phones.clear()
    lat, lng = grid_point(world.d, 0)
    with time_machine.travel(dt.datetime(2025, 9, 1, 10, tzinfo=SH), tick=False):  # Mon; due Mon 8 Sep
        case = case_submit(
            text="垃圾",
            channel=Channel.OPEN311,
            category_id=category("city.litter").pk,
            lat=lat,
            lng=lng,
            contact_phone="+86 139-1234-5678",
            client_id="t",
        ).case
    assert cases_sweep_sla(now=dt.datetime(2025, 9, 9, 10, tzinfo=SH)).escalated == 1
    message = OutboxMessage.objects.get(kind="case.escalate_timed")
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM notifications_outboxmessage WHERE id = %s", [message.pk])
        stored = cursor.fetchone()[0]
    assert crypto.is_ciphertext(stored) and "13912345678" not in stored
    to_reporter = outbox_messages_to("13912345678")  # the blind index finds every SMS to the number
    assert message in to_reporter and all(m.phone_display == "139****5678" for m in to_reporter)
    assert not outbox_messages_to("13812345678").exists()

    outbox_message_deliver(message_id=message.pk)

    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.provider_message_id.startswith("console-")
    assert RecordingSmsBackend.phones == ["13912345678"]
    assert [d.phone_masked for d in ConsoleSmsBackend.deliveries] == ["139****5678"]
    assert case.number in message.text
