"""The periodic-job scheduler: due jobs enqueued once, compare-and-set between concurrent schedulers."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, transaction
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from linli.core.models import ScheduledJobRun
from linli.core.scheduler import job_claim, periodic, periodic_jobs, scheduler_tick
from linli.core.tests.concurrency import run_in_threads

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SWEEP = "notifications.outbox_sweep"


def _sweep_tasks() -> int:
    return DBTaskResult.objects.filter(task_path="linli.notifications.tasks.outbox_sweep").count()


def test_jobs_are_discovered_from_the_apps_tasks_modules() -> None:
    jobs = {job.name: job for job in periodic_jobs()}
    assert jobs[SWEEP].every == timedelta(minutes=1)


def test_a_due_job_is_enqueued_once_per_interval(db: None) -> None:
    assert SWEEP in scheduler_tick(now=T0)
    assert SWEEP not in scheduler_tick(now=T0)  # claimed until T0 + 1 min
    assert SWEEP not in scheduler_tick(now=T0 + timedelta(seconds=59))
    # the first run has not been picked up by a worker yet: no second copy is queued
    assert SWEEP not in scheduler_tick(now=T0 + timedelta(minutes=1))
    DBTaskResult.objects.update(status="SUCCESSFUL")
    assert SWEEP in scheduler_tick(now=T0 + timedelta(minutes=2))
    row = ScheduledJobRun.objects.get(name=SWEEP)
    assert (row.last_run_at, row.locked_until) == (T0 + timedelta(minutes=2), T0 + timedelta(minutes=3))
    assert _sweep_tasks() == 2 and row.last_task_id == str(DBTaskResult.objects.latest("enqueued_at").id)


def test_after_hours_of_downtime_a_job_runs_once_not_once_per_missed_interval(db: None) -> None:
    scheduler_tick(now=T0)
    DBTaskResult.objects.update(status="SUCCESSFUL")
    assert SWEEP in scheduler_tick(now=T0 + timedelta(hours=5))
    assert SWEEP not in scheduler_tick(now=T0 + timedelta(hours=5))
    assert _sweep_tasks() == 2


def test_a_failed_enqueue_rolls_back_the_claim(db: None) -> None:
    ScheduledJobRun.objects.create(name=SWEEP)
    with pytest.raises(RuntimeError), transaction.atomic():
        assert job_claim(name=SWEEP, every=timedelta(minutes=1), now=T0)
        raise RuntimeError("enqueue failed")
    assert ScheduledJobRun.objects.get(name=SWEEP).locked_until is None
    assert SWEEP in scheduler_tick(now=T0)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_schedulers_claim_and_enqueue_a_due_job_exactly_once() -> None:
    # two schedulers ticking at the same instant: one enqueues, the other finds the job claimed
    results = run_in_threads(lambda: scheduler_tick(now=T0), n=2)
    # What was done is in the rows: one claim, one task. The answers say the same, except on the in-memory
    # SQLite test database, where a tick that committed its claim and then met "table is locked" on a
    # later job is retried whole by ``run_in_threads`` and its retry (rightly) finds the job claimed.
    assert _sweep_tasks() == 1
    assert ScheduledJobRun.objects.get(name=SWEEP).run_count == 1
    won = sum(SWEEP in names for names in results)
    assert won == 1 or (won == 0 and connection.vendor == "sqlite" and connection.is_in_memory_db())
    # and the bare claim, round after round
    for round_ in range(1, 4):
        now = T0 + timedelta(minutes=round_)

        def claim(now: datetime = now) -> bool:
            with transaction.atomic():
                return job_claim(name=SWEEP, every=timedelta(minutes=1), now=now)

        assert sorted(run_in_threads(claim, n=2)) == [False, True]
    assert ScheduledJobRun.objects.get(name=SWEEP).run_count == 4


def test_run_scheduler_once_enqueues_the_due_jobs(db: None) -> None:
    out = StringIO()
    with time_machine.travel(T0, tick=False):
        call_command("run_scheduler", "--once", stdout=out)
    assert SWEEP in out.getvalue() and _sweep_tasks() == 1


def test_periodic_refuses_a_plain_function_and_a_duplicate_name() -> None:
    def plain() -> None: ...

    with pytest.raises(ImproperlyConfigured, match="above @task"):
        periodic(every=timedelta(minutes=1), name="test.plain")(plain)  # type: ignore[arg-type]
    with pytest.raises(ImproperlyConfigured, match="two periodic jobs"):
        periodic(every=timedelta(minutes=1), name=SWEEP)(_other_job)


@task()
def _other_job() -> None: ...
