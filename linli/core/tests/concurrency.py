"""Run one function in several threads at once, each on its own database connection (tests only).

Needs ``django_db(transaction=True)`` so the threads see each other's commits. On PostgreSQL the
threads really contend (row locks, unique indexes). The SQLite test database is in memory with a
shared cache, which answers a second writer "database table is locked" at once instead of waiting on
busy_timeout as the file database in production does; the whole attempt is retried then, as the
busy wait would have done, so the function's own compare-and-set logic is what decides the outcome.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError, connection

T = TypeVar("T")


def run_in_threads(fn: Callable[[], T], n: int = 2, timeout: float = 30) -> list[T]:
    barrier = threading.Barrier(n)
    results: list[T] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def target() -> None:
        try:
            barrier.wait(timeout=timeout)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    result = fn()
                    break
                except OperationalError as exc:
                    locked = connection.vendor == "sqlite" and "locked" in str(exc)
                    if not locked or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
            with lock:
                results.append(result)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=target) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout + 5)
    if errors:
        raise errors[0]
    assert len(results) == n, "a thread did not finish"
    return results
