"""The embedded backend's writer gate (``linli.core.sqlite``) on a real database file: writers of threads
and processes queue on it before ``BEGIN IMMEDIATE``, it is released after COMMIT and ROLLBACK, and a
wait past the connection's timeout fails as SQLite would."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connections

from linli.core.sqlite.base import DatabaseWrapper, writer_gate


@pytest.fixture(autouse=True)
def _own_connections(django_db_blocker: Any) -> Any:
    """These tests open their own connections to their own files, not the test database."""
    with django_db_blocker.unblock():
        yield


def _wrapper(path: Path, timeout: float = 20) -> DatabaseWrapper:
    settings = dict(connections["default"].settings_dict)
    if "sqlite" not in str(settings["ENGINE"]):
        pytest.skip("the embedded (SQLite) backend's gate")
    settings |= {"NAME": str(path), "OPTIONS": {**settings["OPTIONS"], "timeout": timeout}}
    return DatabaseWrapper(settings, alias=f"gate-{path.name}")


def _begin(w: DatabaseWrapper) -> None:
    w.ensure_connection()
    w._start_transaction_under_autocommit()


def test_concurrent_writers_of_many_threads_each_get_the_lock_in_turn(tmp_path: Path) -> None:
    db = tmp_path / "gate.sqlite3"
    setup = _wrapper(db)
    with setup.cursor() as cursor:
        cursor.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        cursor.execute("INSERT INTO counter VALUES (0)")
    setup.close()
    errors: list[BaseException] = []

    def work() -> None:
        w = _wrapper(db)
        try:
            for _ in range(25):
                _begin(w)
                with w.cursor() as cursor:
                    cursor.execute("SELECT n FROM counter")
                    n = cursor.fetchone()[0]
                    time.sleep(0.0002)  # read-modify-write: lost updates if two held the lock at once
                    cursor.execute("UPDATE counter SET n = %s", [n + 1])
                w.commit()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            w.close()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    check = _wrapper(db)
    with check.cursor() as cursor:
        cursor.execute("SELECT n FROM counter")
        assert cursor.fetchone()[0] == 200
    check.close()


def test_the_gate_is_released_after_a_rollback_and_a_wait_past_the_timeout_fails(tmp_path: Path) -> None:
    db = tmp_path / "gate.sqlite3"
    first, second = _wrapper(db), _wrapper(db, timeout=0.2)
    gate = writer_gate(str(db), in_memory=False)
    _begin(first)
    assert gate._threads.locked()  # the gate, not only SQLite's lock, is held for the transaction
    started = time.monotonic()
    with pytest.raises(OperationalError, match="database is locked"):
        _begin(second)  # the first holds it: refused once the timeout has passed
    assert 0.15 < time.monotonic() - started < 5
    first.rollback()
    assert not gate._threads.locked()
    _begin(second)  # released by the rollback
    second.commit()
    _begin(first)  # and by the commit
    first.commit()
    first.close()
    second.close()


def _hold_in_another_process(path: str, held: Any, release: Any) -> None:
    gate = writer_gate(path, in_memory=False)
    gate.acquire(5)
    held.set()
    release.wait(5)
    gate.release()


def test_a_writer_waits_for_another_process_that_holds_the_gate(tmp_path: Path) -> None:
    db = str(tmp_path / "gate.sqlite3")
    ctx = multiprocessing.get_context("fork")
    held, release = ctx.Event(), ctx.Event()
    child = ctx.Process(target=_hold_in_another_process, args=(db, held, release))
    child.start()
    try:
        assert held.wait(10)
        gate = writer_gate(db, in_memory=False)
        with pytest.raises(OperationalError):
            gate.acquire(0.1)  # the other process holds the file lock
        threading.Timer(0.2, release.set).start()
        started = time.monotonic()
        gate.acquire(5)  # granted once the other process lets go
        waited = time.monotonic() - started
        gate.release()
        assert 0.1 < waited < 5
    finally:
        release.set()
        child.join(10)


def _take_and_report(path: str, took: Any) -> None:
    gate = writer_gate(path, in_memory=False)
    gate.acquire(5)
    took.set()
    gate.release()


def test_a_wait_given_up_does_not_keep_the_lock_when_it_comes_later(tmp_path: Path) -> None:
    """The blocking wait runs in a helper thread: when the writer has given up (its timeout), the lock the
    helper gets afterwards is let go at once, so another process is not locked out by an abandoned wait."""
    db = str(tmp_path / "gate.sqlite3")
    ctx = multiprocessing.get_context("fork")
    held, release, took = ctx.Event(), ctx.Event(), ctx.Event()
    holder = ctx.Process(target=_hold_in_another_process, args=(db, held, release))
    holder.start()
    try:
        assert held.wait(10)
        gate = writer_gate(db, in_memory=False)
        with pytest.raises(OperationalError, match="database is locked"):
            gate.acquire(0.1)  # gives up; its helper is still waiting in flock
        assert not gate._threads.locked()
        release.set()
        holder.join(10)
        other = ctx.Process(target=_take_and_report, args=(db, took))
        other.start()
        assert took.wait(5)  # the helper got the lock after the holder and let it go
        other.join(10)
        gate.acquire(5)  # and this process can still take it
        gate.release()
    finally:
        release.set()
        holder.join(10)
