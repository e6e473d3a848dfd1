"""The sweep's shortcuts keep its guarantees (QUALITY REL-3): the one probe that skips empty passes never
skips a pass with work, one batch escalates cases of every rung, and deadlines computed once per distinct
(start, terms) equal those computed one case at a time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.cases.models import Case, CaseEvent, Status
from linli.cases.services import cases_sweep_sla, sweep_escalation
from linli.cases.services.sweep import _passes_with_work
from linli.cases.sla import Terms, deadlines_compute, deadlines_compute_many, policy_book_load
from linli.cases.tests.factories import World, force_state, submit
from linli.notifications.models import Notification

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2025, 9, 10, 10, 0, tzinfo=SH)  # a Wednesday, no holiday near
PAST = NOW - dt.timedelta(minutes=5)
FUTURE = NOW + dt.timedelta(days=10)
DUE_LATER = {"triage_due_at": FUTURE, "triage_warn_at": FUTURE, "resolve_due_at": FUTURE, "warn_at": FUTURE}

# pass (SweepReport field) -> the status and fields that give exactly that pass one case of work
SCENARIOS: dict[str, tuple[str, dict[str, Any]]] = {
    "triage_overdue": (Status.SUBMITTED, {"triage_due_at": PAST, "triage_warn_at": PAST}),
    "triage_warned": (Status.TRIAGED, {"triage_warn_at": PAST}),
    "accept_overdue": (Status.ASSIGNED, {"accept_due_at": PAST, "accept_warn_at": PAST}),
    "accept_warned": (Status.ASSIGNED, {"accept_due_at": FUTURE, "accept_warn_at": PAST}),
    "warned": (Status.IN_PROGRESS, {"warn_at": PAST}),
    "auto_closed": (Status.RESOLVED, {"resolved_at": NOW - dt.timedelta(days=8)}),
}


def quiet_case(world: World) -> Case:
    """A case with nothing due at NOW on any clock."""
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        case = submit(world)
    Case.objects.filter(pk=case.pk).update(**DUE_LATER)
    case.refresh_from_db()
    return case


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_the_probe_finds_each_pass_with_work_and_the_sweep_does_it(world: World, name: str) -> None:
    status, fields = SCENARIOS[name]
    quiet_case(world)
    case = force_state(quiet_case(world), status, **fields)

    found = _passes_with_work(now=NOW)

    # A deadline that passed unwarned shows in its clock's warning probe too (that pass then finds the
    # case marked overdue and leaves it): the probe may see more than the work, never less.
    assert name in found and found <= {name, name.replace("_overdue", "_warned")}
    report = cases_sweep_sla(now=NOW).as_dict()

    assert report.pop(name) == 1
    assert not any(report.values())
    assert CaseEvent.objects.filter(case=case, actor_id=None).count() == 1
    assert _passes_with_work(now=NOW) == set()  # done: the next sweep skips it


def test_a_sweep_with_nothing_due_reads_the_case_table_twice(world: World) -> None:
    for _ in range(3):
        quiet_case(world)

    with CaptureQueriesContext(connection) as queries:
        report = cases_sweep_sla(now=NOW)

    assert not any(report.as_dict().values())
    case_reads = [q["sql"] for q in queries if q["sql"].startswith("SELECT") and "cases_case" in q["sql"]]
    # The escalation select, then one probe for the six other passes (not six selects).
    assert len(case_reads) == 2, case_reads


@pytest.mark.parametrize("group_min", [1, 10**6], ids=["by-id-list", "by-values"])
def test_one_batch_escalates_overdue_cases_of_every_rung_one_rung_each(
    world: World, group_min: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite writes a wave sharing its deadlines by id list, the rest by VALUES: both paths, same result.
    monkeypatch.setattr(sweep_escalation, "GROUP_MIN", group_min)
    cases = {level: quiet_case(world) for level in ("estate", "community", "street", "district")}
    for level, case in cases.items():
        Case.objects.filter(pk=case.pk).update(level=level, resolve_due_at=PAST, warn_at=PAST)

    with CaptureQueriesContext(connection) as queries:
        report = cases_sweep_sla(now=NOW)

    assert report.escalated == 3
    moved = {
        level: (case.level, case.escalation_count, case.status)
        for level, case in ((lv, Case.objects.get(pk=c.pk)) for lv, c in cases.items())
    }
    assert moved == {
        "estate": ("community", 1, Status.SUBMITTED),
        "community": ("street", 1, Status.SUBMITTED),
        "street": ("district", 1, Status.SUBMITTED),
        "district": ("district", 0, Status.SUBMITTED),  # the top: never further
    }
    assert sorted(
        CaseEvent.objects.filter(action="escalate_timed").values_list("from_level", "to_level")
    ) == [("community", "street"), ("estate", "community"), ("street", "district")]
    updates = [
        q["sql"]
        for q in queries
        if q["sql"].startswith(("UPDATE", "WITH moved AS (UPDATE")) and "escalation_count" in q["sql"]
    ]
    # One compare-and-set UPDATE for all three rungs (PostgreSQL: one per batch, over its waves; SQLite by
    # id list: one per rung and deadlines).
    assert len(updates) == (3 if connection.vendor == "sqlite" and group_min == 1 else 1)
    escalated = Case.objects.get(pk=cases["estate"].pk)
    assert escalated.level_started_at == PAST and escalated.warned_at is None
    assert escalated.resolve_due_at is not None and escalated.resolve_due_at > NOW
    # The reporter of each escalated case hears once; a second sweep at the same instant does nothing.
    assert Notification.objects.filter(kind="case.escalate_timed").count() == 3
    assert cases_sweep_sla(now=NOW).escalated == 0
    assert Notification.objects.filter(kind="case.escalate_timed").count() == 3


def test_a_batch_takes_the_oldest_due_rows_up_to_its_size_even_inside_one_wave(world: World) -> None:
    # Five cases due at one deadline (one wave) and one due earlier: batches of two by (deadline, id).
    cases = [quiet_case(world) for _ in range(6)]
    Case.objects.filter(pk__in=[c.pk for c in cases[1:]]).update(resolve_due_at=PAST)
    Case.objects.filter(pk=cases[0].pk).update(resolve_due_at=PAST - dt.timedelta(hours=1))
    book = policy_book_load()

    rounds = [sweep_escalation.escalation_batch(now=NOW, book=book, batch_size=2) for _ in range(3)]

    assert [(r.escalated, r.more, r.again) for r in rounds] == [
        (2, True, False),
        (2, True, False),
        (2, False, False),
    ]
    moved = CaseEvent.objects.filter(action="escalate_timed").order_by("id").values_list("case_id", flat=True)
    # The earlier deadline first, then the wave in id order; each case once.
    assert sorted(moved[:2]) == sorted([cases[0].pk, cases[1].pk])
    assert sorted(moved) == sorted(c.pk for c in cases)
    assert set(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("level", flat=True)) == {
        "community"
    }
    assert sweep_escalation.escalation_batch(now=NOW, book=book, batch_size=2).escalated == 0


def test_deadlines_computed_per_distinct_start_and_terms_equal_one_by_one(world: World) -> None:
    days = Terms(dt.timedelta(hours=4), dt.timedelta(hours=2), Decimal(5), "days", 0.8)
    hours = Terms(dt.timedelta(hours=1), dt.timedelta(hours=1), Decimal("7.5"), "hours", 0.5)
    wave = dt.datetime(2025, 9, 9, 17, 30, tzinfo=SH)
    starts = [wave, wave, wave.astimezone(dt.UTC), NOW, wave, NOW, NOW + dt.timedelta(hours=3)]
    terms = [days, days, days, hours, hours, days, hours]

    many = deadlines_compute_many(starts, terms)

    assert many == [deadlines_compute(start=s, terms=t) for s, t in zip(starts, terms, strict=True)]
    assert many[0] is many[1]  # one computation for the shared pair
