"""Outbox delivery: enqueue, claim, send, mark; retry with backoff; the sweep that repairs lost work.

Every state change is one compare-and-set UPDATE (``filter(<expected state>).update(<new state>)``), so
two workers, a worker and the sweep, or a worker that was killed and re-run can never both win a step.
The provider is called between the claim and the mark, outside any transaction (slow I/O). If the
process dies in between, the row stays ``sending``; the sweep hands it back to the queue once the lease
has expired, and the retry passes the same idempotency key, so the person gets the message once
(QUALITY REL-5).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from linli.accounts.sms import phones_mask_in_text
from linli.notifications.channels import channel_for
from linli.notifications.models import CLAIMABLE_STATUSES, OutboxMessage, OutboxStatus
from linli.notifications.phones import outbox_phones_erase

if TYPE_CHECKING:
    from django_tasks.base import Task

logger = logging.getLogger("linli.notifications")

RETRY_BASE = timedelta(seconds=30)  # first retry 30 s after a failure, then 1, 2, 4 ... minutes
RETRY_CAP = timedelta(hours=1)
# Longer than any provider call may take (HTTP timeouts are ~10 s); a claim older than this is lost.
SENDING_LEASE = timedelta(minutes=5)
# A due row whose task has not run this long after it was due has lost its task (see outbox_sweep).
ORPHAN_GRACE = timedelta(minutes=2)
SWEEP_BATCH = 500
# The personal-information register keeps a message's full phone number 90 days after it is finished.
PHONE_RETENTION = timedelta(days=90)


def max_attempts() -> int:
    # With the defaults, 10 attempts span about 3 hours of provider outage before a message is dead.
    return int(settings.LINLI_OUTBOX_MAX_ATTEMPTS)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min ... ≤ 1 h."""
    return min(RETRY_BASE * (2 ** max(attempts - 1, 0)), RETRY_CAP)


def queue_is_this_database() -> bool:
    """True when delivery tasks are rows in our own database (django-tasks-db), as configured."""
    from django_tasks_db import DatabaseBackend

    from linli.notifications.tasks import outbox_deliver

    return isinstance(outbox_deliver.get_backend(), DatabaseBackend)


def task_enqueue_with_transaction(task: Task[Any, Any], *args: Any) -> None:
    """Enqueue ``task(*args)`` so that it stands or falls with the caller's transaction.

    With the queue in this database the task row is one more INSERT in that transaction (QUALITY REL-2:
    the business rows and their task rows commit together or not at all); with any other backend the
    task is enqueued once the transaction has committed (the house style's general rule).
    """
    if queue_is_this_database():
        task.enqueue(*args)
    else:
        transaction.on_commit(partial(task.enqueue, *args))


class TaskInTransaction:
    """``task_enqueue_with_transaction`` in two steps, for a transaction that should hold its locks briefly:
    made before the transaction opens (with the queue in this database the task's row is prepared then),
    ``enqueue(*args)`` inside it (the arguments added, the row written), once; ``announce()`` after it."""

    def __init__(self, task: Task[Any, Any]) -> None:
        from linli.core.tasks_backend import DatabaseBackend as ProjectBackend

        self.task = task
        backend = task.get_backend()
        self.row = backend.row_prepare(task) if isinstance(backend, ProjectBackend) else None

    def enqueue(self, *args: Any) -> None:
        if self.row is not None:
            self.row.write(list(args), {})
        else:
            task_enqueue_with_transaction(self.task, *args)

    def announce(self) -> None:
        """After the transaction: the queue's ``task_enqueued`` signal for the row ``enqueue`` wrote."""
        if self.row is not None:
            self.row.announce()


def outbox_enqueue(*, message_ids: list[int], run_after: datetime | None = None) -> None:
    """Enqueue one delivery task per message and remember its id on the row.

    Called inside the transaction that wrote (or re-armed) the rows. The house style bans enqueuing in
    an open transaction because a broker would see a task whose rows may still roll back; here the
    queue IS this database: the task row is one more INSERT in the same transaction, so the business
    row, the outbox rows and their tasks commit together or not at all (QUALITY REL-2). With any other
    task backend we fall back to the general rule and enqueue after commit.
    """
    if not message_ids:
        return
    from linli.notifications.tasks import outbox_deliver

    task = outbox_deliver.using(run_after=run_after) if run_after is not None else outbox_deliver
    if not queue_is_this_database():
        for message_id in message_ids:
            transaction.on_commit(partial(task.enqueue, message_id))
        return
    rows = []
    for message_id in message_ids:
        result = task.enqueue(message_id)
        rows.append(OutboxMessage(pk=message_id, task_id=str(result.id)))
    OutboxMessage.objects.bulk_update(rows, ["task_id"], batch_size=500)


def outbox_message_claim(*, message_id: int, now: datetime | None = None) -> OutboxMessage | None:
    """Compare-and-set pending|failed → sending if due; the one caller that wins gets the row."""
    now = now or timezone.now()
    won = OutboxMessage.objects.filter(
        pk=message_id, status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now
    ).update(status=OutboxStatus.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    if not won:
        return None
    return OutboxMessage.objects.get(pk=message_id)


def outbox_message_mark_sent(*, message: OutboxMessage, provider_message_id: str) -> bool:
    """sending → sent, only if this claim (same attempt number) still holds the row."""
    now = timezone.now()
    return bool(
        OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxStatus.SENDING, attempts=message.attempts
        ).update(
            status=OutboxStatus.SENT,
            sent_at=now,
            provider_message_id=provider_message_id[:100],
            last_error="",
            updated_at=now,
        )
    )


def outbox_message_mark_failed(*, message: OutboxMessage, error: str) -> OutboxStatus | None:
    """sending → failed (retry task enqueued with backoff) or → dead after too many attempts."""
    now = timezone.now()
    error = phones_mask_in_text(error)[:500]
    dead = message.attempts >= max_attempts()
    status = OutboxStatus.DEAD if dead else OutboxStatus.FAILED
    next_attempt_at = message.next_attempt_at if dead else now + retry_delay(message.attempts)
    with transaction.atomic():
        won = OutboxMessage.objects.filter(
            pk=message.pk, status=OutboxStatus.SENDING, attempts=message.attempts
        ).update(status=status, last_error=error, next_attempt_at=next_attempt_at, updated_at=now)
        if not won:
            return None
        if not dead:
            outbox_enqueue(message_ids=[message.pk], run_after=next_attempt_at)
    return status


def outbox_message_deliver(*, message_id: int) -> str:
    """Claim, send through the channel, mark. Returns what happened: skipped | sent | failed | dead."""
    message = outbox_message_claim(message_id=message_id)
    if message is None:
        return "skipped"  # not due, already sent, or another worker holds it: nothing to do
    try:
        provider_message_id = channel_for(message.channel).deliver(message)
    except Exception as exc:
        status = outbox_message_mark_failed(message=message, error=f"{type(exc).__name__}: {exc}")
        logger.warning(
            "outbox message %s (%s to %s) attempt %s failed: %s → %s",
            message.pk,
            message.channel,
            message.phone_display,
            message.attempts,
            phones_mask_in_text(f"{type(exc).__name__}: {exc}"),
            status,
        )
        return str(status or "skipped")
    if not outbox_message_mark_sent(message=message, provider_message_id=provider_message_id):
        # The lease expired while we were sending and another attempt took over; it reuses the
        # idempotency key, so the provider drops its copy.
        logger.warning("outbox message %s sent, but its claim had been taken over", message.pk)
    return "sent"


def outbox_message_requeue(*, message_id: int) -> bool:
    """Operator action: dead|failed → pending now, with a fresh task and a fresh set of attempts."""
    now = timezone.now()
    with transaction.atomic():
        # attempts=0: the operator grants a fresh set of attempts.
        won = OutboxMessage.objects.filter(
            pk=message_id, status__in=[OutboxStatus.DEAD, OutboxStatus.FAILED]
        ).update(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now, updated_at=now)
        if won:
            outbox_enqueue(message_ids=[message_id])
    return bool(won)


@dataclass(frozen=True)
class SweepResult:
    stale_requeued: int
    stale_dead: int
    orphans_requeued: int


def _waiting_task_ids(task_ids: list[str]) -> set[str]:
    """Of these task ids, the ones still waiting in the queue (READY)."""
    if not task_ids or not queue_is_this_database():
        return set()
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(id__in=task_ids, status=TaskResultStatus.READY)
    return {str(pk) for pk in waiting.values_list("id", flat=True)}


def outbox_sweep(*, now: datetime | None = None) -> SweepResult:
    """Idempotent repair pass, run every minute by the scheduler; safe to run concurrently.

    1. ``sending`` rows whose claim is older than the lease: the worker died between claim and mark.
       Compare-and-set them back to pending (or dead when out of attempts) and enqueue a task.
    2. Due ``pending``/``failed`` rows whose task is no longer waiting in the queue (task rows pruned,
       or a worker died after taking the task but before claiming the row): enqueue a fresh task.
    A duplicate task is harmless: delivery starts with a compare-and-set claim.
    """
    now = now or timezone.now()
    stale_requeued = stale_dead = orphans = 0
    stale = list(
        OutboxMessage.objects.filter(status=OutboxStatus.SENDING, claimed_at__lt=now - SENDING_LEASE)
        .order_by("claimed_at")
        .values_list("pk", "claimed_at", "attempts")[:SWEEP_BATCH]
    )
    for pk, claimed_at, attempts in stale:
        dead = attempts >= max_attempts()
        with transaction.atomic():
            won = OutboxMessage.objects.filter(
                pk=pk, status=OutboxStatus.SENDING, claimed_at=claimed_at
            ).update(
                status=OutboxStatus.DEAD if dead else OutboxStatus.PENDING,
                next_attempt_at=now,
                last_error="处理超时(工作进程中断),已重新排队" if not dead else "处理超时且重试次数已用尽",
                updated_at=now,
            )
            if won and not dead:
                outbox_enqueue(message_ids=[pk])
        if won:
            stale_dead += dead
            stale_requeued += not dead
            logger.warning(
                "outbox message %s: claim from %s expired → %s",
                pk,
                claimed_at,
                "dead" if dead else "requeued",
            )

    due = list(
        OutboxMessage.objects.filter(status__in=CLAIMABLE_STATUSES, next_attempt_at__lte=now - ORPHAN_GRACE)
        .order_by("next_attempt_at")
        .values_list("pk", "task_id")[:SWEEP_BATCH]
    )
    waiting = _waiting_task_ids([task_id for _, task_id in due if task_id])
    orphan_ids = [pk for pk, task_id in due if task_id not in waiting]
    if orphan_ids:
        with transaction.atomic():
            outbox_enqueue(message_ids=orphan_ids)
        orphans = len(orphan_ids)
        logger.warning("outbox sweep re-enqueued %s messages whose task was lost", orphans)
    return SweepResult(stale_requeued=stale_requeued, stale_dead=stale_dead, orphans_requeued=orphans)


def outbox_phone_retention(*, now: datetime | None = None) -> int:
    """Erase the full phone number of messages finished (sent or dead) more than 90 days ago."""
    now = now or timezone.now()
    finished = OutboxMessage.objects.filter(
        status__in=[OutboxStatus.SENT, OutboxStatus.DEAD], updated_at__lt=now - PHONE_RETENTION
    )
    return outbox_phones_erase(finished)
