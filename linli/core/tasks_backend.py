"""The task queue backend: django-tasks-db's database backend, writing its task row without the ORM compiler.

Every case submission enqueues a task in its own transaction (QUALITY REL-2), so the task row is on the
hottest write path; the library creates it with ``objects.create``, whose statement compilation cost more
CPU than the rest of the enqueue. Same row, same values, written by ``linli.core.fastsql.insert_instance``
(which runs each field's ``pre_save`` and sends the model's signals, so ``enqueued_at`` and the library's
``run_after`` default are set as ``save`` sets them).
Everything else — the worker, results, retries, SKIP LOCKED claiming — is the library's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django_tasks.signals import task_enqueued
from django_tasks_db import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.compat import normalize_json

from linli.core.fastsql import insert_instance

if TYPE_CHECKING:
    from django_tasks.base import Task, TaskResult
    from django_tasks_db.models import DBTaskResult


class DatabaseBackend(LibraryDatabaseBackend):
    def enqueue(self, task: Task[Any, Any], args: Any, kwargs: Any) -> TaskResult[Any, Any]:
        # As the library's, with the row's TaskResult built once (it builds it for the signal and again
        # for the caller: an import and a dataclass copy of the task each time).
        self.validate_task(task)
        result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=result)
        return result

    def _task_to_db_task(self, task: Task[Any, Any], args: Any, kwargs: Any) -> DBTaskResult:
        from django_tasks_db.models import DBTaskResult

        row: DBTaskResult = DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,  # type: ignore[misc]  # None: the pre_save receiver sets "no date"
            backend_name=self.alias,
        )
        insert_instance(row)
        return row
