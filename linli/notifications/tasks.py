"""Tasks (django-tasks, stored in the database): thin wrappers that call the outbox services.

Run them with ``manage.py db_worker``; ``manage.py run_scheduler`` enqueues the periodic ones.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django_tasks import task

from linli.core.scheduler import periodic
from linli.notifications import outbox


@task()
def outbox_deliver(message_id: int) -> str:
    """Deliver one outbox message (claim → send → mark); a no-op if it is not due or already done."""
    return outbox.outbox_message_deliver(message_id=message_id)


@periodic(every=timedelta(minutes=1), name="notifications.outbox_sweep")
@task()
def outbox_sweep() -> dict[str, int]:
    """Re-queue messages whose worker died mid-delivery or whose task was lost."""
    return asdict(outbox.outbox_sweep())


@periodic(every=timedelta(hours=24), name="notifications.outbox_phone_retention")
@task()
def outbox_phone_retention() -> int:
    """Erase full phone numbers of messages finished more than 90 days ago (PI retention)."""
    return outbox.outbox_phone_retention()
