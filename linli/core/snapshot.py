"""A value built from a few database tables, kept per process and rebuilt when the tables' stamp moves.

The pattern behind the working calendar (``linli.workdays.rules``) and the case rules
(``linli.cases.rules_cache``): reading them on every request costs queries, and they change a few times a
year. Each process holds one snapshot; the version stamp (one cheap query over the tables) is re-read at
most every ``recheck()`` seconds, and the snapshot is rebuilt only when the stamp moved. A change made in
this process calls ``recheck_now()`` (see it at once) or ``drop()`` (rebuild whatever the stamp says).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class VersionedSnapshot(Generic[T]):
    def __init__(
        self,
        *,
        version: Callable[[], str],
        build: Callable[[str], T],
        recheck: Callable[[], float],
    ) -> None:
        self._version, self._build, self._recheck = version, build, recheck
        self._value: T | None = None
        self._built_from = ""
        self._checked_at = -math.inf
        self._lock = threading.Lock()

    def get(self) -> T:
        """The current snapshot; re-reads the stamp at most every ``recheck()`` seconds."""
        now = time.monotonic()
        value = self._value
        if value is not None and now - self._checked_at < self._recheck():
            return value
        version = self._version()
        with self._lock:
            value = self._value
            if value is None or self._built_from != version:
                value = self._build(version)
                self._value, self._built_from = value, version
            self._checked_at = now
        return value

    def recheck_now(self) -> None:
        """The next ``get()`` re-reads the stamp (this process just changed the tables)."""
        self._checked_at = -math.inf

    def drop(self) -> None:
        """The next ``get()`` rebuilds, whatever the stamp says: a change and its rollback can leave the
        stamp where it was while the snapshot holds the rolled-back rows."""
        self._value = None
        self._checked_at = -math.inf


class TransactionWatch:
    """Calls ``on_end`` when a change made inside a transaction ends, by commit or by rollback.

    ``changed()`` runs ``on_end`` at once (this transaction sees its own change) and again when the
    transaction ends, so a snapshot built from an uncommitted change cannot outlive it. Django has no
    rollback hook, but it drops a rolled-back block's on_commit callbacks from the connection's list (and
    empties the list after a commit): ``check()``, called before each use of the snapshot, finds a tracked
    callback gone and runs ``on_end``. Tracked per thread, i.e. per database connection.
    """

    def __init__(self, on_end: Callable[[], None]) -> None:
        self._on_end = on_end
        self._local = threading.local()

    def changed(self, using: str | None = None) -> None:
        from django.db import transaction

        self._on_end()
        connection = transaction.get_connection(using)
        if not connection.in_atomic_block:
            return  # autocommit: the change is already committed

        def ended() -> None:
            self._on_end()

        transaction.on_commit(ended, using=using)
        self._local.__dict__.setdefault("callbacks", []).append((connection, ended))

    def check(self) -> None:
        tracked: list[tuple[Any, Callable[[], None]]] | None = self._local.__dict__.get("callbacks")
        if not tracked:
            return
        live: set[int] = set()
        for connection in {id(c): c for c, _ in tracked}.values():
            live.update(id(f) for _sids, f, _robust in connection.run_on_commit)
        alive = [(connection, callback) for connection, callback in tracked if id(callback) in live]
        if len(alive) != len(tracked):
            tracked[:] = alive
            self._on_end()
