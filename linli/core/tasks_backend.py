"""The task queue backend: django-tasks-db's database backend, writing its task row without the ORM compiler.

Every case submission enqueues a task in its own transaction (QUALITY REL-2), so the task row is on the
hottest write path; the library creates it with ``objects.create``, whose statement compilation cost more
CPU than the rest of the enqueue. Same row, same values, written by ``linli.core.fastsql.insert_prepare``
(which runs each field's ``pre_save`` and sends the model's signals, so ``enqueued_at`` and the library's
``run_after`` default are set as ``save`` sets them). ``row_prepare`` splits an enqueue in two: the row
built before the caller's transaction, the arguments added and the row written inside it, the library's
``task_enqueued`` signal sent after it.
Everything else — the worker, results, retries, SKIP LOCKED claiming — is the library's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.compat import normalize_json

from linli.core.fastsql import insert_prepare

if TYPE_CHECKING:
    from django_tasks.base import Task
    from django_tasks_db.backend import TaskResult
    from django_tasks_db.models import DBTaskResult


class PreparedTaskRow:
    """A task's row prepared before the caller's transaction; ``enqueue`` adds the arguments and writes it.

    For a task whose arguments are known only inside the transaction (the ids of rows it just wrote): the
    model instance and its INSERT are built beforehand, so a writer holding the database's lock only
    encodes the arguments and executes the statement. One row, one ``enqueue`` (the row's id is fixed).
    """

    def __init__(self, backend: DatabaseBackend, task: Task[Any, Any]) -> None:
        from django_tasks_db.models import DBTaskResult  # at run time: the app registry loads models late

        backend.validate_task(task)
        self.backend, self.task = backend, task
        self.row: DBTaskResult = DBTaskResult(
            id=backend._get_id(),
            args_kwargs={"args": [], "kwargs": {}},
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,  # type: ignore[misc]  # None: the pre_save receiver sets "no date"
            backend_name=backend.alias,
        )
        self.insert = insert_prepare(self.row)

    def write(self, args: Any, kwargs: Any) -> None:
        """Add the arguments and write the row, in the caller's transaction (once: the row's id is fixed)."""
        self.insert.set("args_kwargs", normalize_json({"args": args, "kwargs": kwargs}))
        self.insert.execute()

    def values_sql(self, args_kwargs_sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        """The row's INSERT with its arguments computed by the database (``args_kwargs_sql``, a JSON
        object ``{"args": [...], "kwargs": {...}}``): a part of the caller's statement; ``written`` after it."""
        return self.insert.values_sql({"args_kwargs": (args_kwargs_sql, params)})

    def written(self, args: Any, kwargs: Any) -> None:
        """The caller's statement wrote the row (``values_sql``) with these arguments."""
        self.row.args_kwargs = normalize_json({"args": args, "kwargs": kwargs})
        self.insert.done(self.row.pk)

    def announce(self) -> TaskResult[Any, Any]:
        """The written task's result, with ``task_enqueued`` sent as the library sends it: after ``write``,
        and best after the transaction has committed (a writer holding the lock does not build it).

        The result is the one ``DBTaskResult.task_result`` gives for a new row, built from the task at
        hand: the library's property imports the task again from its path and copies it.
        """
        from django_tasks_db.backend import TaskResult
        from django_tasks_db.utils import normalize_uuid

        row = self.row
        if self.task.run_after is not None:  # the library's copy differs (its "no date" marker): its way
            result = row.task_result
        else:
            result = TaskResult(
                db_result=row,
                task=self.task,
                id=normalize_uuid(row.id),
                status=TaskResultStatus.READY,
                enqueued_at=row.enqueued_at,
                started_at=None,
                last_attempted_at=None,
                finished_at=None,
                args=row.args_kwargs["args"],
                kwargs=row.args_kwargs["kwargs"],
                backend=row.backend_name,
                errors=[],
                worker_ids=[],
            )
        task_enqueued.send(type(self.backend), task_result=result)
        return result

    def enqueue(self, args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        """``write`` then ``announce``."""
        self.write(args, kwargs)
        return self.announce()


class DatabaseBackend(LibraryDatabaseBackend):
    def row_prepare(self, task: Task[Any, Any]) -> PreparedTaskRow:
        return PreparedTaskRow(self, task)

    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        # As the library's: its row built by insert_prepare, its TaskResult built once (the library
        # builds it for the signal and again for the caller: an import and a copy of the task each time).
        return self.row_prepare(task).enqueue(args, kwargs)
