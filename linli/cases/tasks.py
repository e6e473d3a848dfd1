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


@task()
def case_submitted_notify(case_id: int, event_id: int) -> bool:
    """Tell the reporter and the level's dispatchers of a new case (enqueued by the submission)."""
    from linli.cases.notify import case_notify_submitted

    return case_notify_submitted(case_id=case_id, event_id=event_id)
