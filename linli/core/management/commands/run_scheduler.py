"""``manage.py run_scheduler [--once] [--interval SECONDS]``: enqueue due periodic jobs as tasks.

Run one or more (on several machines, for availability); the per-job compare-and-set claim keeps them
from enqueuing a run twice. The jobs themselves run in ``manage.py db_worker``.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from linli.core.scheduler import next_due_at, periodic_jobs, scheduler_tick


class Command(BaseCommand):
    help = "定时任务调度器:把到期的周期任务放入任务队列(由 db_worker 执行)。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="enqueue the jobs due now, then exit")
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="longest sleep between checks, in seconds (default 5)",
        )

    def handle(self, *args: Any, once: bool, interval: float, verbosity: int, **options: Any) -> None:
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        if not once:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            names = ", ".join(job.name for job in periodic_jobs()) or "-"
            self.stdout.write(f"scheduler started; jobs: {names}")
        while True:
            enqueued = scheduler_tick()
            if verbosity >= 1 and (enqueued or once):
                self.stdout.write(
                    f"{timezone.now():%Y-%m-%d %H:%M:%S} enqueued: {', '.join(enqueued) or '-'}"
                )
            if once:
                break
            due = next_due_at()
            wait = interval if due is None else (due - timezone.now()).total_seconds()
            if stop.wait(min(max(wait, 0.2), interval)):
                break
            # Like a request boundary: drop a connection the database closed or that outlived its age.
            close_old_connections()
