"""Group commit: the short write transactions of a process's concurrent requests share one COMMIT.

SQLite has one writer at a time, and most of a small transaction's time under the write lock is the
COMMIT itself: every page the transaction touched (the row's table page and one leaf page of every
index it updates, some twenty for a case) is appended to the WAL with a write of its own. Submissions
arriving together touch the same pages, so when one thread commits for all of them the lock is held
once, and a batch costs little more than one of its members (the databases' own "group commit").

``GroupCommit.run(work)`` runs ``work`` — a function that only executes statements — in a transaction
and returns its result once that transaction has committed. With no transaction open on the caller's
connection, the work joins the process's current batch: the first thread to arrive leads; it opens the
transaction (waiting for the writer lock), takes every batch member queued by then, runs each in its own
savepoint (so one member's error — a duplicate idempotency key — rolls back that member only and is
raised in its own thread), commits once and wakes the members. A member that arrives while a batch is
being written waits for the next one, which the first of those members leads. Inside a transaction the
caller already holds (a test's, an import's), the work runs there, in a savepoint, at once.

The work runs on the leader's thread and connection: it must not hold on to its own thread's connection
(``django.db.connection`` and ``connections[...]`` are looked up when used, so they are the leader's) and
must not register ``on_commit`` callbacks (they would run before the members are woken, in the leader);
other thread-local state it reads (the active language or time zone) is the leader's too.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.db import connections, transaction

T = TypeVar("T")

MAX_BATCH = 64


class _Member(Generic[T]):
    __slots__ = ("done", "error", "lead", "result", "work")

    def __init__(self, work: Callable[[], T]) -> None:
        self.work = work
        self.done = threading.Event()
        self.lead = False  # woken to lead the next batch, not with a result
        self.result: T | None = None
        self.error: BaseException | None = None


class GroupCommit:
    """One per database alias and process (``group_commit``)."""

    def __init__(self, using: str = "default") -> None:
        self.using = using
        self._lock = threading.Lock()
        self._queue: list[_Member[Any]] = []
        self._leading = False  # a thread is writing a batch or has been woken to
        self.batches = 0  # batches committed (the bench reports members per commit)
        self.members = 0  # members committed in them

    def run(self, work: Callable[[], T]) -> T:
        connection = connections[self.using]
        if connection.in_atomic_block or not enabled(connection.vendor):
            with transaction.atomic(using=self.using):
                return work()
        member = _Member(work)
        with self._lock:
            self._queue.append(member)
            lead = not self._leading
            self._leading = True
        if not lead:
            member.done.wait()
        while member.lead or lead:  # this thread leads a batch (its own member is in it or already done)
            member.lead = lead = False
            member.done.clear()
            self._write_batch()
            if not member.done.is_set():  # not in that batch after all: wait for ours
                member.done.wait()
        if member.error is not None:
            raise member.error
        return member.result  # type: ignore[return-value]

    def _write_batch(self) -> None:
        batch: list[_Member[Any]] = []
        try:
            # The batch is taken once the transaction (and so the writer lock) is ours: whoever queued
            # while the leader waited for it is in.
            with transaction.atomic(using=self.using):
                with self._lock:
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                if len(batch) == 1:
                    _run_member(batch[0])  # alone: its error rolls back the transaction below
                    if batch[0].error is not None:
                        transaction.set_rollback(True, using=self.using)
                else:
                    for member in batch:
                        # Its error, kept on the member, is raised in the member's own thread.
                        with contextlib.suppress(BaseException), transaction.atomic(using=self.using):
                            _run_member(member, reraise=True)
            committed = sum(1 for member in batch if member.error is None)
            if committed:  # (counted by the leader: one at a time)
                self.batches += 1
                self.members += committed
        except BaseException as exc:  # the COMMIT (or BEGIN) failed: nobody's work is in
            for member in batch:
                if member.error is None:
                    member.error = exc
            if not batch:  # the transaction never opened: the queue's first member hears of it
                with self._lock:
                    if self._queue:
                        batch = [self._queue.pop(0)]
                        batch[0].error = exc
        finally:
            with self._lock:
                successor = self._queue[0] if self._queue else None
                if successor is None:
                    self._leading = False
                else:
                    successor.lead = True
            for member in batch:
                member.done.set()
            if successor is not None:
                successor.done.set()


def _run_member(member: _Member[Any], *, reraise: bool = False) -> None:
    try:
        member.result = member.work()
    except BaseException as exc:
        member.error = exc
        if reraise:
            raise


def enabled(vendor: str) -> bool:
    """Batching pays where the database has one writer (SQLite); ``LINLI_GROUP_COMMIT`` overrides."""
    setting = getattr(settings, "LINLI_GROUP_COMMIT", None)
    return vendor == "sqlite" if setting is None else bool(setting)


_instances: dict[str, GroupCommit] = {}
_instances_lock = threading.Lock()


def group_commit(using: str = "default") -> GroupCommit:
    with _instances_lock:
        instance = _instances.get(using)
        if instance is None:
            instance = _instances[using] = GroupCommit(using)
        return instance
