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
from django.db.models import BooleanField, QuerySet
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
# SQLite: rows sharing their rung and deadlines (a wave) from this many on are updated by id list, up to
# ID_CHUNK ids a statement (under the 999 bound parameters).
GROUP_MIN = 50
ID_CHUNK = 900


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


@lru_cache(maxsize=4096)  # the same few instants recur in every row of a wave
def _iso(value: datetime) -> str:
    return value.isoformat()


@lru_cache(maxsize=4096)
def _json(data: tuple[tuple[str, Any], ...]) -> str:
    return json.dumps(dict(data), ensure_ascii=False)


# (case id, action, from status, to status, from level, to level, note, data as JSON, is_public, created_at)
EventRow = tuple[int, str, str, str, str, str, str, str, bool, datetime]


def _events_insert(rows: Sequence[EventRow]) -> None:
    """Bulk INSERT of system events: building 10 k model instances would cost more than the SQL.

    PostgreSQL gets one statement over a JSON array of groups (the rows that differ only by case id share
    one element: a wave of escalations is a handful of groups, so neither side encodes or parses 10 k
    timestamps); SQLite multi-row VALUES in chunks.
    """
    table = CaseEvent._meta.db_table
    cols = "case_id, actor_id, actor_role, action, from_status, to_status, from_level, to_level, note, data, is_public, created_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            groups: dict[tuple[Any, ...], list[int]] = {}
            for row in rows:
                groups.setdefault(row[1:], []).append(row[0])
            payload = json.dumps(
                [
                    [ids, action, fs, ts, fl, tl, note, data, public, _iso(at)]
                    for (action, fs, ts, fl, tl, note, data, public, at), ids in groups.items()
                ],
                ensure_ascii=False,
            )
            cursor.execute(
                f"INSERT INTO {table} ({cols}) "  # noqa: S608 - names from model meta
                "SELECT jsonb_array_elements_text(g->0)::bigint, NULL, 'system', g->>1, g->>2, g->>3, g->>4, "
                "g->>5, g->>6, (g->>7)::jsonb, (g->>8)::boolean, (g->>9)::timestamptz "
                "FROM jsonb_array_elements(%s::jsonb) AS g",
                [payload],
            )
            return
        adapt = _adapter()
        stamps: dict[datetime, Any] = {}
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, NULL, 'system', %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for cid, action, fs, ts, fl, tl, note, data, public, at in chunk:
                if at not in stamps:
                    stamps[at] = adapt(at)
                params += [cid, action, fs, ts, fl, tl, note, data, public, stamps[at]]
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {values}", params)  # noqa: S608 - names from model meta


# (id, level, next level, old deadline, triage, resolve, warn, triage warn)
Escalation = tuple[int, str, str, datetime, datetime, datetime, datetime, datetime]


def _write_escalations(rows: Sequence[Escalation], *, sources: list[str], now: datetime) -> int:
    """Move each row from its level to the next with its new deadlines; returns how many rows changed.

    Compare-and-set: a row changes only if it is still at the level (and due by the deadline) it was read
    with, open, and in a source status of the table. PostgreSQL: one UPDATE joined to a JSON array of
    groups (rows sharing their levels and deadlines: one element listing their ids); SQLite:
    ``UPDATE … FROM (VALUES …)`` in chunks.
    """
    table = Case._meta.db_table
    target = TRANSITIONS["escalate_timed"].target
    assert target is not None
    in_sources = ", ".join(["%s"] * len(sources))
    set_clause = (
        f"UPDATE {table} SET level = v.column3, status = %s, status_category = %s, assignee_id = NULL, "  # noqa: S608 - names from model meta
        "accept_due_at = NULL, accepted_at = NULL, escalation_count = escalation_count + 1, "
        "level_started_at = v.column4, triage_due_at = v.column5, resolve_due_at = v.column6, "
        "warn_at = v.column7, warned_at = NULL, triage_warn_at = v.column8, triage_warned_at = NULL, "
        "triage_overdue_at = NULL, updated_at = %s "
    )
    cas = (
        f"{table}.resolve_due_at <= %s AND {table}.status_category = %s AND {table}.status IN ({in_sources})"
    )
    where = f"WHERE {table}.id = v.column1 AND {table}.level = v.column2 AND {cas}"
    # The same SET with one group's values as parameters (SQLite, below), in set_clause's order.
    group_set = (
        set_clause.replace("level = v.column3", "level = %s", 1)
        .replace("v.column4", "%s")
        .replace("v.column5", "%s")
        .replace("v.column6", "%s")
        .replace("v.column7", "%s")
        .replace("v.column8", "%s")
    )
    adapt = _adapter()
    head: list[Any] = [target, STATUS_INFO[target].category, adapt(now)]
    tail: list[Any] = [adapt(now), StatusCategory.OPEN, *sources]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One JSON parameter for the whole batch: binding thousands of values costs more than the UPDATE.
            groups: dict[tuple[Any, ...], list[int]] = {}
            for row in rows:
                groups.setdefault(row[1:], []).append(row[0])
            payload = json.dumps(
                [
                    [ids, lv, nx, _iso(o), _iso(t), _iso(d), _iso(w), _iso(tw)]
                    for (lv, nx, o, t, d, w, tw), ids in groups.items()
                ]
            )
            cursor.execute(
                set_clause  # noqa: S608 - names from model meta
                + "FROM (SELECT jsonb_array_elements_text(g->0)::bigint AS column1, g->>1 AS column2, "
                "g->>2 AS column3, (g->>3)::timestamptz AS column4, (g->>4)::timestamptz AS column5, "
                "(g->>5)::timestamptz AS column6, (g->>6)::timestamptz AS column7, "
                "(g->>7)::timestamptz AS column8 FROM jsonb_array_elements(%s::jsonb) AS g) AS v " + where,
                [*head, payload, *tail],
            )
            return int(cursor.rowcount)
        stamps: dict[datetime, Any] = {}

        def stamp(value: datetime) -> Any:
            if value not in stamps:
                stamps[value] = adapt(value)
            return stamps[value]

        done = 0
        # A wave shares its deadlines: each large group is one ``UPDATE … WHERE id IN (…)`` per
        # ID_CHUNK ids, constants in the SET (no VALUES join, so no Bloom filter); the rest go by VALUES.
        waves: dict[tuple[Any, ...], list[int]] = {}
        for row in rows:
            waves.setdefault(row[1:], []).append(row[0])
        rest: list[Escalation] = []
        for (lv, nx, old_due, triage_due, resolve_due, warn_at, triage_warn), ids in waves.items():
            if len(ids) < GROUP_MIN:
                rest += [(i, lv, nx, old_due, triage_due, resolve_due, warn_at, triage_warn) for i in ids]
                continue
            # In group_set's order: level, status, category, the five deadlines, updated_at.
            constants = [
                nx,
                *head[:2],
                stamp(old_due),
                stamp(triage_due),
                stamp(resolve_due),
                stamp(warn_at),
                stamp(triage_warn),
                head[2],
            ]
            for start in range(0, len(ids), ID_CHUNK):
                part = ids[start : start + ID_CHUNK]
                cursor.execute(
                    group_set
                    + f"WHERE {table}.id IN ({', '.join(['%s'] * len(part))}) AND {table}.level = %s "
                    f"AND {cas}",
                    [*constants, *part, lv, *tail],
                )
                done += cursor.rowcount
        for start in range(0, len(rest), ESCALATION_CHUNK):
            chunk = rest[start : start + ESCALATION_CHUNK]
            values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = list(head)
            for case_id, lv, nx, old_due, triage_due, resolve_due, warn_at, triage_warn in chunk:
                params += [
                    case_id,
                    lv,
                    nx,
                    stamp(old_due),
                    stamp(triage_due),
                    stamp(resolve_due),
                    stamp(warn_at),
                    stamp(triage_warn),
                ]
            # SQLite names the columns of a VALUES list column1..N.
            cursor.execute(set_clause + f"FROM (VALUES {values}) AS v " + where, params + tail)
            done += cursor.rowcount
        return done


def _escalation_due(*, levels: Sequence[str], now: datetime) -> QuerySet[Case]:
    """Open cases below the top rung, in a source status, whose resolve deadline passed."""
    return Case.objects.filter(
        # case_open_level_due's condition literally (see ``_literal``).
        _literal("status_category", [StatusCategory.OPEN.value], in_list=False),
        _literal("status", sorted(TRANSITIONS["escalate_timed"].sources)),
        level__in=list(levels),
        resolve_due_at__lte=now,
    )


@dataclass(frozen=True)
class EscalationRound:
    escalated: int
    again: bool  # some escalated case's new deadline has passed too (downtime): another round is due


def _escalate_batch(*, now: datetime, book: PolicyBook, batch_size: int) -> EscalationRound:
    """One batch of overdue cases at any rung below the top, each moved up one rung.

    All rungs at once (one select, one UPDATE, one summary per recipient for the batch); a case whose new
    deadline has already passed (after downtime) is due again and moves up in the next round.
    """
    ladder = ladder_load()
    steps = {level: nxt for level in ladder.codes_bottom_up() if (nxt := ladder.next(level)) is not None}
    transition = TRANSITIONS["escalate_timed"]
    sources = sorted(transition.sources)
    target = transition.target or ""
    with transaction.atomic():
        due_rows = list(
            _escalation_due(levels=sorted(steps), now=now)
            .select_for_update(skip_locked=True)
            .order_by("resolve_due_at", "id")
            .values_list(
                "id",
                "status",
                "level",
                "resolve_due_at",
                "kind",
                "category_id",
                "number",
                "region_path",
                "unit_id",
                "reporter_id",
                "contact_phone_masked",
            )[:batch_size]
        )
        if not due_rows:
            return EscalationRound(0, again=False)
        starts = [cast(datetime, r[3]) for r in due_rows]
        deadlines = deadlines_compute_many(
            starts, [book.terms(kind=r[4], category_id=r[5], level=steps[r[2]]) for r in due_rows]
        )
        written = _write_escalations(
            [
                (r[0], r[2], steps[r[2]], s, d.triage_due_at, d.resolve_due_at, d.warn_at, d.triage_warn_at)
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
            ],
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
                    r[2],
                    steps[r[2]],
                    f"超过办结时限({_local(s)}),自动升级",
                    _json((("deadline", _iso(s)), ("new_deadline", _iso(d.resolve_due_at)))),
                    transition.public,
                    now,
                )
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
            ]
        )
        first = due_rows[0]
        cases_notify_bulk(
            action="escalated",
            title="工单超时已升级",
            cases=[SweptCase(r[6], level_region_path(r[7], steps[r[2]]), r[8], None) for r in due_rows],
            to_dispatchers=True,
            # Unique per batch: a case's level only goes up, so (first case, its level) never repeats.
            batch_key=f"{first[2]}:{first[0]}:{now.timestamp():.0f}",
        )
        # Translated once per rung, not once per case in the f-string.
        level_names = {nxt: str(LadderLevel(nxt).label) for nxt in steps.values()}
        cases_notify_reporters(
            action=transition.action,
            notes=[
                ReporterNote(
                    case_id=r[0],
                    number=r[6],
                    reporter_id=r[9],
                    # One escalation per (case, passed deadline): the compare-and-set above guarantees it.
                    event_key=f"{s.timestamp():.0f}",
                    body=f"您的诉求(编号{r[6]})超过办理时限,已提交{level_names[steps[r[2]]]}级办理,"
                    f"新的办结时限为{_local(d.resolve_due_at)}。",
                )
                for r, s, d in zip(due_rows, starts, deadlines, strict=True)
                # Nobody to tell: no account and no contact phone (an empty mask means no number was
                # left; ``cases_notify_reporters`` would skip the note after reading the phones).
                if r[9] is not None or r[10]
            ],
        )
    # Due again at the new rung (its deadline passed during downtime) and that rung is not the top.
    again = any(
        d.resolve_due_at <= now and steps[r[2]] in steps for r, d in zip(due_rows, deadlines, strict=True)
    )
    return EscalationRound(len(due_rows), again=again)


def _warn_due(*, now: datetime) -> QuerySet[Case]:
    """Open cases whose warning time passed and that were not warned yet."""
    return Case.objects.filter(
        _literal("status_category", [StatusCategory.OPEN.value], in_list=False),  # case_open_warn
        _literal("status", sorted(TRANSITIONS["warn"].sources)),
        warned_at__isnull=True,
        warn_at__lte=now,
    )


def _warn_batch(*, now: datetime, batch_size: int) -> int:
    transition = TRANSITIONS["warn"]
    with transaction.atomic():
        rows = list(
            _warn_due(now=now)
            .select_for_update(skip_locked=True)
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
                    "{}",
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


def _rating_days() -> int:
    return int(getattr(settings, "LINLI_CASE_RATING_DAYS", 7))


def _auto_close_due(*, now: datetime, days: int) -> QuerySet[Case]:
    """Resolved cases nobody rated within ``days``."""
    return Case.objects.filter(
        # Literal, to match case_awaiting_rating (status, resolved_at) WHERE status = 'resolved'.
        _literal("status", sorted(TRANSITIONS["auto_close"].sources), in_list=False),
        resolved_at__lte=now - timedelta(days=days),
    )


def _auto_close_batch(*, now: datetime, batch_size: int) -> int:
    transition = TRANSITIONS["auto_close"]
    target = transition.target
    assert target is not None
    days = _rating_days()
    sources = sorted(transition.sources)
    with transaction.atomic():
        rows = list(
            _auto_close_due(now=now, days=days)
            .select_for_update(skip_locked=True)
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
                    _json((("rating_days", days),)),
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


def _clock_pending(*, clock: Clock, overdue: bool) -> dict[str, Any]:
    """Not marked yet (the compare-and-set condition): a case already overdue is not warned any more."""
    pending: dict[str, Any] = {f"{clock.overdue}__isnull": True}
    if not overdue:
        pending[f"{clock.warned}__isnull"] = True
    return pending


def _clock_due(*, clock: Clock, overdue: bool, now: datetime) -> QuerySet[Case]:
    """Cases in the clock's statuses whose warning time (or deadline) passed and that are not marked yet."""
    transition = TRANSITIONS[f"{clock.name}_overdue" if overdue else f"{clock.name}_warn"]
    if set(clock.statuses) != set(transition.sources):
        raise RuntimeError(f"SLA sweep: {transition.action} sources differ from the clock's index")
    moment = clock.due if overdue else clock.warn
    return Case.objects.filter(
        # The partial index's condition literally (case_triage_due … case_accept_warn), same order.
        _literal("status", clock.statuses),
        **_clock_pending(clock=clock, overdue=overdue),
        **{f"{moment}__lte": now},
    )


def _clock_batch(*, clock: Clock, overdue: bool, now: datetime, batch_size: int) -> int:
    """Warn (or mark overdue) one batch of cases whose triage/accept warning time (or deadline) passed."""
    transition = TRANSITIONS[f"{clock.name}_overdue" if overdue else f"{clock.name}_warn"]
    sources = sorted(transition.sources)
    pending = _clock_pending(clock=clock, overdue=overdue)
    moment = clock.due if overdue else clock.warn
    with transaction.atomic():
        rows = list(
            _clock_due(clock=clock, overdue=overdue, now=now)
            .select_for_update(skip_locked=True)
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
                    _json((("deadline", _iso(cast(datetime, r[7]))),)),
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


def _passes_with_work(*, now: datetime) -> set[str]:
    """Which of the passes after escalation have anything due: one query of EXISTS probes.

    Each probe is the pass's own select (the same queryset function, so the same conditions and the same
    partial index), without the lock. A pass it finds empty is skipped; one it finds busy runs as before.
    A row that falls due just after the probe is the next sweep's, exactly as if it fell due just after the
    pass's own select. Saves a transaction and a select per empty pass: most minutes, all of them.
    """
    probes: dict[str, QuerySet[Case]] = {
        f"{clock.name}_overdue" if overdue else f"{clock.name}_warned": _clock_due(
            clock=clock, overdue=overdue, now=now
        )
        for clock in CLOCKS
        for overdue in (True, False)
    }
    probes["warned"] = _warn_due(now=now)
    probes["auto_closed"] = _auto_close_due(now=now, days=_rating_days())
    parts: list[str] = []
    params: list[Any] = []
    for qs in probes.values():
        sql, p = qs.order_by().values("id")[:1].query.sql_with_params()
        parts.append(f"EXISTS ({sql})")
        params += p
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        found = cursor.fetchone()
    return {name for name, hit in zip(probes, found, strict=True) if hit}


def cases_sweep_sla(*, now: datetime | None = None, batch_size: int = 5000) -> SweepReport:
    """Escalate overdue cases (catching up level by level), warn those near their deadline, close unrated;
    warn and mark overdue on the triage and accept deadlines.

    Idempotent: running it again at the same ``now`` changes nothing.
    """
    now = now or timezone.now()
    report = SweepReport()
    book = policy_book_load()
    while True:
        done = _escalate_batch(now=now, book=book, batch_size=batch_size)
        report.escalated += done.escalated
        if done.escalated == 0 or (done.escalated < batch_size and not done.again):
            break
    # After escalation, which gives the moved cases a fresh triage deadline.
    busy = _passes_with_work(now=now)
    # The short clocks: overdue before warning, so a deadline that passed during downtime is reported
    # once, as overdue.
    for clock in CLOCKS:
        for overdue in (True, False):
            field = f"{clock.name}_overdue" if overdue else f"{clock.name}_warned"
            if field not in busy:
                continue
            while (n := _clock_batch(clock=clock, overdue=overdue, now=now, batch_size=batch_size)) > 0:
                setattr(report, field, getattr(report, field) + n)
                if n < batch_size:
                    break
    while "warned" in busy and (n := _warn_batch(now=now, batch_size=batch_size)) > 0:
        report.warned += n
        if n < batch_size:
            break
    while "auto_closed" in busy and (n := _auto_close_batch(now=now, batch_size=batch_size)) > 0:
        report.auto_closed += n
        if n < batch_size:
            break
    return report
