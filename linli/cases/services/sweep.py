"""The periodic SLA sweep (QUALITY REL-3): timed escalation, warnings (预警) and auto-closure.

Set-based and idempotent:
- each pass selects a batch of due rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
  writers), computes the new deadlines in Python with no query per case, and writes them with one
  ``UPDATE … FROM (VALUES …)`` per chunk whose WHERE repeats "still at this level and due"
  (compare-and-set): two sweeps at once escalate each case exactly once;
- levels are swept bottom-up and the next level's deadline counts from the moment the previous one
  passed, so after hours of downtime one sweep moves a case up once per deadline that has passed;
- sources, targets and public flags come from ``TRANSITIONS`` (escalate_timed, warn, auto_close,
  triage_/accept_ warn and overdue): the table stays the single source of truth; the event rows are
  inserted in bulk and the messages go out as one summary per dispatcher region and per handler, plus one
  message per reporter on the public steps (timed escalation, auto-closure), in the same transaction;
- the two short clocks (the dispatcher's triage deadline, the handler's accept deadline) are warned once
  and marked overdue once per deadline by compare-and-set on their markers (``triage_warned_at`` …
  ``accept_overdue_at``); nothing moves on them: escalation follows the resolve deadline only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from linli.cases.ladder import ladder_load, level_region_path
from linli.cases.models import (
    ACCEPT_CLOCK_STATUSES,
    STATUS_INFO,
    TRIAGE_CLOCK_STATUSES,
    Case,
    CaseEvent,
    LadderLevel,
    StatusCategory,
)
from linli.cases.notify import ReporterNote, SweptCase, cases_notify_bulk, cases_notify_reporters
from linli.cases.sla import PolicyBook, deadlines_compute_many, policy_book_load
from linli.cases.transitions import TRANSITIONS

CHUNK = 500  # rows per multi-row statement: well under SQLite's bound-parameter limit
# Rows per SQLite ``UPDATE … FROM (VALUES …)``: from about 200 rows on, once the table has statistics
# (ANALYZE), SQLite builds a Bloom filter over the whole case table for each statement (0.2 s per chunk).
ESCALATION_CHUNK = 150


@dataclass
class SweepReport:
    escalated: int = 0
    warned: int = 0
    auto_closed: int = 0
    triage_warned: int = 0
    triage_overdue: int = 0
    accept_warned: int = 0
    accept_overdue: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _literal(column: str, values: Sequence[str], *, in_list: bool = True) -> RawSQL:
    """``column IN ('a', 'b')`` (or ``column = 'a'``) with the values written out, as the partial index has it.

    SQLite uses a partial index only when the query's WHERE provably implies the index's term by term,
    which it checks against literals, not against a bound ``IN (?, ?)`` list, and ``IN ('a')`` does not
    match ``= 'a'``; so the sweep's selects repeat the indexes' conditions literally, in the same form
    and order. The values are codes from the model (letters and ``_``).
    """
    for value in values:
        if not re.fullmatch(r"[a-z_]+", value):
            raise ValueError(f"not a plain code: {value!r}")
    if not in_list and len(values) != 1:
        raise ValueError("one value for '='")
    table = Case._meta.db_table
    test = "IN (" + ", ".join(f"'{v}'" for v in values) + ")" if in_list else f"= '{values[0]}'"
    return RawSQL(f'"{table}"."{column}" {test}', (), output_field=BooleanField())  # noqa: S611


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
    rows: Sequence[tuple[int, datetime, datetime, datetime, datetime, datetime]],
    *,
    level: str,
    nxt: str,
    sources: list[str],
    now: datetime,
) -> int:
    """(id, old deadline, triage, resolve, warn, triage warn) → the next level; returns how many rows changed.

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
        "warn_at = v.column5, warned_at = NULL, triage_warn_at = v.column6, triage_warned_at = NULL, "
        "triage_overdue_at = NULL, updated_at = %s "
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
                [
                    [i, o.isoformat(), t.isoformat(), d.isoformat(), w.isoformat(), tw.isoformat()]
                    for i, o, t, d, w, tw in rows
                ]
            )
            cursor.execute(
                set_clause  # noqa: S608 - names from model meta
                + "FROM (SELECT (r->>0)::bigint AS column1, (r->>1)::timestamptz AS column2, "
                "(r->>2)::timestamptz AS column3, (r->>3)::timestamptz AS column4, (r->>4)::timestamptz AS column5, "
                "(r->>5)::timestamptz AS column6 FROM jsonb_array_elements(%s::jsonb) AS r) AS v " + where,
                [*head, payload, *tail],
            )
            return int(cursor.rowcount)
        done = 0
        for start in range(0, len(rows), ESCALATION_CHUNK):
            chunk = rows[start : start + ESCALATION_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = list(head)
            for case_id, old_due, triage_due, resolve_due, warn_at, triage_warn in chunk:
                params += [
                    case_id,
                    _dt(old_due),
                    _dt(triage_due),
                    _dt(resolve_due),
                    _dt(warn_at),
                    _dt(triage_warn),
                ]
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
                _literal(
                    "status_category", [StatusCategory.OPEN.value], in_list=False
                ),  # case_open_level_due
                _literal("status", sources),
                level=level,
                resolve_due_at__lte=now,
            )
            .order_by("resolve_due_at", "id")
            .values_list(
                "id",
                "status",
                "resolve_due_at",
                "kind",
                "category_id",
                "number",
                "region_path",
                "unit_id",
                "reporter_id",
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
                (r[0], s, d.triage_due_at, d.resolve_due_at, d.warn_at, d.triage_warn_at)
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
        level_name = str(LadderLevel(nxt).label)  # translated once, not once per case in the f-string
        cases_notify_reporters(
            action=transition.action,
            notes=[
                ReporterNote(
                    case_id=r[0],
                    number=r[5],
                    reporter_id=r[8],
                    # One escalation per (case, passed deadline): the compare-and-set above guarantees it.
                    event_key=f"{s.timestamp():.0f}",
                    body=f"您的诉求(编号{r[5]})超过办理时限,已提交{level_name}级办理,"
                    f"新的办结时限为{_local(d.resolve_due_at)}。",
                )
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
            ],
        )
    return len(due_rows)


def _warn_batch(*, now: datetime, batch_size: int) -> int:
    transition = TRANSITIONS["warn"]
    with transaction.atomic():
        rows = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(
                _literal("status_category", [StatusCategory.OPEN.value], in_list=False),  # case_open_warn
                _literal("status", sorted(transition.sources)),
                warned_at__isnull=True,
                warn_at__lte=now,
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
            # Literal, to match case_awaiting_rating (status, resolved_at) WHERE status = 'resolved'.
            .filter(_literal("status", sources, in_list=False), resolved_at__lte=now - timedelta(days=days))
            .order_by("resolved_at", "id")
            .values_list("id", "status", "level", "number", "reporter_id", "resolved_at")[:batch_size]
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
        cases_notify_reporters(
            action=transition.action,
            notes=[
                ReporterNote(
                    case_id=r[0],
                    number=r[3],
                    reporter_id=r[4],
                    event_key=f"{cast(datetime, r[5]).timestamp():.0f}",  # one closure per resolution
                    body=f"您的诉求(编号{r[3]})办结后{days}天内未评价,系统已自动结案。如仍有问题,可重新反映。",
                )
                for r in rows
            ],
        )
    return len(rows)


@dataclass(frozen=True)
class Clock:
    """One of the two short deadlines: its fields, who is told, and what the messages say."""

    name: str  # "triage" | "accept": the TRANSITIONS actions are f"{name}_warn" and f"{name}_overdue"
    label: str  # 梳理 / 接单, in the notes and titles
    due: str
    warn: str
    warned: str
    overdue: str
    handlers: bool  # accept: the handler hears (and the dispatcher too once overdue); triage: the dispatcher
    statuses: tuple[str, ...]  # where the clock runs, in its partial indexes' order


CLOCKS = (
    Clock(
        "triage",
        "梳理",
        "triage_due_at",
        "triage_warn_at",
        "triage_warned_at",
        "triage_overdue_at",
        False,
        TRIAGE_CLOCK_STATUSES,
    ),
    Clock(
        "accept",
        "接单",
        "accept_due_at",
        "accept_warn_at",
        "accept_warned_at",
        "accept_overdue_at",
        True,
        ACCEPT_CLOCK_STATUSES,
    ),
)


def _clock_batch(*, clock: Clock, overdue: bool, now: datetime, batch_size: int) -> int:
    """Warn (or mark overdue) one batch of cases whose triage/accept warning time (or deadline) passed."""
    transition = TRANSITIONS[f"{clock.name}_overdue" if overdue else f"{clock.name}_warn"]
    sources = sorted(transition.sources)
    if set(clock.statuses) != set(sources):
        raise RuntimeError(f"SLA sweep: {transition.action} sources differ from the clock's index")
    # Not marked yet (the compare-and-set condition): a case already overdue is not warned any more.
    pending: dict[str, Any] = {f"{clock.overdue}__isnull": True}
    if not overdue:
        pending[f"{clock.warned}__isnull"] = True
    moment = clock.due if overdue else clock.warn
    with transaction.atomic():
        rows = list(
            Case.objects.select_for_update(skip_locked=True)
            # The partial index's condition literally (case_triage_due … case_accept_warn), same order.
            .filter(_literal("status", clock.statuses), **pending, **{f"{moment}__lte": now})
            .order_by(moment, "id")
            .values_list(
                "id", "status", "level", "number", "region_path", "unit_id", "assignee_id", clock.due
            )[:batch_size]
        )
        if not rows:
            return 0
        updated = Case.objects.filter(pk__in=[r[0] for r in rows], status__in=sources, **pending).update(
            **{clock.overdue if overdue else clock.warned: now}
        )
        if updated != len(rows):
            raise RuntimeError(f"SLA sweep: {updated} of {len(rows)} {transition.action} applied")
        what = "已超过" if overdue else "即将超过"
        _events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    r[1],
                    r[2],
                    r[2],
                    f"{what}{clock.label}时限({_local(cast(datetime, r[7]))})",
                    {"deadline": cast(datetime, r[7]).isoformat()},
                    transition.public,
                    now,
                )
                for r in rows
            ]
        )
        cases_notify_bulk(
            action=f"{clock.name}_overdue" if overdue else f"{clock.name}_warned",
            title=f"工单{what}{clock.label}时限",
            # Triage: the level's dispatchers only (a routed unit has not been given the case yet).
            cases=[
                SweptCase(
                    r[3],
                    level_region_path(r[4], r[2]),
                    r[5] if clock.handlers else None,
                    r[6] if clock.handlers else None,
                )
                for r in rows
            ],
            to_dispatchers=overdue,  # an accept deadline missed: the dispatcher may reassign
            batch_key=f"{rows[0][0]}:{now.timestamp():.0f}",
        )
    return len(rows)


def cases_sweep_sla(*, now: datetime | None = None, batch_size: int = 5000) -> SweepReport:
    """Escalate overdue cases (catching up level by level), warn those near their deadline, close unrated;
    warn and mark overdue on the triage and accept deadlines.

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
    # The short clocks after escalation (which gives the moved cases a fresh triage deadline); overdue
    # before warning, so a deadline that passed during downtime is reported once, as overdue.
    for clock in CLOCKS:
        for overdue in (True, False):
            while (n := _clock_batch(clock=clock, overdue=overdue, now=now, batch_size=batch_size)) > 0:
                field = f"{clock.name}_overdue" if overdue else f"{clock.name}_warned"
                setattr(report, field, getattr(report, field) + n)
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
