"""Periodic jobs of the patrols app (django-tasks): thin wrappers that call the services."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from linli.core.scheduler import periodic
from linli.patrols.services import patrol_tracks_purge, patrols_close_stale


@periodic(every=timedelta(hours=1), name="patrols.retention")
@task()
def patrols_retention() -> dict[str, int]:
    """End patrols left open too long, then delete tracks past their retention period (PI-3)."""
    closed = patrols_close_stale(max_hours=settings.LINLI_PATROL_MAX_HOURS)
    report = patrol_tracks_purge()
    return {"closed": closed, "patrols": report.patrols, "points": report.points, "passes": report.passes}
