"""Deadlines and the SLA sweep with frozen time, through the 2025 National Day 调休 weeks (QUALITY REL-3).

2025: Sun 28 Sep is a make-up working day, 1–8 Oct are holidays, Sat 11 Oct is a make-up working day
(the ``national_day`` fixture in conftest.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from linli.cases.models import Case, CaseEvent, Category, RoutingRule, SlaPolicy, Status
from linli.cases.routing import route_unit
from linli.cases.services import case_accept, case_answer, case_assign, cases_sweep_sla
from linli.cases.sla import terms_for
from linli.cases.tests.factories import World, category, submit, unit_make
from linli.notifications.models import Notification

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2025, month, day, hour, minute, tzinfo=SH)


@pytest.fixture
def two_day_policy(world: World) -> None:
    SlaPolicy.objects.all().update(resolve_amount=Decimal(2), triage_hours=Decimal(4))


def events(case: Case, action: str) -> list[tuple[str, str]]:
    return list(
        CaseEvent.objects.filter(case=case, action=action)
        .order_by("id")
        .values_list("from_level", "to_level")
    )


def test_deadlines_count_working_time_through_the_makeup_sunday(
    world: World, national_day: None, two_day_policy: None
) -> None:
    with time_machine.travel(at(9, 26, 16), tick=False):  # Friday 16:00
        case = submit(world)
    # 4 working hours: Fri 16:00–17:30 (1.5 h), then the make-up Sunday 09:00–11:30 (2.5 h).
    assert case.triage_due_at == at(9, 28, 11, 30)
    # 2 working days after Friday: Sun 28 (make-up), Mon 29 → close of business Monday.
    assert case.resolve_due_at == at(9, 29, 17, 30)


def test_one_sweep_after_the_holiday_catches_up_level_by_level(
    world: World, national_day: None, two_day_policy: None
) -> None:
    with time_machine.travel(at(9, 26, 16), tick=False):
        case = submit(world)
    # After the holiday: the estate deadline (29 Sep) passed; the community one counts from it:
    # Tue 30 Sep, then 1–8 Oct are holidays, Thu 9 Oct → due 9 Oct 17:30, not yet passed.
    report = cases_sweep_sla(now=at(10, 9, 10))
    case.refresh_from_db()
    assert report.escalated == 1
    assert case.level == "community" and case.status == Status.SUBMITTED
    assert case.resolve_due_at == at(10, 9, 17, 30)
    assert case.level_started_at == at(9, 29, 17, 30)
    assert cases_sweep_sla(now=at(10, 9, 10)).escalated == 0  # idempotent

    # Tuesday 14 Oct: street due Fri 10 + Sat 11 (make-up) = 11 Oct 17:30 passed too → district.
    report = cases_sweep_sla(now=at(10, 14, 10))
    case.refresh_from_db()
    assert report.escalated == 2
    assert case.level == "district" and case.escalation_count == 3
    assert case.resolve_due_at == at(10, 14, 17, 30)
    assert events(case, "escalate_timed") == [
        ("estate", "community"),
        ("community", "street"),
        ("street", "district"),
    ]
    # At the top: overdue stays overdue, the level never goes further.
    assert cases_sweep_sla(now=at(10, 30, 10)).escalated == 0
    case.refresh_from_db()
    assert case.level == "district"


def test_hours_of_downtime_are_caught_up_for_many_cases_at_once(world: World, national_day: None) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        cases = [submit(world, grid=i % 8) for i in range(30)]
    report = cases_sweep_sla(now=at(11, 20, 10), batch_size=7)  # small batches: the loop must drain them all
    assert report.escalated == 30 * 3
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        assert case.level == "district" and case.escalation_count == 3
        assert len(events(case, "escalate_timed")) == 3
        assert case.warned_at is not None  # warned once at the top, already overdue there


def test_escalation_keeps_the_unit_and_clears_the_assignee(world: World) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        case = submit(world)
        case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
        case_accept(case_id=case.pk, actor=world.handler0)
    cases_sweep_sla(now=at(9, 9, 10))
    case.refresh_from_db()
    assert case.level == "community" and case.status == Status.SUBMITTED
    assert case.unit_id == world.unit0.pk and case.assignee_id is None
    event = CaseEvent.objects.get(case=case, action="escalate_timed")
    assert (event.from_status, event.to_status, event.actor_id, event.actor_role) == (
        "in_progress",
        "submitted",
        None,
        "system",
    )
    assert Notification.objects.filter(recipient=world.secretary0, kind="case.escalated").exists()
    assert Notification.objects.filter(recipient=world.handler0, kind="case.escalated").exists()


def test_resolved_cases_are_not_escalated(world: World) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        case = submit(world, kind="inquiry")
        case_answer(case_id=case.pk, actor=world.secretary0, result_text="已答复")
    assert cases_sweep_sla(now=at(9, 5, 10)).escalated == 0  # (not yet 7 days: no auto-close either)
    case.refresh_from_db()
    assert case.level == "estate" and case.status == Status.RESOLVED


def test_warning_is_sent_once_when_the_warn_time_passes(world: World) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):  # Monday; due Mon 8 Sep 17:30
        case = submit(world)
        case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert cases_sweep_sla(now=at(9, 2, 10)).warned == 0
    report = cases_sweep_sla(now=at(9, 8, 9))
    assert report.warned == 1 and report.escalated == 0
    assert cases_sweep_sla(now=at(9, 8, 9, 30)).warned == 0
    assert CaseEvent.objects.filter(case=case, action="warn").count() == 1
    assert Notification.objects.filter(recipient=world.handler0, kind="case.warned").count() == 1


def test_unrated_cases_close_after_the_rating_period_and_the_event_says_so(
    world: World, settings: object
) -> None:
    with time_machine.travel(at(9, 1, 10), tick=False):
        case = submit(world, kind="inquiry")
        case_answer(case_id=case.pk, actor=world.secretary0, result_text="已答复")
    assert cases_sweep_sla(now=at(9, 8, 9)).auto_closed == 0
    assert cases_sweep_sla(now=at(9, 8, 11)).auto_closed == 1
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.status_category == "done" and case.resolved_level == "estate"
    event = CaseEvent.objects.get(case=case, action="auto_close")
    assert "7天内未评价" in event.note and event.is_public


def test_the_rating_period_is_configurable(world: World, settings: Any) -> None:
    settings.LINLI_CASE_RATING_DAYS = 3
    with time_machine.travel(at(9, 1, 10), tick=False):
        case = submit(world, kind="inquiry")
        case_answer(case_id=case.pk, actor=world.secretary0, result_text="已答复")
    assert cases_sweep_sla(now=at(9, 4, 9)).auto_closed == 0
    assert cases_sweep_sla(now=at(9, 4, 11)).auto_closed == 1
    event = CaseEvent.objects.get(case=case, action="auto_close")
    assert "3天内未评价" in event.note


def test_the_most_specific_policy_wins(world: World) -> None:
    litter = category("city.litter")
    city = litter.parent
    SlaPolicy.objects.create(
        kind="complaint", triage_hours=1, accept_hours=1, resolve_amount=3, resolve_unit="days"
    )
    SlaPolicy.objects.create(
        category=city, triage_hours=2, accept_hours=2, resolve_amount=4, resolve_unit="days"
    )
    SlaPolicy.objects.create(
        category=litter,
        level="street",
        triage_hours=3,
        accept_hours=3,
        resolve_amount=8,
        resolve_unit="hours",
    )
    assert terms_for(kind="complaint", category_id=litter.pk, level="street").resolve_unit == "hours"
    assert terms_for(kind="complaint", category_id=litter.pk, level="community").resolve_amount == 4
    assert (
        terms_for(kind="complaint", category_id=category("road.manhole").pk, level="community").resolve_amount
        == 3
    )
    assert terms_for(kind="help", category_id=None, level="community").resolve_amount == 5


def test_routing_prefers_the_deepest_region_then_the_nearest_category(world: World) -> None:
    road, _ = unit_make(world.d, name="区城管局")
    street_unit, _ = unit_make(world.d, name="街道城管科")
    manhole = category("road.manhole")
    RoutingRule.objects.create(category=manhole.parent, unit=road)
    RoutingRule.objects.create(category=manhole.parent, region=world.d.streets[0], unit=street_unit)
    RoutingRule.objects.create(category=None, region=world.d.communities[0], unit=world.unit0)
    estate_path = world.d.estates[0].path
    assert route_unit(category_id=manhole.pk, region_path=estate_path) == world.unit0.pk
    assert route_unit(category_id=manhole.pk, region_path=world.d.estates[2].path) == street_unit.pk
    assert route_unit(category_id=manhole.pk, region_path=world.d.estates[5].path) == road.pk
    assert route_unit(category_id=category("city.litter").pk, region_path=world.d.estates[5].path) is None
    assert Category.objects.filter(code="road.manhole").exists()
    # Submission uses it.
    case = submit(world, grid=2, category_id=manhole.pk)
    assert case.unit_id == street_unit.pk


def test_triage_reclassifying_recomputes_the_deadline_and_reroutes(world: World) -> None:
    """梳理 changing kind or category moves the resolve deadline to the new policy (counted from the level's
    start, not from the triage) and re-routes the unit unless the dispatcher names one."""
    from linli.cases.services import case_triage

    litter, manhole = category("city.litter"), category("road.manhole")
    SlaPolicy.objects.create(
        kind="inquiry", triage_hours=1, accept_hours=1, resolve_amount=1, resolve_unit="days"
    )
    SlaPolicy.objects.create(
        category=manhole.parent, triage_hours=2, accept_hours=2, resolve_amount=10, resolve_unit="days"
    )
    road, _ = unit_make(world.d, name="区市政所")
    RoutingRule.objects.create(category=manhole.parent, unit=road)
    with time_machine.travel(at(9, 10, 10), tick=False):  # a Wednesday, no holiday near
        by_kind, by_category, by_hand = (submit(world, category_id=litter.pk) for _ in range(3))
    started, before = by_kind.level_started_at, by_kind.resolve_due_at
    with time_machine.travel(at(9, 11, 15), tick=False):
        case = case_triage(case_id=by_kind.pk, actor=world.secretary0, kind="inquiry")
        assert case.kind == "inquiry" and case.level_started_at == started
        assert case.resolve_due_at == at(9, 11, 17, 30) != before  # one working day from arrival
        case = case_triage(case_id=by_category.pk, actor=world.secretary0, category_id=manhole.pk)
        assert case.unit_id == road.pk  # routed by the new category
        assert case.resolve_due_at == at(9, 24, 17, 30)  # ten working days from Wed 10 Sep
        stored = Case.objects.get(pk=case.pk)
        assert (stored.resolve_due_at, stored.unit_id, stored.warned_at) == (
            case.resolve_due_at,
            road.pk,
            None,
        )
        # The dispatcher's own unit wins over the rule.
        case = case_triage(
            case_id=by_hand.pk, actor=world.secretary0, category_id=manhole.pk, unit_id=world.unit1.pk
        )
        assert case.unit_id == world.unit1.pk and case.resolve_due_at == at(9, 24, 17, 30)
