"""The PostgreSQL side of the bulk path (``linli.integrations.bulk``): cases and events by ``COPY``, batch
by batch, while a helper thread prepares the next batch.

``CopyStore.write`` stores one prepared batch in the caller's transaction: the items already stored
skipped (one ``= ANY(array)`` query), the day's numbers reserved, the case ids drawn from the id sequence
(``nextval`` over ``generate_series``, so the events can name their case and a later ordinary insert
continues after them), then the cases and their events each by one ``COPY … FROM STDIN``. The phone was
encrypted and blind-indexed by ``PhoneSealer`` as the model fields would (a COPY skips the field code);
every other column holds the model's default (``case_tail``).

While the store is open the cases' and events' deferrable foreign keys are checked at the end of each
COPY instead of at commit (``SET CONSTRAINTS … IMMEDIATE``, put back to ``DEFERRED`` after): the same
checks, but done while the helper thread reads on, not all at once at the end with nothing else to do.
Bulk writers take one transaction-level advisory lock, so two imports reserving numbers day by day
cannot deadlock on the counters (``case_submit`` locks one counter at a time and waits as before).

``prepared_aside`` runs the batches' generator and the preparation in a helper thread, at most two
batches ahead. That thread never queries: the generator and ``Preparer`` use what the caller's thread
loaded (places, locator, rules, keys). Python holds one lock at a time, so this is not two cores of
Python: it is Python working while the server indexes, checks and logs the rows sent before.
"""

from __future__ import annotations

import base64
import os
import queue
import threading
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Sequence
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from django.db import connection, connections
from django.db.backends.utils import CursorWrapper
from django.utils import timezone
from psycopg.types.json import set_json_dumps

from linli.cases.models import Case, CaseEvent, CaseNumberCounter
from linli.integrations.bulk_rows import CASE_SET, EVENT_COLUMNS, case_numbers, known_positions
from linli.security import crypto
from linli.security.fields import EncryptedTextField

if TYPE_CHECKING:
    from linli.integrations.bulk import BulkCase, BulkResult
    from linli.integrations.bulk_rows import PreparedBatch

AHEAD = 2  # prepared batches waiting for the store: enough to keep it busy, little memory
_LOCK_KEY = 0x6C696E6C69  # "linli": the advisory lock of bulk case writers


def case_tail(now: datetime) -> tuple[list[str], tuple[Any, ...]]:
    """The columns the bulk path does not set, and their values: the model's defaults, ``updated_at``
    now (``auto_now``), prepared for the database once."""
    names: list[str] = []
    values: list[Any] = []
    skip = {"id", *CASE_SET, "contact_phone_index"}
    for f in Case._meta.concrete_fields:
        if f.attname in skip:
            continue
        value = now if f.attname == "updated_at" else f.get_default()
        names.append(f.column)
        values.append(f.get_db_prep_save(value, connection))
    return names, tuple(values)


class PhoneSealer:
    """``contact_phone`` as ``EncryptedTextField`` stores it and its index as ``BlindIndexField.pre_save``
    computes it, with the keyring looked up once per import instead of twice per row. ``crypto``'s own
    sealing, nonce and associated data: the ciphertext is the field's
    (``test_copy_path_writes_what_the_orm_path_writes`` decrypts it through the model)."""

    def __init__(self) -> None:
        field = Case._meta.get_field("contact_phone")
        assert isinstance(field, EncryptedTextField)
        ring = crypto.keyring()
        self.algorithm, self.key_id = ring.active_algorithm, ring.active_id
        self.key = ring.cipher_key(self.algorithm, self.key_id)
        self.aad = crypto._aad(field.crypto_context, self.algorithm, self.key_id)
        self.prefix = f"{self.algorithm}.{self.key_id}."
        self.blind_key = ring.blind_keys[0]
        self.indexes: dict[str, str] = {}  # a caller who rings often is indexed once

    def __call__(self, phones: Sequence[str]) -> list[tuple[str, str]]:
        """Per phone its stored form and index; a blank phone stays blank and unindexed. The nonces are
        drawn from ``os.urandom`` in one call per batch (``crypto.encrypt`` draws one per value: the
        same source and size, without a system call per row)."""
        size = crypto.NONCE_BYTES
        nonces = os.urandom(size * len(phones))
        out: list[tuple[str, str]] = []
        for k, phone in enumerate(phones):
            if not phone:
                out.append(("", ""))
                continue
            nonce = nonces[k * size : (k + 1) * size]
            sealed = crypto._seal(self.algorithm, self.key, nonce, phone.encode(), self.aad)
            body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
            index = self.indexes.get(phone)
            if index is None:
                index = crypto._blind(self.blind_key, "phone", phone)
                if len(self.indexes) < 100_000:
                    self.indexes[phone] = index
            out.append((self.prefix + body, index))
        return out


def prepared_aside(
    batches: Iterable[Sequence[BulkCase]], prepare: Callable[[Sequence[BulkCase]], PreparedBatch]
) -> Generator[PreparedBatch, None, None]:
    """``prepare`` of each non-empty batch, computed in a helper thread up to ``AHEAD`` batches early.

    An exception there (a bad file found by the generator, a bug) is raised here, in order; leaving the
    loop early (an error while storing) stops the helper at its next batch.
    """
    out: queue.Queue[PreparedBatch | BaseException | None] = queue.Queue(maxsize=AHEAD)
    stop = threading.Event()

    def run() -> None:
        try:
            for items in batches:
                if stop.is_set():
                    return
                if items:
                    out.put(prepare(items))
            out.put(None)
        except BaseException as exc:  # handed to the caller's thread, raised there
            out.put(exc)
        finally:
            connections.close_all()  # this thread's own, if a snapshot re-check opened one

    helper = threading.Thread(target=run, name="bulk-prepare", daemon=True)
    helper.start()
    try:
        while (got := out.get()) is not None:
            if isinstance(got, BaseException):
                raise got
            yield got
    finally:
        stop.set()
        while helper.is_alive():  # a put() may wait for room
            try:
                out.get(timeout=0.05)
            except queue.Empty:
                continue
        helper.join()


class CopyStore:
    """Stores prepared batches by COPY in the caller's transaction (see the module docstring)."""

    def __init__(self, *, skip_known: bool) -> None:
        self.skip_known = skip_known
        self.cases = Case._meta.db_table
        self.events = CaseEvent._meta.db_table
        self.counters = CaseNumberCounter._meta.db_table
        column_of = {f.attname: f.column for f in Case._meta.concrete_fields}
        tail_names = case_tail(timezone.now())[0]
        case_columns = ["id", *(column_of[a] for a in CASE_SET), "contact_phone_index", *tail_names]
        self.case_columns = case_columns
        self.event_columns = list(EVENT_COLUMNS)
        self.case_copy = f"COPY {self.cases} ({', '.join(case_columns)}) FROM STDIN (FORMAT binary)"
        self.event_copy = f"COPY {self.events} ({', '.join(EVENT_COLUMNS)}) FROM STDIN (FORMAT binary)"
        self.deferred: list[str] = []

    def __enter__(self) -> CopyStore:
        self.cursor: CursorWrapper = connection.cursor()
        # The event data arrives as JSON text (encoded once per distinct dict): sent as it is.
        set_json_dumps(str, context=self.cursor.cursor)
        self.case_types = self._types(self.cases, self.case_columns)
        self.event_types = self._types(self.events, self.event_columns)
        self.cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])
        self.cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' "
            "AND condeferrable AND condeferred ORDER BY conname",
            [[self.cases, self.events]],
        )
        self.deferred = [connection.ops.quote_name(r[0]) for r in self.cursor.fetchall()]
        if self.deferred:
            self.cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} IMMEDIATE")
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if exc_type is None and self.deferred:  # after an error the savepoint's rollback restores them
                self.cursor.execute(f"SET CONSTRAINTS {', '.join(self.deferred)} DEFERRED")
        finally:
            self.cursor.close()

    def _types(self, table: str, columns: list[str]) -> list[int]:
        """The type oids of ``columns``: a binary COPY sends each value in its column's own format."""
        self.cursor.execute(
            "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            [table],
        )
        oid = dict(self.cursor.fetchall())
        return [oid[c] for c in columns]

    def _stored(self, channel: str, external_ids: list[str]) -> set[str]:
        sql = f"SELECT external_id FROM {self.cases} WHERE channel = %s AND external_id = ANY(%s)"  # noqa: S608
        self.cursor.execute(sql, [channel, external_ids])
        return {r[0] for r in self.cursor.fetchall()}

    def _reserve_numbers(self, counts: dict[date, int]) -> dict[date, int]:
        """Each day's block (``last = last + n``), the counters locked in day order; its first number."""
        days = sorted(counts)
        t = self.counters
        insert = (
            f"INSERT INTO {t} (day, last) SELECT d, 0 FROM unnest(%s::date[]) AS d ON CONFLICT DO NOTHING"  # noqa: S608
        )
        lock = f"SELECT day FROM {t} WHERE day = ANY(%s::date[]) ORDER BY day FOR UPDATE"  # noqa: S608
        update = (
            f"UPDATE {t} AS c SET last = c.last + v.n FROM unnest(%s::date[], %s::int[]) AS v(day, n) "  # noqa: S608
            "WHERE c.day = v.day RETURNING c.day, c.last"
        )
        self.cursor.execute(insert, [days])
        self.cursor.execute(lock, [days])
        self.cursor.execute(update, [days, [counts[d] for d in days]])
        return {day: last - counts[day] + 1 for day, last in self.cursor.fetchall()}

    def write(self, batch: PreparedBatch, result: BulkResult) -> None:
        """Store one batch: skip the known, number, draw ids, COPY the cases, then their events."""
        keep = known_positions(batch, self._stored) if self.skip_known else range(len(batch.rows))
        result.skipped += len(batch.rows) - len(keep)
        if not keep:
            return
        days = [batch.days[i] for i in keep]
        numbers = case_numbers(days, self._reserve_numbers(Counter(days)))
        self.cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [self.cases, len(keep)],
        )
        ids = sorted(r[0] for r in self.cursor.fetchall())
        rows, events = batch.rows, batch.events
        raw = self.cursor.cursor  # psycopg's own cursor: COPY
        # wrap_database_errors: a failing COPY raises Django's IntegrityError etc., as bulk_create would.
        with connection.wrap_database_errors:
            with raw.copy(self.case_copy) as copy:
                copy.set_types(self.case_types)
                for pk, number, i in zip(ids, numbers, keep, strict=True):
                    copy.write_row((pk, number, *rows[i]))
            with raw.copy(self.event_copy) as copy:
                copy.set_types(self.event_types)
                for pk, i in zip(ids, keep, strict=True):
                    for event in events[i]:
                        copy.write_row((pk, *event))
        result.ids.extend(ids)
