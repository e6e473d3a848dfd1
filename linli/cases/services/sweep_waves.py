"""Timed escalation on PostgreSQL in waves: one ``UPDATE … FROM`` per batch over the partial index.

The rows a sweep escalates share a handful of (passed deadline, rung, status, kind, category) values
(every "N working days" deadline ends at close of business, so a wave is one deadline): a *wave* is one
such value. The batch is read once as waves (a grouped select, no rows to Python), the new deadlines
are computed in Python once per wave from the working-day calendar, and one statement moves the batch:
an ``UPDATE … FROM unnest(waves)`` joined on the wave's columns, which reads the due rows through
``case_open_level_due`` once, like a single raw UPDATE, writes one event per row from its ``RETURNING``
in the same statement, and returns what the messages need.

Concurrency (QUALITY REL-3): the UPDATE's WHERE is the compare-and-set (still open, in a source status,
at the rung and with the deadline it was read with, due); a row that another transaction changed
meanwhile is re-checked by PostgreSQL after that transaction ends and skipped if it no longer matches,
so it is escalated at most once per passed deadline, and the events come from the rows actually
changed. Batches of concurrent sweeps are serialised by a transaction-level advisory lock, so two
sweeps never wait on each other's rows in different orders (no deadlock); the second one finds the
first one's rows already moved.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection
from django.db.models import QuerySet

from linli.cases.models import Case, CaseEvent
from linli.cases.sla import Deadlines

# pg_advisory_xact_lock key of the escalation batches (any constant no other code uses: "SLAESCAL").
ADVISORY_KEY = 0x534C41455343414C


@dataclass(frozen=True)
class Wave:
    """Due rows that share everything the escalation reads: the same new values apply to all of them."""

    old_due: datetime
    level: str
    status: str
    kind: str
    category_id: int | None
    count: int


@dataclass(frozen=True)
class WaveMove:
    """What a wave becomes: the next rung, its deadlines, and its event's note and data (JSON)."""

    level: str
    deadlines: Deadlines
    note: str
    data: str


# (case id, index of its wave, number, region path, unit id, reporter id, masked contact phone)
Moved = tuple[int, int, str, str, int | None, int | None, str]


@dataclass(frozen=True)
class WaveBatch:
    waves: list[Wave]
    # The batch is the first ``batch_size`` due rows by (deadline, id): this is its last one's key, or
    # None when every due row is in it.
    last: tuple[datetime, int] | None
    more: bool  # due rows were left beyond the batch: another one follows


def escalation_waves(due: QuerySet[Case], *, batch_size: int) -> WaveBatch:
    """Take the escalation lock and read the next batch of due rows as waves (oldest deadline first)."""
    # One row past the batch says whether another batch follows (no round that finds nothing).
    rows_sql, params = (
        due.order_by("resolve_due_at", "id")
        .values_list("id", "resolve_due_at", "level", "status", "kind", "category_id")[: batch_size + 1]
        .query.sql_with_params()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
        cursor.execute(
            "SELECT resolve_due_at, level, status, kind, category_id, count(*) FILTER (WHERE n <= %s), "  # noqa: S608 - Django's SQL
            "max(id) FILTER (WHERE n <= %s), count(*) FROM (SELECT *, row_number() OVER "
            f"(ORDER BY resolve_due_at, id) AS n FROM ({rows_sql}) AS due) AS due "
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY 1",
            [batch_size, batch_size, *params],
        )
        rows = cursor.fetchall()
    more = sum(r[7] for r in rows) > batch_size
    found = [r for r in rows if r[5]]  # not the group of the row past the batch alone
    waves = [Wave(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in found]
    last = None
    if more:
        end = max(r[0] for r in found)
        last = (end, max(int(r[6]) for r in found if r[0] == end))
    return WaveBatch(waves, last, more)


def escalation_apply(
    batch: WaveBatch,
    moves: Sequence[WaveMove],
    *,
    sources: Sequence[str],
    target: str,
    category: str,
    action: str,
    public: bool,
    now: datetime,
) -> list[Moved]:
    """Move every row of the batch's waves to its wave's move, with one event each; returns the rows moved.

    ``moves[i]`` is ``batch.waves[i]``'s. A row changed since ``escalation_waves`` read it (a user's
    transition, another sweep) no longer matches its wave and stays as it is, with no event.
    """
    waves = batch.waves
    if len(moves) != len(waves):
        raise ValueError("one move per wave")
    table = Case._meta.db_table
    events = CaseEvent._meta.db_table
    last = ""
    params: list[Any] = [target, category, now]
    columns: list[list[Any]] = [
        list(range(len(waves))),
        [w.old_due for w in waves],
        [w.level for w in waves],
        [w.status for w in waves],
        [w.kind for w in waves],
        [w.category_id for w in waves],
        [m.level for m in moves],
        [m.deadlines.triage_due_at for m in moves],
        [m.deadlines.triage_warn_at for m in moves],
        [m.deadlines.resolve_due_at for m in moves],
        [m.deadlines.warn_at for m in moves],
        [m.note for m in moves],
        [m.data for m in moves],
    ]
    params += columns
    params += [sorted({w.level for w in waves}), max(w.old_due for w in waves), list(sources)]
    if batch.last is not None:
        last = "AND (c.resolve_due_at, c.id) <= (%s, %s) "
        params += list(batch.last)
    params += [action, target, public, now]
    with connection.cursor() as cursor:
        # The planner expects one row per wave (it cannot know that a wave is a whole deadline's worth of
        # rows) and picks a nested loop that scans the index once per wave, reading each (rung, deadline)
        # range again for every kind, category and status in it: 1.5–2× this statement's time at 10 k rows.
        # A hash join on the waves reads the range once. Only for this statement.
        cursor.execute(
            "SELECT current_setting('enable_nestloop'), set_config('enable_nestloop', 'off', true)"
        )
        nestloop = cursor.fetchone()[0]
        cursor.execute(
            # The WHERE repeats case_open_level_due's condition and columns, so the rows are found through
            # it; the equalities with the wave are the compare-and-set.
            f"WITH moved AS (UPDATE {table} AS c SET level = v.next_level, status = %s, "  # noqa: S608 - names from model meta
            "status_category = %s, assignee_id = NULL, accept_due_at = NULL, accepted_at = NULL, "
            "escalation_count = c.escalation_count + 1, level_started_at = v.old_due, "
            "triage_due_at = v.triage_due, triage_warn_at = v.triage_warn, triage_warned_at = NULL, "
            "triage_overdue_at = NULL, resolve_due_at = v.resolve_due, warn_at = v.warn, warned_at = NULL, "
            "updated_at = %s "
            "FROM unnest(%s::int[], %s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::bigint[], "
            "%s::text[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], %s::timestamptz[], "
            "%s::text[], %s::jsonb[]) AS v(wave, old_due, level, status, kind, category_id, next_level, "
            "triage_due, triage_warn, resolve_due, warn, note, data) "
            "WHERE c.status_category = 'open' AND c.level = ANY(%s) AND c.resolve_due_at <= %s "
            "AND c.status = ANY(%s) "
            f"{last}"
            "AND c.resolve_due_at = v.old_due AND c.level = v.level AND c.status = v.status "
            "AND c.kind = v.kind AND c.category_id IS NOT DISTINCT FROM v.category_id "
            "RETURNING c.id, v.wave, v.status AS from_status, v.level AS from_level, v.next_level, v.note, "
            "v.data, c.number, c.region_path, c.unit_id, c.reporter_id, c.contact_phone_masked), "
            f"logged AS (INSERT INTO {events} (case_id, actor_id, actor_role, action, from_status, "
            "to_status, from_level, to_level, note, data, is_public, created_at) "
            "SELECT id, NULL, 'system', %s, from_status, %s, from_level, next_level, note, data, %s, %s "
            "FROM moved) "
            "SELECT id, wave, number, region_path, unit_id, reporter_id, contact_phone_masked FROM moved",
            params,
        )
        moved = cast(list[Moved], cursor.fetchall())
        cursor.execute("SELECT set_config('enable_nestloop', %s, true)", [nestloop])
    return moved
