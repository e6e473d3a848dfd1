"""Delivery through the real django-tasks-db worker: retries with backoff (REL-6), no duplicates after a
worker is killed mid-delivery (REL-5), the repair sweep, and no full phone numbers in logs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult
from pytest_django.fixtures import Settings

from linli.accounts.models import User
from linli.accounts.sms import ConsoleSmsBackend
from linli.accounts.tests.factories import ResidentFactory
from linli.notifications.models import OutboxMessage, OutboxStatus
from linli.notifications.outbox import (
    SENDING_LEASE,
    outbox_message_requeue,
    outbox_phone_retention,
    outbox_sweep,
    retry_delay,
)
from linli.notifications.services import notification_send
from linli.notifications.tests.conftest import CONSOLE, CRASH_AFTER_SEND, CRASH_BEFORE_SEND, FAILING

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
Worker = Callable[[], int]


def _notify(resident: User, key: str = "case:7:assigned") -> OutboxMessage:
    with transaction.atomic():
        notification_send(
            recipients=[resident],
            kind="case.assigned",
            title="新的工单",
            body="",
            link="/cases/7",
            sms_text=f"【邻里】您有新的工单,联系电话{resident.phone}。",
            dedup_key=key,
        )
    return OutboxMessage.objects.get(dedup_key=f"{key}:sms:u{resident.pk}")


def _sends(console: type[ConsoleSmsBackend], key: str) -> int:
    return sum(1 for d in console.deliveries if d.idempotency_key == key)


def _ready_tasks() -> int:
    return DBTaskResult.objects.filter(status="READY").count()


@pytest.mark.django_db(transaction=True)  # real commits, and the worker loop exactly as in production
def test_the_worker_delivers_a_committed_message_once(
    worker: Worker, console_sms: type[ConsoleSmsBackend]
) -> None:
    message = _notify(ResidentFactory())
    assert worker() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert message.sent_at is not None and message.provider_message_id.startswith("console-")
    assert _sends(console_sms, message.dedup_key) == 1
    assert DBTaskResult.objects.get(id=message.task_id).status == "SUCCESSFUL"
    assert worker() == 0  # nothing left to do


def test_with_the_sms_provider_down_the_business_commit_succeeds_and_the_message_is_retried_until_delivered(
    settings: Settings, worker: Worker, console_sms: type[ConsoleSmsBackend]
) -> None:
    settings.SMS_BACKEND = FAILING
    with time_machine.travel(T0, tick=False) as clock:
        # given the provider is down, when a business change notifies someone
        resident = ResidentFactory()
        with transaction.atomic():
            business_row = ResidentFactory(username="business-row")
            message = _notify(resident)
        # then the business change is committed regardless
        assert User.objects.filter(pk=business_row.pk).exists()

        # the first attempt fails and is rescheduled 30 s later
        assert worker() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.FAILED, 1)
        assert message.next_attempt_at == T0 + timedelta(seconds=30)
        assert "SmsProviderDown" in message.last_error and resident.phone not in message.last_error
        retry_task = DBTaskResult.objects.get(id=message.task_id)
        assert retry_task.status == "READY" and retry_task.run_after == T0 + timedelta(seconds=30)

        # nothing runs before it is due
        clock.shift(timedelta(seconds=29))
        assert worker() == 0
        # the second attempt fails too; the delay doubles
        clock.shift(timedelta(seconds=1))
        assert worker() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.FAILED, 2)
        assert message.next_attempt_at == T0 + timedelta(seconds=30 + 60)

        # when the provider recovers, the next attempt delivers it, once
        settings.SMS_BACKEND = CONSOLE
        clock.shift(timedelta(seconds=60))
        assert worker() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts, message.last_error) == (OutboxStatus.SENT, 3, "")
        assert _sends(console_sms, message.dedup_key) == 1
        assert _ready_tasks() == 0


def test_a_message_failing_every_attempt_goes_dead_and_an_operator_can_requeue_it(
    settings: Settings, worker: Worker, console_sms: type[ConsoleSmsBackend]
) -> None:
    settings.SMS_BACKEND = FAILING
    settings.LINLI_OUTBOX_MAX_ATTEMPTS = 3
    with time_machine.travel(T0, tick=False) as clock:
        message = _notify(ResidentFactory())
        for attempt in range(1, 4):
            assert worker() == 1
            clock.shift(retry_delay(attempt))
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.DEAD, 3)
        assert _ready_tasks() == 0 and worker() == 0  # given up: no further task

        settings.SMS_BACKEND = CONSOLE
        assert outbox_message_requeue(message_id=message.pk) is True
        assert outbox_message_requeue(message_id=message.pk) is False  # already pending
        assert worker() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 1)
    assert _sends(console_sms, message.dedup_key) == 1


@pytest.mark.parametrize("crash", [CRASH_AFTER_SEND, CRASH_BEFORE_SEND], ids=["after-send", "before-send"])
def test_a_worker_killed_mid_delivery_and_rerun_sends_no_duplicate(
    settings: Settings, worker: Worker, console_sms: type[ConsoleSmsBackend], crash: str
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        message = _notify(ResidentFactory())
        # the worker is killed between claiming the row and marking it sent
        settings.SMS_BACKEND = crash
        assert worker() == 1
        message.refresh_from_db()
        assert (message.status, message.attempts) == (OutboxStatus.SENDING, 1)
        settings.SMS_BACKEND = CONSOLE  # the restarted worker has a working provider

        # while the claim is fresh, neither the sweep nor the worker touches the row
        assert outbox_sweep().stale_requeued == 0 and worker() == 0

        # once the lease has expired, the scheduler's sweep re-queues it and the worker delivers it
        clock.shift(SENDING_LEASE + timedelta(seconds=1))
        call_command("run_scheduler", "--once", verbosity=0)
        assert worker() >= 2  # the sweep (and other apps' due jobs), then the delivery it enqueued
    message.refresh_from_db()
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)
    # the provider saw the key once (after-send: the retry's copy was dropped by its idempotency key)
    assert _sends(console_sms, message.dedup_key) == 1
    first = next(d for d in console_sms.deliveries if d.idempotency_key == message.dedup_key)
    assert message.provider_message_id == first.message_id


def test_the_sweep_re_enqueues_a_due_message_whose_task_was_lost(
    worker: Worker, console_sms: type[ConsoleSmsBackend]
) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        message = _notify(ResidentFactory())
        DBTaskResult.objects.all().delete()  # e.g. pruned, or taken by a worker that died before claiming
        assert outbox_sweep().orphans_requeued == 0  # not yet overdue
        clock.shift(timedelta(minutes=3))
        assert outbox_sweep().orphans_requeued == 1
        assert outbox_sweep().orphans_requeued == 0  # its new task is waiting: nothing more
        assert worker() == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and _sends(console_sms, message.dedup_key) == 1


def test_logs_task_rows_and_errors_never_hold_a_full_phone_number(
    settings: Settings, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    resident = ResidentFactory(phone="13812345678")
    with time_machine.travel(T0, tick=False) as clock:
        settings.SMS_BACKEND = FAILING
        message = _notify(resident)
        worker()
        settings.SMS_BACKEND = CONSOLE
        clock.shift(timedelta(minutes=1))
        worker()
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert "138****5678" in caplog.text
    assert "13812345678" not in caplog.text
    assert all("13812345678" not in r.getMessage() for r in caplog.records)
    for task in DBTaskResult.objects.all():
        assert "13812345678" not in f"{task.args_kwargs}{task.traceback}{task.return_value}"


def test_full_phone_numbers_are_erased_90_days_after_delivery(worker: Worker) -> None:
    with time_machine.travel(T0, tick=False) as clock:
        sent = _notify(ResidentFactory(phone="13812345678"), key="old")
        worker()
        clock.shift(timedelta(days=60))
        pending = _notify(ResidentFactory(phone="13912345678"), key="pending")
        clock.shift(timedelta(days=31))
        assert outbox_phone_retention() == 1
        assert outbox_phone_retention() == 0
    sent.refresh_from_db()
    pending.refresh_from_db()
    assert (sent.phone, sent.phone_display, sent.status) == ("", "138****5678", OutboxStatus.SENT)
    assert pending.phone == "13912345678"  # not finished: still needed to deliver it
