"""A small scheduler for periodic jobs: it only enqueues django-tasks; workers run them.

Register a job in an app's ``tasks.py`` (modules named ``tasks`` are discovered)::

    @periodic(every=timedelta(minutes=1), name="cases.sla_sweep")
    @task()
    def sla_sweep() -> int: ...

Jobs must be idempotent sweeps over stored state (a deadline column, a status), never "do X once per
tick": a tick can be skipped (scheduler down) or, after a crash, a run can overlap the next one.

``manage.py run_scheduler`` calls ``scheduler_tick`` every few seconds. Each job has one
``ScheduledJobRun`` row; a due job is claimed with one conditional UPDATE (compare-and-set on
``locked_until``), and the task row is inserted in the same transaction, so schedulers on several
machines enqueue each due run exactly once, and a claim without its task cannot commit. After a long
outage a job runs once, not once per missed interval. A job whose previous task is still waiting in the
queue (workers down or behind) is not enqueued again, so the queue does not fill with copies.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import TaskResultStatus
from django_tasks.base import Task
from django_tasks.exceptions import TaskResultDoesNotExist

from linli.core.models import ScheduledJobRun

logger = logging.getLogger("linli.scheduler")


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    task: Task[[], Any]


_registry: dict[str, PeriodicJob] = {}


def periodic(*, every: timedelta, name: str) -> Callable[[Task[[], Any]], Task[[], Any]]:
    """Register a django-tasks ``Task`` (taking no arguments) to be enqueued every ``every``."""
    if every < timedelta(seconds=1):
        raise ImproperlyConfigured(f"periodic job {name!r}: interval must be at least one second")
    if not name or len(name) > 100:
        raise ImproperlyConfigured("periodic job names are 1–100 characters")

    def register(job_task: Task[[], Any]) -> Task[[], Any]:
        if not isinstance(job_task, Task):
            raise ImproperlyConfigured(f"@periodic({name!r}) must decorate a task: put it above @task()")
        existing = _registry.get(name)
        if existing is not None and existing.task.module_path != job_task.module_path:
            raise ImproperlyConfigured(f"two periodic jobs are named {name!r}")
        _registry[name] = PeriodicJob(name=name, every=every, task=job_task)
        return job_task

    return register


def periodic_jobs() -> list[PeriodicJob]:
    """Every registered job, after importing each installed app's ``tasks`` module."""
    autodiscover_modules("tasks")
    return sorted(_registry.values(), key=lambda job: job.name)


def job_claim(*, name: str, every: timedelta, now: datetime) -> bool:
    """Compare-and-set: take the job's run at ``now`` if nobody holds it; True for exactly one caller.

    On PostgreSQL a concurrent UPDATE of the same row waits for the first to commit and then re-checks
    the WHERE clause against the new ``locked_until``, so it updates nothing; SQLite serialises writers.
    """
    won = (
        ScheduledJobRun.objects.filter(name=name)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lte=now))
        .update(last_run_at=now, locked_until=now + every, run_count=F("run_count") + 1)
    )
    return won == 1


def _still_queued(job: PeriodicJob, task_id: str) -> bool:
    if not task_id:
        return False
    try:
        result = job.task.get_backend().get_result(task_id)
    except (TaskResultDoesNotExist, NotImplementedError, ValueError):
        return False
    return result.status == TaskResultStatus.READY


def scheduler_tick(*, now: datetime | None = None) -> list[str]:
    """Enqueue every due job once; returns the names enqueued by this call."""
    now = now or timezone.now()
    jobs = periodic_jobs()
    known = dict(
        ScheduledJobRun.objects.filter(name__in=[job.name for job in jobs]).values_list(
            "name", "locked_until"
        )
    )
    missing = [ScheduledJobRun(name=job.name) for job in jobs if job.name not in known]
    if missing:
        ScheduledJobRun.objects.bulk_create(missing, ignore_conflicts=True)  # another scheduler may race us
    enqueued: list[str] = []
    for job in jobs:
        locked_until = known.get(job.name)
        if locked_until is not None and locked_until > now:
            continue  # not due: skip without a write (for due jobs the claim below decides)
        with transaction.atomic():
            if not job_claim(name=job.name, every=job.every, now=now):
                continue
            previous = (
                ScheduledJobRun.objects.filter(name=job.name).values_list("last_task_id", flat=True).get()
            )
            if _still_queued(job, previous):
                logger.warning(
                    "periodic job %s: previous run %s still queued; not enqueued again", job.name, previous
                )
                continue
            result = job.task.enqueue()
            ScheduledJobRun.objects.filter(name=job.name).update(last_task_id=str(result.id))
        enqueued.append(job.name)
        logger.info("periodic job %s enqueued as task %s", job.name, result.id)
    return enqueued


def next_due_at(*, now: datetime | None = None) -> datetime | None:
    """The earliest time a registered job becomes due (for the command's sleep), None if none is known."""
    now = now or timezone.now()
    names = [job.name for job in periodic_jobs()]
    rows = dict(ScheduledJobRun.objects.filter(name__in=names).values_list("name", "locked_until"))
    due = [rows.get(name) for name in names]
    if not due:
        return None
    return min((at or now for at in due), default=None)
