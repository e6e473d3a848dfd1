"""The reporter is told at the sweep's public steps — timed escalation and auto-closure — in-app and by SMS
through the outbox, exactly once per event however often the sweep runs (QUALITY REL-2, REL-5)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from linli.cases.models import Case, Channel
from linli.cases.services import case_answer, case_submit, cases_sweep_sla
from linli.cases.tests.factories import World, category, grid_point, submit
from linli.notifications.models import Notification, OutboxMessage
from linli.notifications.phones import outbox_phone

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


def test_timed_escalation_tells_the_reporter_once_per_escalation(world: World) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):  # Monday; resolve due Mon 8 Sep 17:30
        case = submit(world)
    assert cases_sweep_sla(now=at(9, 9, 10)).escalated == 1
    for _ in range(2):  # a re-run at the same moment, and a later one with nothing new due
        assert cases_sweep_sla(now=at(9, 9, 10)).escalated == 0
        assert cases_sweep_sla(now=at(9, 9, 11)).escalated == 0

    notes = Notification.objects.filter(recipient=world.resident, kind="case.escalate_timed")
    sms = OutboxMessage.objects.filter(recipient=world.resident, kind="case.escalate_timed")
    assert notes.count() == 1 and sms.count() == 1
    note, message = notes.get(), sms.get()
    assert note.title == "已超时升级至上级办理" and note.link == f"/cases/{case.pk}/"
    assert case.number in note.body and "社区级" in note.body
    assert message.channel == "sms" and outbox_phone(message) == world.resident.phone
    assert message.text == f"【邻里】您的诉求(编号{case.number})已超时升级至上级办理。"
    assert message.task_id  # enqueued for delivery in the same transaction

    # The next level's deadline passes too: a second escalation is a second event, told once more.
    assert cases_sweep_sla(now=at(9, 16, 10)).escalated == 1
    assert cases_sweep_sla(now=at(9, 16, 10)).escalated == 0
    assert notes.count() == 2 and sms.count() == 2
    assert Notification.objects.filter(recipient=world.secretary0, kind="case.escalate_timed").count() == 0


def test_an_anonymous_reporter_is_told_by_sms_to_the_contact_mobile_only(world: World) -> None:
    lat, lng = grid_point(world.d, 0)
    common = {"channel": Channel.OPEN311, "category_id": category("city.litter").pk, "lat": lat, "lng": lng}
    with time_machine.travel(at(9, 1, 10), tick=False):
        mobile = case_submit(text="垃圾", contact_phone="13912345678", client_id="t", **common).case
        landline = case_submit(text="垃圾", contact_phone="0551-6512345", client_id="t", **common).case
    assert cases_sweep_sla(now=at(9, 9, 10)).escalated == 2
    assert cases_sweep_sla(now=at(9, 9, 10)).escalated == 0
    sms = OutboxMessage.objects.filter(kind="case.escalate_timed")
    assert sms.count() == 1  # a landline cannot take an SMS: staff call back
    message = sms.get()
    assert message.recipient is None and outbox_phone(message) == "13912345678"
    assert mobile.number in message.text and landline.number not in message.text
    assert Notification.objects.filter(kind="case.escalate_timed").count() == 0  # no account to tell in-app


def test_auto_closure_tells_the_reporter_once(world: World, settings: object) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        case = submit(world, kind="inquiry")
        case_answer(case_id=case.pk, actor=world.secretary0, result_text="已答复")
    assert cases_sweep_sla(now=at(9, 8, 11)).auto_closed == 1
    assert cases_sweep_sla(now=at(9, 8, 11)).auto_closed == 0
    assert cases_sweep_sla(now=at(9, 20, 11)).auto_closed == 0
    assert Case.objects.get(pk=case.pk).status == "closed"

    notes = Notification.objects.filter(recipient=world.resident, kind="case.auto_close")
    sms = OutboxMessage.objects.filter(recipient=world.resident, kind="case.auto_close")
    assert notes.count() == 1 and sms.count() == 1
    assert notes.get().title == "已自动结案(逾期未评价)" and "7天内未评价" in notes.get().body
    assert sms.get().text == f"【邻里】您的诉求(编号{case.number})已自动结案(逾期未评价)。"
