"""Periodic jobs of the accounts app (django-tasks): thin wrappers that call the services."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from linli.accounts.services import phone_codes_prune
from linli.core.scheduler import periodic


@periodic(every=timedelta(hours=1), name="accounts.phone_codes_prune")
@task()
def phone_codes_prune_job() -> dict[str, int]:
    """Delete SMS sign-in codes and per-phone throttle rows past their one-day retention."""
    return {"deleted": phone_codes_prune()}
