"""The embedded database: Django's SQLite backend with a writer gate in front of ``BEGIN IMMEDIATE``.

SQLite has one writer at a time. A connection that finds the write lock taken waits in SQLite's busy
handler, which sleeps in steps of 1, 2, 5, 10, 15, 20, 25 … 100 ms and tries again: the lock may have
been free for most of that sleep. Measured under the case-submission bench (2 processes × 4 threads,
16 clients), ``BEGIN IMMEDIATE`` waited 8–12 ms on average, 35–46 ms at the 95th percentile and up to a
second, for transactions that hold the lock well under a millisecond of work.

So our own writers queue before they ask SQLite: the threads of a process on a ``threading.Lock``
(handed to the next waiter as soon as it is released), the processes on an ``flock`` of a file beside the
database. A process whose writer finds the file lock taken waits for it in a blocking ``flock``, which
the kernel ends the moment the other process lets go: polling instead (sleeps of 0.1–1 ms) left the lock
idle for most of a sleep while the other process's own next writer took it again, and under the
submission bench kept a third of the CPU idle. The blocking call runs in a helper thread of the process
(one at a time: the thread lock comes first), so the writer can stop waiting at its timeout; a lock the
helper obtains after that is let go at once. The gate is taken just before ``BEGIN IMMEDIATE`` and
released after the COMMIT or ROLLBACK (or when the connection closes). Writers that are not ours — a shell, a backup tool,
statements in autocommit mode — still meet SQLite's busy handler, as before. Waiting longer than the
connection's ``timeout`` raises ``OperationalError("database is locked")`` (Django's), as SQLite would.

An in-memory database (the test suite's default) has no file to lock and no other process: the gate is
only the thread lock there.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class _FileLockWaiter:
    """A thread that waits in a blocking ``flock`` for the writer that asked, which waits with a timeout.

    At most one request is outstanding (the gate's thread lock is held while waiting). A request the
    writer gave up on before the lock came is abandoned: the helper releases the lock as soon as it has it.
    """

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._state = threading.Condition()
        self._asked = False
        self._granted = False
        self._abandoned = False
        self._thread = threading.Thread(target=self._serve, name="linli-sqlite-gate", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            with self._state:
                while not self._asked:
                    self._state.wait()
                self._asked = False
            fcntl.flock(self.fd, fcntl.LOCK_EX)  # blocks, without the GIL, until the other process lets go
            with self._state:
                if self._abandoned:
                    self._abandoned = False
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
                else:
                    self._granted = True
                self._state.notify_all()

    def acquire(self, timeout: float) -> bool:
        with self._state:
            self._granted = False
            self._asked = True
            self._state.notify_all()
            if self._state.wait_for(lambda: self._granted, timeout=max(timeout, 0.0)):
                self._granted = False
                return True
            if self._asked:  # the helper has not begun to wait: nothing to undo
                self._asked = False
            else:
                self._abandoned = True  # the helper lets the lock go when it gets it
            return False


class WriterGate:
    """One per database file and process: a thread lock, then an ``flock`` shared with other processes."""

    def __init__(self, lock_path: str | None) -> None:
        self.lock_path = lock_path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0
        self._waiter: _FileLockWaiter | None = None

    def _file(self) -> int:
        # Opened in the process that locks: a descriptor inherited over fork would share its lock (and
        # the helper thread does not survive a fork).
        if self._fd is None or self._pid != os.getpid():
            assert self.lock_path is not None
            self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
            self._waiter = None
        return self._fd

    def acquire(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        if not self._threads.acquire(timeout=max(timeout, 0.0)):
            raise OperationalError("database is locked")
        if self.lock_path is None:
            return
        try:
            fd = self._file()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free: taken here, no thread handoff
            except BlockingIOError:  # another process holds it: the helper waits for it
                if self._waiter is None:
                    self._waiter = _FileLockWaiter(fd)
                if not self._waiter.acquire(deadline - time.monotonic()):
                    raise OperationalError("database is locked") from None
        except BaseException:
            self._threads.release()
            raise

    def release(self) -> None:
        try:
            if self.lock_path is not None and self._fd is not None and self._pid == os.getpid():
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()


_gates: dict[str, WriterGate] = {}
_gates_lock = threading.Lock()


def writer_gate(name: str, *, in_memory: bool) -> WriterGate:
    key = os.path.abspath(name) if not in_memory else f"memory:{name}"
    with _gates_lock:
        gate = _gates.get(key)
        if gate is None:
            gate = _gates[key] = WriterGate(None if in_memory else key + ".writer-lock")
        return gate


class DatabaseWrapper(base.DatabaseWrapper):
    _gate_held = False

    def _gate(self) -> WriterGate:
        return writer_gate(str(self.settings_dict["NAME"]), in_memory=self.is_in_memory_db())

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        gate = self._gate()
        if not self._gate_held:
            gate.acquire(timeout)
            self._gate_held = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private in the stubs
        except BaseException:
            self._gate_release()
            raise

    def _gate_release(self) -> None:
        if self._gate_held:
            self._gate_held = False
            self._gate().release()

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._gate_release()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._gate_release()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._gate_release()
