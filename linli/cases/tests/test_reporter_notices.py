"""The reporter is told at each public step (issue: "the reporter told at each public step"), also when staff
record the reporter's answer on the phone (回访), and an anonymous reporter hears by SMS at every one."""

from __future__ import annotations

from linli.cases.models import Channel, Rating, Status
from linli.cases.notify import RULES
from linli.cases.services import (
    case_accept,
    case_assign,
    case_rate,
    case_resolve,
    case_submit,
)
from linli.cases.tests.factories import World, submit
from linli.cases.transitions import TRANSITIONS
from linli.notifications.models import Notification, OutboxMessage

# Public steps the reporter does not need to hear of: their own withdrawal, someone's "me too".
NOT_FOR_THE_REPORTER = {"withdraw", "follow"}


def test_every_public_step_tells_the_reporter() -> None:
    public = {a for a, t in TRANSITIONS.items() if t.public} - NOT_FOR_THE_REPORTER
    assert public, "the table has public steps"
    missing = sorted(a for a in public if not (a in RULES and RULES[a].reporter))
    assert missing == []


def resolved(world: World) -> int:
    case = submit(world)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="已清运")
    return case.pk


def test_a_call_back_recorded_by_staff_tells_the_reporter_what_was_recorded(world: World) -> None:
    case_id = resolved(world)
    case = case_rate(case_id=case_id, actor=world.secretary0, rating=Rating.UNSATISFIED, comment="电话回访")
    assert case.status == Status.TRIAGED
    told = Notification.objects.get(recipient=world.resident, kind="case.reopen")
    assert told.title == "您的不满意评价已记录,诉求将重新办理"
    # The handler reads the staff's wording.
    assert (
        Notification.objects.get(recipient=world.handler0, kind="case.reopen").title
        == "群众不满意,工单需重办"
    )

    case_assign(case_id=case_id, actor=world.secretary0)
    case_accept(case_id=case_id, actor=world.handler0)
    case_resolve(case_id=case_id, actor=world.handler0, result_text="再次清运")
    case = case_rate(case_id=case_id, actor=world.secretary0, rating=Rating.UNSATISFIED)
    assert case.status == Status.REVIEW
    assert Notification.objects.filter(recipient=world.resident, kind="case.send_to_review").count() == 1


def test_the_reporters_own_step_is_not_echoed_back(world: World) -> None:
    case_id = resolved(world)
    case_rate(case_id=case_id, actor=world.resident, rating=Rating.UNSATISFIED)
    assert not Notification.objects.filter(recipient=world.resident, kind="case.reopen").exists()
    assert Notification.objects.filter(recipient=world.handler0, kind="case.reopen").exists()


def test_an_anonymous_reporter_hears_every_public_step_by_sms(world: World) -> None:
    case = case_submit(
        text="楼道灯坏了",
        channel=Channel.WINDOW,
        filed_by=world.window0,
        community_id=world.d.communities[0].pk,
        contact_name="王大爷",
        contact_phone="139 1234 5678",
    ).case
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)  # no SMS rule for a resident with an account
    sms = {
        m.dedup_key.split(":")[2]: m
        for m in OutboxMessage.objects.filter(dedup_key__startswith=f"case:{case.pk}:", channel="sms")
    }
    assert {"assign", "accept"} <= set(sms)
    assert sms["accept"].phone_display == "139****5678" and case.number in sms["accept"].text
    assert "您的诉求已开始办理" in sms["accept"].text
