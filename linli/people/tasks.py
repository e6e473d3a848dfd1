"""Periodic jobs of the people app (django-tasks): thin wrappers that call the services."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from linli.core.scheduler import periodic
from linli.people.services import care_overdue_sweep, people_grids_sync, people_retention_sweep


@periodic(every=timedelta(hours=1), name="people.care_overdue_sweep")
@task()
def care_overdue() -> dict[str, object]:
    """Notify visit-plan owners (and, daily, community secretaries) of overdue care visits."""
    return care_overdue_sweep().as_dict()


@periodic(every=timedelta(hours=24), name="people.retention_sweep")
@task()
def retention() -> dict[str, object]:
    """Delete care records, moved-out residents and departed stewards past their retention period (PI-3)."""
    return people_retention_sweep().as_dict()


@periodic(every=timedelta(hours=1), name="people.grids_sync")
@task()
def grids_sync() -> int:
    """Copy each building's grid onto its households, residents and care rows after re-gridding."""
    return people_grids_sync()
