"""Reads: the timeline each viewer gets, the overdue board, nearby suggestions, counts, and the 721 figure."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from linli.cases.models import Case, CaseEvent
from linli.cases.selectors import (
    QueueFilters,
    _distance_m,
    case_counts_by_category,
    case_queue_for_user,
    case_timeline,
    cases_nearby_similar,
    cases_overdue,
    resolution_level_shares,
)
from linli.cases.services import case_answer, case_assign, case_comment, case_escalate, case_submit
from linli.cases.tests.factories import World, category, grid_point, submit
from linli.core.scheduler import periodic_jobs


def test_each_viewer_reads_the_timeline_they_may(world: World) -> None:
    case = submit(world)
    case_comment(case_id=case.pk, actor=world.secretary0, note="内部:联系物业经理张三 13800000000")
    case_comment(case_id=case.pk, actor=world.resident, note="补充:东门")
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk, note="请物业处理")

    staff = case_timeline(case, world.secretary0)
    assert [e.action for e in staff] == ["submit", "comment", "comment", "assign"]
    assert "张三" in staff[1].note and staff[1].actor == str(world.secretary0)

    reporter = case_timeline(case, world.resident)
    assert [e.action for e in reporter] == ["submit", "comment", "comment", "assign"]  # every step
    assert reporter[1].note == "" and reporter[1].actor == "工作人员"  # but not internal notes or names
    assert reporter[2].note == "补充:东门" and reporter[2].actor == "我"
    assert reporter[3].note == "请物业处理"  # public step

    public = case_timeline(case, world.resident2)
    assert [e.action for e in public] == ["submit", "assign"]
    assert all(e.note == "" or e.action == "assign" for e in public)
    assert all(e.actor in ("群众", "工作人员", "系统") for e in public)


def test_the_overdue_board_lists_open_cases_past_their_deadline(world: World) -> None:
    late = submit(world, grid=0)
    submit(world, grid=1)
    other = submit(world, grid=4)
    Case.objects.filter(pk__in=[late.pk, other.pk]).update(
        resolve_due_at=timezone.now() - dt.timedelta(hours=1)
    )
    assert [c.pk for c in cases_overdue(world.secretary0)] == [late.pk]
    assert {c.pk for c in cases_overdue(world.district_staff)} == {late.pk, other.pk}
    assert Case.objects.get(pk=late.pk).is_overdue
    overdue = case_queue_for_user(world.district_staff, QueueFilters(overdue=True))
    assert {c.pk for c in overdue} == {late.pk, other.pk}


def test_queue_reads_take_a_constant_number_of_queries(
    world: World, django_assert_num_queries: object
) -> None:
    for g in range(6):
        submit(world, grid=g % 2)
    user = world.secretary0
    list(case_queue_for_user(user, QueueFilters(queue="dispatch")))  # warm the per-request scope cache
    with django_assert_num_queries(1):  # type: ignore[operator]
        rows = list(case_queue_for_user(user, QueueFilters(queue="dispatch")))
        assert len(rows) == 6 and all(r.category is not None and r.community is not None for r in rows)


def test_nearby_similar_open_public_cases_are_offered_first(world: World) -> None:
    near = submit(world, grid=0)
    submit(world, grid=3)  # far away
    submit(world, grid=0, category_id=category("road.streetlight").pk)  # another category
    hidden = submit(world, grid=0, kind="tip_off")
    lat, lng = grid_point(world.d, 0)
    found = cases_nearby_similar(lat=lat + 0.0003, lng=lng, category_id=category("city.litter").pk)
    assert [c.pk for c, _ in found] == [near.pk]
    # metres from the case's public point (rounded to 0.001°), to 10 m
    expected = _distance_m(lat + 0.0003, lng, round(near.lat, 3), round(near.lng, 3))  # type: ignore[arg-type]
    assert found[0][1] == round(expected, -1) and found[0][1] <= 100
    assert hidden.pk not in [c.pk for c, _ in cases_nearby_similar(lat=lat, lng=lng, category_id=None)]


def test_counts_by_status_category_and_the_721_figure(world: World) -> None:
    a = submit(world, grid=0, kind="inquiry")
    b = submit(world, grid=1, kind="inquiry")
    c = submit(world, grid=2, kind="inquiry")
    submit(world, grid=3)
    case_answer(case_id=a.pk, actor=world.secretary0, result_text="ok")
    case_escalate(case_id=b.pk, actor=world.secretary0, note="x")
    case_escalate(case_id=b.pk, actor=world.secretary0, note="需街道")
    case_answer(case_id=b.pk, actor=world.street0, result_text="ok")
    for _ in range(3):
        case_escalate(case_id=c.pk, actor=world.district_staff, note="x")
    case_answer(case_id=c.pk, actor=world.district_staff, result_text="ok")
    now = timezone.now()
    shares = resolution_level_shares(
        region_path=world.d.district.path, start=now - dt.timedelta(days=1), end=now + dt.timedelta(days=1)
    )
    assert shares.total == 3
    assert (
        shares.by_level["estate"] == 1 and shares.by_level["street"] == 1 and shares.by_level["district"] == 1
    )
    assert shares.shares_721 == pytest.approx({"community": 1 / 3, "street": 1 / 3, "district": 1 / 3})
    assert case_counts_by_category(world.district_staff) == {"open": 1, "done": 3, "cancelled": 0}


def test_the_sla_sweep_is_registered_as_a_periodic_job() -> None:
    jobs = {job.name: job for job in periodic_jobs()}
    assert "cases.sla_sweep" in jobs and jobs["cases.sla_sweep"].every == dt.timedelta(minutes=1)


def test_a_failure_after_the_insert_leaves_neither_case_nor_messages(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """REL-2: the case, its event and its task row commit together or not at all."""
    from django_tasks_db.models import DBTaskResult

    from linli.cases.services import submit as submit_module
    from linli.notifications.models import Notification, OutboxMessage

    real_task = submit_module.case_submitted_task

    class FailingRow:
        """PostgreSQL writes the four rows in one statement: its last row, the task's, breaks a CHECK."""

        def __init__(self, real: Any) -> None:
            self.real = real

        def values_sql(self, *args: Any) -> Any:
            self.real.insert.set("priority", 1000)  # outside the queue's priority range
            return self.real.values_sql(*args)

    class Boom:
        def __init__(self) -> None:
            self.real = real_task()
            self.row = FailingRow(self.real.row) if self.real.row is not None else None

        def enqueue(self, *args: Any) -> None:
            self.real.enqueue(*args)  # the notice task's row is written, then something fails
            assert DBTaskResult.objects.count() == before[-1] + 1
            raise RuntimeError("provider exploded")

    def file() -> Case:
        return case_submit(
            text="x", channel="resident", reporter=world.resident, community_id=world.d.communities[0].pk
        ).case

    first = file()
    before = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        DBTaskResult.objects.count(),
    )
    monkeypatch.setattr(submit_module, "case_submitted_task", Boom)
    with pytest.raises((RuntimeError, IntegrityError)), transaction.atomic():
        file()
    after = (
        Case.objects.count(),
        CaseEvent.objects.count(),
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        DBTaskResult.objects.count(),
    )
    assert after == before
    # and the day's counter rolled back with it: the next case's number follows the first one's
    monkeypatch.setattr(submit_module, "case_submitted_task", real_task)
    following = file()
    assert int(following.number.split("-")[1]) == int(first.number.split("-")[1]) + 1
