"""The triage and accept deadlines with frozen time (QUALITY REL-3): the sweep warns (预警) once and marks
overdue once per deadline, tells the dispatcher (triage) or the handler (accept), resets with every new
deadline, and the workbench queues filter by them. 2025 National Day 调休 weeks as in test_sla.py:
Sun 28 Sep is a make-up working day; working hours 09:00–12:00 and 13:30–17:30.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.cases.models import Case, CaseEvent, Status
from linli.cases.selectors import QueueFilters, case_queue_for_user
from linli.cases.services import (
    case_accept,
    case_assign,
    case_reassign,
    case_return,
    case_triage,
    cases_sweep_sla,
)
from linli.cases.tests.factories import World, force_state, submit
from linli.notifications.models import Notification

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


def told(user: User, kind: str) -> int:
    return Notification.objects.filter(recipient=user, kind=kind).count()


def sweep(now: dt.datetime) -> dict[str, int]:
    return cases_sweep_sla(now=now).as_dict()


def test_the_triage_deadline_is_warned_then_marked_overdue_once_and_only_dispatchers_hear(
    world: World, national_day: None
) -> None:
    with time_machine.travel(at(9, 26, 16), tick=False):  # Friday 16:00, outside any estate: community level
        case = submit(world, in_estate=False)
    # A routed unit has not been given the case yet: it must not hear about the dispatcher's deadline.
    Case.objects.filter(pk=case.pk).update(unit=world.unit0)
    assert case.level == "community"
    assert case.triage_due_at == at(9, 28, 11, 30)  # 4 working hours: 1.5 h Friday, 2.5 h make-up Sunday
    assert case.triage_warn_at == at(9, 28, 10, 42)  # 0.8 of the working time: 3.2 h

    assert sweep(at(9, 27, 12))["triage_warned"] == 0  # Saturday: wall-clock time passes, working time not
    report = sweep(at(9, 28, 10, 45))
    assert (report["triage_warned"], report["triage_overdue"], report["escalated"]) == (1, 0, 0)
    assert sweep(at(9, 28, 10, 50))["triage_warned"] == 0  # once per deadline
    warn = CaseEvent.objects.get(case=case, action="triage_warn")
    assert (warn.from_status, warn.to_status, warn.actor_id, warn.actor_role, warn.is_public) == (
        "submitted",
        "submitted",
        None,
        "system",
        False,
    )
    assert "梳理时限" in warn.note and "09-28 11:30" in warn.note
    assert told(world.secretary0, "case.triage_warned") == 1
    assert told(world.back_office0, "case.triage_warned") == 1
    assert told(world.handler0, "case.triage_warned") == 0

    # Triage alone does not stop the clock: the dispatcher's deadline runs until the case is assigned.
    with time_machine.travel(at(9, 28, 10, 55), tick=False):
        case_triage(case_id=case.pk, actor=world.secretary0)
    report = sweep(at(9, 28, 11, 31))
    assert (report["triage_overdue"], report["triage_warned"]) == (1, 0)
    assert sweep(at(9, 28, 12))["triage_overdue"] == 0
    case.refresh_from_db()
    assert case.status == Status.TRIAGED and case.triage_overdue_at == at(9, 28, 11, 31)
    overdue = CaseEvent.objects.get(case=case, action="triage_overdue")
    assert (overdue.from_status, overdue.to_status) == (
        "triaged",
        "triaged",
    ) and "已超过梳理时限" in overdue.note
    assert told(world.secretary0, "case.triage_overdue") == 1
    assert told(world.handler0, "case.triage_overdue") == 0
    with time_machine.travel(at(9, 28, 11, 40), tick=False):
        assert case.is_triage_overdue and case.is_triage_warned and not case.is_accept_overdue


def test_the_accept_deadline_warns_the_handler_then_tells_handler_and_dispatcher_when_missed(
    world: World, national_day: None
) -> None:
    with time_machine.travel(at(9, 26, 16), tick=False):
        case = submit(world, in_estate=False)
    with time_machine.travel(at(9, 29, 9), tick=False):  # Monday 09:00
        case = case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    # 4 working hours: 09:00–12:00, then 13:30–14:30; the warning after 3.2 h: 13:42.
    assert (case.accept_due_at, case.accept_warn_at) == (at(9, 29, 14, 30), at(9, 29, 13, 42))
    assert sweep(at(9, 29, 13, 40))["accept_warned"] == 0
    assert sweep(at(9, 29, 13, 45))["accept_warned"] == 1
    assert told(world.handler0, "case.accept_warned") == 1
    assert told(world.secretary0, "case.accept_warned") == 0
    # The triage deadline (Sunday 11:30) passed too, but the case is no longer waiting for the dispatcher.
    assert CaseEvent.objects.filter(case=case, action__startswith="triage_").count() == 0

    report = sweep(at(9, 29, 14, 31))
    assert (report["accept_overdue"], report["accept_warned"]) == (1, 0)
    assert sweep(at(9, 29, 15))["accept_overdue"] == 0
    assert told(world.handler0, "case.accept_overdue") == 1
    assert told(world.secretary0, "case.accept_overdue") == 1  # the dispatcher may reassign
    event = CaseEvent.objects.get(case=case, action="accept_overdue")
    assert (event.from_status, event.to_status, event.is_public) == ("assigned", "assigned", False)
    assert "已超过接单时限" in event.note

    # Every assignment starts a fresh clock with fresh markers.
    with time_machine.travel(at(9, 29, 15), tick=False):
        case = case_reassign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert case.accept_due_at == at(9, 30, 10, 30)  # 2.5 h Monday, 1.5 h Tuesday
    assert (case.accept_warned_at, case.accept_overdue_at) == (None, None)
    with time_machine.travel(at(9, 29, 15, 5), tick=False):
        case_accept(case_id=case.pk, actor=world.handler0)
    report = sweep(at(10, 9, 10))  # accepted: the clock has stopped (the resolve deadline is 10 Oct)
    assert (report["accept_warned"], report["accept_overdue"], report["escalated"]) == (0, 0, 0)
    assert CaseEvent.objects.filter(case=case, action="accept_overdue").count() == 1


def test_after_downtime_a_passed_triage_deadline_is_reported_once_as_overdue_not_warned(
    world: World,
) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        cases = [submit(world, grid=i % 2, in_estate=False) for i in range(3)]
    report = cases_sweep_sla(now=at(9, 2, 10), batch_size=2)  # small batches: the loop drains them
    assert (report.triage_overdue, report.triage_warned) == (3, 0)
    assert CaseEvent.objects.filter(action="triage_warn").count() == 0
    assert CaseEvent.objects.filter(action="triage_overdue").count() == 3
    assert told(world.secretary0, "case.triage_warned") == 0
    assert cases_sweep_sla(now=at(9, 2, 10)).as_dict() == dict.fromkeys(report.as_dict(), 0)
    assert all(c.triage_overdue_at == at(9, 2, 10) for c in Case.objects.filter(pk__in=[c.pk for c in cases]))


def test_a_new_level_or_a_return_gives_the_dispatcher_a_fresh_triage_clock(world: World) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):  # Monday; resolve due Mon 8 Sep 17:30
        case = submit(world, in_estate=False)
    assert cases_sweep_sla(now=at(9, 2, 10)).triage_overdue == 1
    # Timed escalation to the street: the new triage deadline counts from the passed one (Mon 17:30).
    report = cases_sweep_sla(now=at(9, 9, 10))
    case.refresh_from_db()
    assert (report.escalated, report.triage_overdue) == (1, 0)
    assert case.level == "street" and case.triage_due_at == at(9, 9, 14, 30)
    assert case.triage_warn_at == at(9, 9, 13, 42)
    assert (case.triage_warned_at, case.triage_overdue_at) == (None, None)
    assert cases_sweep_sla(now=at(9, 9, 14, 31)).triage_overdue == 1
    assert told(world.street0, "case.triage_overdue") == 1  # the new level's dispatcher

    with time_machine.travel(at(9, 10, 9), tick=False):
        case_assign(case_id=case.pk, actor=world.street0, unit_id=world.unit0.pk)
        case = case_return(case_id=case.pk, actor=world.handler0, note="不属于本单位")
    assert case.triage_due_at == at(9, 10, 14, 30)  # from the return: 3 h morning, 1 h afternoon
    assert (case.triage_warned_at, case.triage_overdue_at) == (None, None)


def _queue(user: User, **kw: object) -> set[str]:
    return set(case_queue_for_user(user, QueueFilters(**kw)).values_list("number", flat=True))  # type: ignore[arg-type]


def test_the_queues_filter_overdue_and_warned_by_deadline(world: World) -> None:
    past = timezone.now() - dt.timedelta(hours=1)
    triage_late = submit(world, grid=0)
    accept_late = force_state(
        submit(world, grid=1), Status.ASSIGNED, unit_id=world.unit0.pk, accept_due_at=past
    )
    resolve_late = force_state(submit(world, grid=0), Status.IN_PROGRESS, resolve_due_at=past)
    on_time = force_state(submit(world, grid=1), Status.ASSIGNED, unit_id=world.unit0.pk)
    Case.objects.filter(pk=triage_late.pk).update(triage_due_at=past, triage_warned_at=past)
    # A passed triage deadline no longer counts once the case left the dispatcher (the clock stopped).
    Case.objects.filter(pk__in=[accept_late.pk, resolve_late.pk, on_time.pk]).update(triage_due_at=past)
    Case.objects.filter(pk=on_time.pk).update(accept_warned_at=past)
    me = world.secretary0

    assert _queue(me, deadline="triage", overdue=True) == {triage_late.number}
    assert _queue(me, deadline="accept", overdue=True) == {accept_late.number}
    assert _queue(me, overdue=True) == {resolve_late.number}  # the default: the resolution deadline
    assert _queue(me, deadline="any", overdue=True) == {
        triage_late.number,
        accept_late.number,
        resolve_late.number,
    }
    assert _queue(me, deadline="triage", overdue=False) == {
        accept_late.number,
        resolve_late.number,
        on_time.number,
    }
    assert _queue(me, deadline="triage", warned=True) == {triage_late.number}
    assert _queue(me, deadline="accept", warned=True) == {on_time.number}
    assert _queue(me, deadline="any", warned=False) == {accept_late.number, resolve_late.number}

    # The workbench (htmx table with the tags) and the JSON API say the same.
    c = Client()
    c.force_login(me)
    table = c.get(
        "/cases/wb/?queue=all&deadline=triage&overdue=1",
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="queue-results",
    ).content.decode()
    assert triage_late.number in table and accept_late.number not in table and "梳理超时" in table
    page = c.get("/cases/wb/?queue=all&deadline=accept&overdue=1").content.decode()
    assert accept_late.number in page and triage_late.number not in page and "接单超时" in page
    assert 'name="deadline"' in page
    api = c.get("/api/cases/queue", {"deadline": "accept", "overdue": "true"}).json()
    assert [i["number"] for i in api["items"]] == [accept_late.number]
    assert api["items"][0]["is_accept_overdue"] is True and api["items"][0]["is_triage_overdue"] is False
    assert c.get("/api/cases/queue", {"deadline": "soon"}).status_code == 422
