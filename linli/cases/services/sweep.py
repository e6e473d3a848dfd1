"""The periodic SLA sweep (QUALITY REL-3): timed escalation, warnings (预警) and auto-closure.

Set-based and idempotent:
- each pass selects a batch of due rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
  writers), computes the new deadlines in Python with no query per case, and writes them with one
  ``UPDATE … FROM (VALUES …)`` per chunk whose WHERE repeats "still at this level and due"
  (compare-and-set): two sweeps at once escalate each case exactly once;
- levels are swept bottom-up and the next level's deadline counts from the moment the previous one
  passed, so after hours of downtime one sweep moves a case up once per deadline that has passed;
- sources, targets and public flags come from ``TRANSITIONS`` (escalate_timed, warn, auto_close): the
  table stays the single source of truth; the event rows are inserted in bulk and the messages go out as
  one summary per dispatcher region and per handler, in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from linli.cases.ladder import ladder_load, level_region_path
from linli.cases.models import STATUS_INFO, Case, CaseEvent, StatusCategory
from linli.cases.notify import SweptCase, cases_notify_bulk
from linli.cases.sla import PolicyBook, deadlines_compute_many, policy_book_load
from linli.cases.transitions import TRANSITIONS

CHUNK = 500  # rows per multi-row statement: well under SQLite's bound-parameter limit


@dataclass
class SweepReport:
    escalated: int = 0
    warned: int = 0
    auto_closed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _adapter() -> Any:
    """The backend's datetime adapter, looked up once per statement batch (not per value)."""
    return connection.ops.adapt_datetimefield_value


@lru_cache(maxsize=4096)  # deadlines repeat (17:30 of a few dates): format each once
def _local(value: datetime) -> str:
    return f"{value.astimezone(timezone.get_default_timezone()):%Y-%m-%d %H:%M}"


# (case id, action, from status, to status, from level, to level, note, data, is_public, created_at)
EventRow = tuple[int, str, str, str, str, str, str, dict[str, Any], bool, datetime]


def _events_insert(rows: Sequence[EventRow]) -> None:
    """Bulk INSERT of system events: building 10 k model instances would cost more than the SQL.

    PostgreSQL gets one statement over a JSON array (one parameter however many rows); SQLite
    multi-row VALUES in chunks.
    """
    table = CaseEvent._meta.db_table
    cols = "case_id, actor_id, actor_role, action, from_status, to_status, from_level, to_level, note, data, is_public, created_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            payload = json.dumps(
                [
                    [cid, action, fs, ts, fl, tl, note, data, public, at.isoformat()]
                    for cid, action, fs, ts, fl, tl, note, data, public, at in rows
                ],
                ensure_ascii=False,
            )
            cursor.execute(
                f"INSERT INTO {table} ({cols}) "  # noqa: S608 - names from model meta
                "SELECT (r->>0)::bigint, NULL, 'system', r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->7, "
                "(r->>8)::boolean, (r->>9)::timestamptz FROM jsonb_array_elements(%s::jsonb) AS r",
                [payload],
            )
            return
        _dt = _adapter()
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, NULL, 'system', %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for cid, action, fs, ts, fl, tl, note, data, public, at in chunk:
                params += [cid, action, fs, ts, fl, tl, note, json.dumps(data), public, _dt(at)]
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {values}", params)  # noqa: S608 - names from model meta


def _write_escalations(
    rows: Sequence[tuple[int, datetime, datetime, datetime, datetime]],
    *,
    level: str,
    nxt: str,
    sources: list[str],
    now: datetime,
) -> int:
    """(id, old deadline, triage, resolve, warn) → the next level; returns how many rows changed.

    PostgreSQL: one UPDATE joined to a JSON array; SQLite: ``UPDATE … FROM (VALUES …)`` in chunks.
    """
    table = Case._meta.db_table
    target = TRANSITIONS["escalate_timed"].target
    assert target is not None
    in_sources = ", ".join(["%s"] * len(sources))
    set_clause = (
        f"UPDATE {table} SET level = %s, status = %s, status_category = %s, assignee_id = NULL, "  # noqa: S608 - names from model meta
        "accept_due_at = NULL, accepted_at = NULL, escalation_count = escalation_count + 1, "
        "level_started_at = v.column2, triage_due_at = v.column3, resolve_due_at = v.column4, "
        "warn_at = v.column5, warned_at = NULL, updated_at = %s "
    )
    # Compare-and-set: only rows still at this level, due, and in a source status of the table.
    where = (
        f"WHERE {table}.id = v.column1 AND {table}.level = %s AND {table}.resolve_due_at <= %s "
        f"AND {table}.status_category = %s AND {table}.status IN ({in_sources})"
    )
    _dt = _adapter()
    head: list[Any] = [nxt, target, STATUS_INFO[target].category, _dt(now)]
    tail: list[Any] = [level, _dt(now), StatusCategory.OPEN, *sources]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One JSON parameter for the whole batch: binding thousands of values costs more than the UPDATE.
            payload = json.dumps(
                [[i, o.isoformat(), t.isoformat(), d.isoformat(), w.isoformat()] for i, o, t, d, w in rows]
            )
            cursor.execute(
                set_clause + "FROM (SELECT (r->>0)::bigint AS column1, (r->>1)::timestamptz AS column2, "
                "(r->>2)::timestamptz AS column3, (r->>3)::timestamptz AS column4, (r->>4)::timestamptz AS column5 "
                "FROM jsonb_array_elements(%s::jsonb) AS r) AS v " + where,
                [*head, payload, *tail],
            )
            return int(cursor.rowcount)
        done = 0
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = list(head)
            for case_id, old_due, triage_due, resolve_due, warn_at in chunk:
                params += [case_id, _dt(old_due), _dt(triage_due), _dt(resolve_due), _dt(warn_at)]
            # SQLite names the columns of a VALUES list column1..N.
            cursor.execute(set_clause + f"FROM (VALUES {values}) AS v " + where, params + tail)
            done += cursor.rowcount
        return done


def _escalate_batch(*, level: str, nxt: str, now: datetime, book: PolicyBook, batch_size: int) -> int:
    transition = TRANSITIONS["escalate_timed"]
    sources = sorted(transition.sources)
    target = transition.target or ""
    with transaction.atomic():
        due_rows = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(
                status_category=StatusCategory.OPEN, level=level, resolve_due_at__lte=now, status__in=sources
            )
            .order_by("resolve_due_at", "id")
            .values_list(
                "id", "status", "resolve_due_at", "kind", "category_id", "number", "region_path", "unit_id"
            )[:batch_size]
        )
        if not due_rows:
            return 0
        starts = [cast(datetime, r[2]) for r in due_rows]
        deadlines = deadlines_compute_many(
            starts, [book.terms(kind=r[3], category_id=r[4], level=nxt) for r in due_rows]
        )
        written = _write_escalations(
            [
                (r[0], s, d.triage_due_at, d.resolve_due_at, d.warn_at)
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
            ],
            level=level,
            nxt=nxt,
            sources=sources,
            now=now,
        )
        if written != len(due_rows):
            # Impossible while we hold the row locks; if it happens, roll back rather than write wrong events.
            raise RuntimeError(f"SLA sweep: {written} of {len(due_rows)} escalations applied")
        _events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    target,
                    level,
                    nxt,
                    f"超过办结时限({_local(s)}),自动升级",
                    {"deadline": s.isoformat(), "new_deadline": d.resolve_due_at.isoformat()},
                    transition.public,
                    now,
                )
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
            ]
        )
        cases_notify_bulk(
            action="escalated",
            title="工单超时已升级",
            cases=[SweptCase(r[5], level_region_path(r[6], nxt), r[7], None) for r in due_rows],
            to_dispatchers=True,
            batch_key=f"{level}:{due_rows[0][0]}:{now.timestamp():.0f}",
        )
    return len(due_rows)


def _warn_batch(*, now: datetime, batch_size: int) -> int:
    transition = TRANSITIONS["warn"]
    with transaction.atomic():
        rows = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(
                status_category=StatusCategory.OPEN,
                warned_at__isnull=True,
                warn_at__lte=now,
                status__in=sorted(transition.sources),
            )
            .order_by("warn_at", "id")
            .values_list(
                "id", "status", "level", "number", "region_path", "unit_id", "assignee_id", "resolve_due_at"
            )[:batch_size]
        )
        if not rows:
            return 0
        updated = Case.objects.filter(pk__in=[r[0] for r in rows], warned_at__isnull=True).update(
            warned_at=now
        )
        if updated != len(rows):
            raise RuntimeError(f"SLA sweep: {updated} of {len(rows)} warnings applied")
        _events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    r[1],
                    r[2],
                    r[2],
                    f"即将到期(办结时限 {_local(cast(datetime, r[7]))})",
                    {},
                    transition.public,
                    now,
                )
                for r in rows
            ]
        )
        cases_notify_bulk(
            action="warned",
            title="工单即将超时",
            cases=[SweptCase(r[3], level_region_path(r[4], r[2]), r[5], r[6]) for r in rows],
            to_dispatchers=False,
            batch_key=f"{rows[0][0]}:{now.timestamp():.0f}",
        )
    return len(rows)


def _auto_close_batch(*, now: datetime, batch_size: int) -> int:
    transition = TRANSITIONS["auto_close"]
    target = transition.target
    assert target is not None
    days = int(getattr(settings, "LINLI_CASE_RATING_DAYS", 7))
    sources = sorted(transition.sources)
    with transaction.atomic():
        rows = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(status__in=sources, resolved_at__lte=now - timedelta(days=days))
            .order_by("resolved_at", "id")
            .values_list("id", "status", "level")[:batch_size]
        )
        if not rows:
            return 0
        updated = Case.objects.filter(pk__in=[r[0] for r in rows], status__in=sources).update(
            status=target, status_category=STATUS_INFO[target].category, closed_at=now, updated_at=now
        )
        if updated != len(rows):
            raise RuntimeError(f"SLA sweep: {updated} of {len(rows)} auto-closures applied")
        note = f"办结后{days}天内未评价,系统自动结案"
        _events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    target,
                    r[2],
                    r[2],
                    note,
                    {"rating_days": days},
                    transition.public,
                    now,
                )
                for r in rows
            ]
        )
    return len(rows)


def cases_sweep_sla(*, now: datetime | None = None, batch_size: int = 5000) -> SweepReport:
    """Escalate overdue cases (catching up level by level), warn those near their deadline, close unrated.

    Idempotent: running it again at the same ``now`` changes nothing.
    """
    now = now or timezone.now()
    report = SweepReport()
    ladder = ladder_load()
    book = policy_book_load()
    for level in ladder.codes_bottom_up():
        nxt = ladder.next(level)
        if nxt is None:
            continue
        while (n := _escalate_batch(level=level, nxt=nxt, now=now, book=book, batch_size=batch_size)) > 0:
            report.escalated += n
            if n < batch_size:
                break
    while (n := _warn_batch(now=now, batch_size=batch_size)) > 0:
        report.warned += n
        if n < batch_size:
            break
    while (n := _auto_close_batch(now=now, batch_size=batch_size)) > 0:
        report.auto_closed += n
        if n < batch_size:
            break
    return report
