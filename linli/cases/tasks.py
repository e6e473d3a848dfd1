"""Tasks of the closed loop (django-tasks): thin wrappers that call the services."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from linli.cases.services import cases_sweep_sla
from linli.core.scheduler import periodic


@periodic(every=timedelta(minutes=1), name="cases.sla_sweep")
@task()
def sla_sweep() -> dict[str, int]:
    """Escalate overdue cases, warn those near their deadline, close unrated resolved cases."""
    return cases_sweep_sla().as_dict()
