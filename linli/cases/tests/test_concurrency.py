"""Races with real threads and separate connections (QUALITY REL-1, REL-3, REL-4).

On PostgreSQL (and a file SQLite database) the losers block on row locks and then see the winner's row.
The default SQLite test database is in memory with a shared cache, where a second writer gets "database
table is locked" at once instead of waiting; ``retrying`` plays the client that retries, which is what a
phone on a weak network does anyway. The properties checked are the same on every backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.accounts.tests.factories import UserFactory
from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseEvent, Status
from linli.cases.services import case_accept, case_assign, case_submit, cases_sweep_sla
from linli.cases.tests.factories import World, category, grid_point, submit

T = TypeVar("T")
pytestmark = pytest.mark.django_db(transaction=True)


def retrying(fn: Callable[[], T]) -> T:
    for attempt in range(400):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 399:
                raise
            time.sleep(0.005)
    raise AssertionError("unreachable")


def run_threads(n: int, target: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = retrying(lambda: target(i))
        except Exception as exc:  # the test inspects what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_fifty_identical_submissions_make_one_case(world: World) -> None:
    lat, lng = grid_point(world.d, 3)
    litter = category("city.litter").pk

    def post(i: int) -> Any:
        return case_submit(
            text="垃圾桶满了",
            channel="resident",
            reporter=world.resident,
            category_id=litter,
            lat=lat,
            lng=lng,
            idempotency_key="phone-retry-000000001",
        )

    results = run_threads(50, post)
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    assert Case.objects.filter(idempotency_key="phone-retry-000000001").count() == 1
    assert len({r.case.pk for r in results}) == 1
    assert sum(r.created for r in results) == 1
    case = results[0].case
    assert CaseEvent.objects.filter(case_id=case.pk, action="submit").count() == 1


def test_concurrent_submissions_get_distinct_numbers(world: World) -> None:
    results = run_threads(12, lambda i: submit(world, grid=i % 8, idempotency_key=f"distinct-key-{i:04d}"))
    assert not [r for r in results if isinstance(r, Exception)]
    numbers = [r.number for r in results]
    assert len(set(numbers)) == 12
    suffixes = sorted(int(n.split("-")[1]) for n in numbers)
    assert suffixes == list(range(suffixes[0], suffixes[0] + 12))  # no gaps, no repeats


def test_of_two_concurrent_accepts_exactly_one_wins(world: World) -> None:
    colleague = UserFactory(username="handler0b")
    membership_grant(user=colleague, role=Role.UNIT_HANDLER, unit_id=world.unit0.pk)
    case = submit(world)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    actors = [world.handler0, colleague]

    results = run_threads(2, lambda i: case_accept(case_id=case.pk, actor=actors[i]))
    wins = [r for r in results if isinstance(r, Case)]
    losses = [r for r in results if isinstance(r, CaseError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].code == "invalid_transition"
    case.refresh_from_db()
    assert case.status == Status.IN_PROGRESS and case.assignee_id == wins[0].assignee_id
    assert CaseEvent.objects.filter(case=case, action="accept").count() == 1


def test_two_concurrent_sweeps_escalate_each_case_once(world: World) -> None:
    past = timezone.now() - timedelta(days=30)
    cases = [submit(world, grid=i % 8, now=past) for i in range(40)]
    # Only the first deadline has passed: each case must move up exactly one level.
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(
        resolve_due_at=timezone.now() - timedelta(minutes=5)
    )
    now = timezone.now()

    results = run_threads(2, lambda i: cases_sweep_sla(now=now, batch_size=8))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(r.escalated for r in results) == 40
    for case in Case.objects.filter(pk__in=[c.pk for c in cases]):
        assert case.level == "community" and case.escalation_count == 1
    assert CaseEvent.objects.filter(action="escalate_timed").count() == 40
