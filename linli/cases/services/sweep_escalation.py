"""The SLA sweep's timed escalation (QUALITY REL-3): overdue cases below the top rung move up one rung.

One batch at a time, every rung at once, in one transaction with its events and messages. PostgreSQL
moves a batch as waves in one statement (``sweep_waves``); SQLite (one writer at a time) reads the due
rows and writes them by id. A case whose new deadline has passed as well (after downtime) is due again
at its new rung and moves in the next round, so one sweep catches up one rung per passed deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import QuerySet

from linli.cases.ladder import ladder_load, level_region_path
from linli.cases.models import STATUS_INFO, Case, LadderLevel, StatusCategory
from linli.cases.notify import ReporterNote, SweptCase, cases_notify_bulk, cases_notify_reporters
from linli.cases.services.sweep_sql import (
    datetime_adapter,
    events_insert,
    iso,
    json_dict,
    literal_condition,
    local_minute,
)
from linli.cases.services.sweep_waves import Moved, WaveMove, escalation_apply, escalation_waves
from linli.cases.sla import Deadlines, PolicyBook, deadlines_compute_many
from linli.cases.transitions import TRANSITIONS

# Rows per SQLite ``UPDATE … FROM (VALUES …)``: from about 200 rows on, once the table has statistics
# (ANALYZE), SQLite builds a Bloom filter over the whole case table for each statement (0.2 s per chunk).
ESCALATION_CHUNK = 150
# SQLite: rows sharing their rung and deadlines (a wave) from this many on are updated by id list, up to
# ID_CHUNK ids a statement (under the 999 bound parameters).
GROUP_MIN = 50
ID_CHUNK = 900


# (id, level, next level, old deadline, triage, resolve, warn, triage warn)
Escalation = tuple[int, str, str, datetime, datetime, datetime, datetime, datetime]


def _write_escalations(rows: Sequence[Escalation], *, sources: list[str], now: datetime) -> int:
    """Move each row from its level to the next with its new deadlines; returns how many rows changed.

    SQLite (PostgreSQL moves waves: ``sweep_waves``). Compare-and-set: a row changes only if it is still at
    the level (and due by the deadline) it was read with, open, and in a source status of the table.
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
    adapt = datetime_adapter()
    head: list[Any] = [target, STATUS_INFO[target].category, adapt(now)]
    tail: list[Any] = [adapt(now), StatusCategory.OPEN, *sources]
    with connection.cursor() as cursor:
        stamps: dict[datetime, Any] = {}

        def stamp(value: datetime) -> Any:
            if value not in stamps:
                stamps[value] = adapt(value)
            return stamps[value]

        def stamped(*values: datetime) -> list[Any]:  # the five deadlines, in the statements' order
            return [stamp(v) for v in values]

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
                *stamped(old_due, triage_due, resolve_due, warn_at, triage_warn),
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
                params += [case_id, lv, nx, *stamped(old_due, triage_due, resolve_due, warn_at, triage_warn)]
            # SQLite names the columns of a VALUES list column1..N.
            cursor.execute(set_clause + f"FROM (VALUES {values}) AS v " + where, params + tail)
            done += cursor.rowcount
        return done


def escalation_due(*, levels: Sequence[str], now: datetime) -> QuerySet[Case]:
    """Open cases below the top rung, in a source status, whose resolve deadline passed."""
    return Case.objects.filter(
        # case_open_level_due's condition literally (see ``literal_condition``).
        literal_condition("status_category", [StatusCategory.OPEN.value], in_list=False),
        literal_condition("status", sorted(TRANSITIONS["escalate_timed"].sources)),
        level__in=list(levels),
        resolve_due_at__lte=now,
    )


@dataclass(frozen=True)
class EscalationRound:
    escalated: int
    more: bool  # due rows were left beyond the batch
    again: bool  # some escalated case's new deadline has passed too (downtime): another round is due


# A moved wave's rung before and after, its passed deadline and its new deadlines.
WaveInfo = tuple[str, str, datetime, Deadlines]
# The batch's waves, the rows moved, and whether due rows were left beyond the batch.
Escalated = tuple[list[WaveInfo], list[Moved], bool]


def _escalate_waves(*, now: datetime, book: PolicyBook, steps: dict[str, str], batch_size: int) -> Escalated:
    """PostgreSQL: one batch as waves, moved by one statement (``sweep_waves``) that also writes the events."""
    transition = TRANSITIONS["escalate_timed"]
    target = transition.target or ""
    batch = escalation_waves(escalation_due(levels=sorted(steps), now=now), batch_size=batch_size)
    if not batch.waves:
        return [], [], False
    deadlines = deadlines_compute_many(
        [w.old_due for w in batch.waves],
        [book.terms(kind=w.kind, category_id=w.category_id, level=steps[w.level]) for w in batch.waves],
    )
    moves = [
        WaveMove(
            level=steps[w.level],
            deadlines=d,
            note=f"超过办结时限({local_minute(w.old_due)}),自动升级",
            data=json_dict((("deadline", iso(w.old_due)), ("new_deadline", iso(d.resolve_due_at)))),
        )
        for w, d in zip(batch.waves, deadlines, strict=True)
    ]
    moved = escalation_apply(
        batch,
        moves,
        sources=sorted(transition.sources),
        target=target,
        category=STATUS_INFO[target].category,
        action=transition.action,
        public=transition.public,
        now=now,
    )
    waves = [(w.level, m.level, w.old_due, m.deadlines) for w, m in zip(batch.waves, moves, strict=True)]
    return waves, moved, batch.more


def _escalate_rows(*, now: datetime, book: PolicyBook, steps: dict[str, str], batch_size: int) -> Escalated:
    """SQLite: the due rows read (one writer at a time: no locks to take), moved by id, events inserted."""
    transition = TRANSITIONS["escalate_timed"]
    target = transition.target or ""
    due_rows = list(
        escalation_due(levels=sorted(steps), now=now)
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
        )[: batch_size + 1]  # one past the batch: says whether another batch follows
    )
    more = len(due_rows) > batch_size
    del due_rows[batch_size:]
    if not due_rows:
        return [], [], False
    starts = [cast(datetime, r[3]) for r in due_rows]
    deadlines = deadlines_compute_many(
        starts, [book.terms(kind=r[4], category_id=r[5], level=steps[r[2]]) for r in due_rows]
    )
    written = _write_escalations(
        [
            (r[0], r[2], steps[r[2]], s, d.triage_due_at, d.resolve_due_at, d.warn_at, d.triage_warn_at)
            for r, s, d in zip(due_rows, starts, deadlines, strict=True)
        ],
        sources=sorted(transition.sources),
        now=now,
    )
    if written != len(due_rows):
        # Impossible while this transaction is SQLite's only writer: roll back rather than write wrong events.
        raise RuntimeError(f"SLA sweep: {written} of {len(due_rows)} escalations applied")
    events_insert(
        [
            (
                r[0],
                transition.action,
                r[1],
                target,
                r[2],
                steps[r[2]],
                f"超过办结时限({local_minute(s)}),自动升级",
                json_dict((("deadline", iso(s)), ("new_deadline", iso(d.resolve_due_at)))),
                transition.public,
                now,
            )
            for r, s, d in zip(due_rows, starts, deadlines, strict=True)
        ]
    )
    index: dict[WaveInfo, int] = {}
    moved: list[Moved] = [
        (r[0], index.setdefault((r[2], steps[r[2]], s, d), len(index)), r[6], r[7], r[8], r[9], r[10])
        for r, s, d in zip(due_rows, starts, deadlines, strict=True)
    ]
    return list(index), moved, more


def _escalation_notify(*, waves: Sequence[WaveInfo], moved: Sequence[Moved], now: datetime) -> None:
    """One summary per dispatcher region and handler for the batch, one message per reporter."""
    first = min(moved)
    cases_notify_bulk(
        action="escalated",
        title="工单超时已升级",
        cases=[SweptCase(m[2], level_region_path(m[3], waves[m[1]][1]), m[4], None) for m in moved],
        to_dispatchers=True,
        # Unique per batch: a case's level only goes up, so (a case of the batch, its level) never repeats.
        batch_key=f"{waves[first[1]][0]}:{first[0]}:{now.timestamp():.0f}",
    )
    # Per wave, not per case: the level's name, the passed and the new deadline as the messages show them.
    shown = [
        (str(LadderLevel(nxt).label), f"{old.timestamp():.0f}", local_minute(d.resolve_due_at))
        for _, nxt, old, d in waves
    ]
    cases_notify_reporters(
        action=TRANSITIONS["escalate_timed"].action,
        notes=[
            ReporterNote(
                case_id=m[0],
                number=m[2],
                reporter_id=m[5],
                # One escalation per (case, passed deadline): the compare-and-set guarantees it.
                event_key=shown[m[1]][1],
                body=f"您的诉求(编号{m[2]})超过办理时限,已提交{shown[m[1]][0]}级办理,"
                f"新的办结时限为{shown[m[1]][2]}。",
            )
            for m in moved
            # Nobody to tell: no account and no contact phone (an empty mask means no number was left;
            # ``cases_notify_reporters`` would skip the note after reading the phones).
            if m[5] is not None or m[6]
        ],
    )


def escalation_batch(*, now: datetime, book: PolicyBook, batch_size: int) -> EscalationRound:
    """One batch of overdue cases at any rung below the top, each moved up one rung.

    All rungs at once (one UPDATE, one summary per recipient for the batch); a case whose new deadline
    has already passed (after downtime) is due again and moves up in the next round.
    """
    ladder = ladder_load()
    steps = ladder.steps()  # switched-off rungs too: cases sitting on one still move up
    escalate = _escalate_waves if connection.vendor == "postgresql" else _escalate_rows
    with transaction.atomic():
        waves, moved, more = escalate(now=now, book=book, steps=steps, batch_size=batch_size)
        if moved:
            _escalation_notify(waves=waves, moved=moved, now=now)
    # Due again at the new rung (its deadline passed during downtime) and that rung is not the top.
    again = any(d.resolve_due_at <= now and nxt in steps for _, nxt, _, d in waves)
    return EscalationRound(len(moved), more=more, again=again)
