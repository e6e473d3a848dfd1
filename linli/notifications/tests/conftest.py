from __future__ import annotations

from collections.abc import Callable, Iterator
from unittest.mock import patch

import pytest
from django.db import connection
from django_tasks_db.management.commands import db_worker
from django_tasks_db.management.commands.db_worker import Worker
from pytest_django.fixtures import Settings

from linli.accounts.sms import ConsoleSmsBackend

CONSOLE = "linli.accounts.sms.ConsoleSmsBackend"
FAILING = "linli.notifications.tests.sms_backends.FailingSmsBackend"
CRASH_AFTER_SEND = "linli.notifications.tests.sms_backends.CrashAfterSendSmsBackend"
CRASH_BEFORE_SEND = "linli.notifications.tests.sms_backends.CrashBeforeSendSmsBackend"


@pytest.fixture(autouse=True)
def console_sms(settings: Settings) -> Iterator[type[ConsoleSmsBackend]]:
    """Every test starts with the console SMS backend and an empty record of what it sent."""
    settings.SMS_BACKEND = CONSOLE
    ConsoleSmsBackend.reset()
    yield ConsoleSmsBackend
    ConsoleSmsBackend.reset()


def run_worker_batch() -> int:
    """The real django-tasks-db worker loop in batch mode: run every ready task, then return the count."""
    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="pytest-worker",
        excluded_queue_names=[],
    )
    if connection.in_atomic_block:
        # Inside a test's transaction (the ``db`` fixture) the loop's close_old_connections() would drop
        # the connection and the test's uncommitted rows with it; Django's test client unhooks it from
        # the request signals for the same reason. The rest of the loop runs as in production.
        with patch.object(db_worker, "close_old_connections", lambda: None):
            worker.run()
    else:
        worker.run()
    return worker._run_tasks


@pytest.fixture
def worker() -> Callable[[], int]:
    return run_worker_batch
