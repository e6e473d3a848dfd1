"""Run many calls at once from a pool of threads, each thread on its own database connection (tests only).

``race(n, fn)`` starts ``threads`` threads at a barrier; they take call indices 0..n-1 from a shared
counter and run ``fn(i)``, so up to ``threads`` calls are in flight at any moment (PostgreSQL allows 100
connections; the pool keeps well under it). Each call's result or exception is returned at its index.

On the in-memory SQLite test database a second writer gets "database table is locked" at once instead of
waiting on busy_timeout as the file database does; the call is retried then, as the busy wait would do,
so the service's own compare-and-set or locking decides the outcome (see linli/core/tests/concurrency.py).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection


def race(n: int, fn: Callable[[int], Any], *, threads: int = 20, timeout: float = 120) -> list[Any]:
    threads = min(threads, n)
    barrier = threading.Barrier(threads)
    counter = itertools.count()
    lock = threading.Lock()
    results: list[Any] = [None] * n

    def call(i: int) -> Any:
        deadline = time.monotonic() + timeout
        for attempt in itertools.count():
            try:
                return fn(i)
            except OperationalError as exc:
                if connection.vendor != "sqlite" or "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                # Back off with jitter: twenty threads spinning on one lock mostly fight over the GIL.
                time.sleep(random.uniform(0, min(0.05, 0.001 * 2**attempt)))
        raise AssertionError("unreachable")

    def worker() -> None:
        try:
            barrier.wait(timeout=timeout)
            while True:
                with lock:
                    i = next(counter)
                if i >= n:
                    return
                try:
                    results[i] = call(i)
                except Exception as exc:  # the test inspects what each call got
                    results[i] = exc
        finally:
            connection.close()

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=timeout + 5)
    assert not any(t.is_alive() for t in pool), "a thread did not finish"
    return results
