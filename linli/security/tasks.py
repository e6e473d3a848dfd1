"""Periodic jobs of the security app (django-tasks): thin wrappers that call the services."""

from __future__ import annotations

from datetime import timedelta

from django_tasks import task

from linli.core.scheduler import periodic
from linli.security.audit_guard import audit_prune


@periodic(every=timedelta(hours=24), name="security.audit_prune")
@task()
def audit_prune_job() -> dict[str, object]:
    """Delete audit rows older than LINLI_AUDIT_RETENTION_DAYS (≥ 180), re-anchoring the chain (AUD-3)."""
    result = audit_prune()
    return {"deleted": result.deleted, "cutoff": result.cutoff.isoformat(), "genesis_seq": result.genesis_seq}
