"""The periodic SLA sweep (QUALITY REL-3): timed escalation, warnings (预警) and auto-closure.

Set-based and idempotent:
- timed escalation (``sweep_escalation``): a batch of overdue cases of every rung below the top moves up
  one rung; on PostgreSQL as waves, one ``UPDATE … FROM`` per batch whose WHERE is the compare-and-set
  ("still open, in a source status, at this rung and due by this deadline"), batches of concurrent sweeps
  serialised by an advisory lock (``sweep_waves``); on SQLite (one writer at a time) by id. Two sweeps at
  once escalate each case exactly once;
- the other passes select a batch of due rows ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite serialises
  writers) and write them with a compare-and-set UPDATE;
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

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from linli.cases.ladder import level_region_path
from linli.cases.models import (
    ACCEPT_CLOCK_STATUSES,
    STATUS_INFO,
    TRIAGE_CLOCK_STATUSES,
    Case,
    StatusCategory,
)
from linli.cases.notify import ReporterNote, SweptCase, cases_notify_bulk, cases_notify_reporters
from linli.cases.services.sweep_escalation import escalation_batch
from linli.cases.services.sweep_sql import events_insert, iso, json_dict, literal_condition, local_minute
from linli.cases.sla import policy_book_load
from linli.cases.transitions import TRANSITIONS


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


def _warn_due(*, now: datetime) -> QuerySet[Case]:
    """Open cases whose warning time passed and that were not warned yet."""
    return Case.objects.filter(
        literal_condition("status_category", [StatusCategory.OPEN.value], in_list=False),  # case_open_warn
        literal_condition("status", sorted(TRANSITIONS["warn"].sources)),
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
        events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    r[1],
                    r[2],
                    r[2],
                    f"即将到期(办结时限 {local_minute(cast(datetime, r[7]))})",
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
        literal_condition("status", sorted(TRANSITIONS["auto_close"].sources), in_list=False),
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
        events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    target,
                    r[2],
                    r[2],
                    note,
                    json_dict((("rating_days", days),)),
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
        literal_condition("status", clock.statuses),
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
        events_insert(
            [
                (
                    r[0],
                    transition.action,
                    r[1],
                    r[1],
                    r[2],
                    r[2],
                    f"{what}{clock.label}时限({local_minute(cast(datetime, r[7]))})",
                    json_dict((("deadline", iso(cast(datetime, r[7]))),)),
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
        done = escalation_batch(now=now, book=book, batch_size=batch_size)
        report.escalated += done.escalated
        if done.escalated == 0 or not (done.more or done.again):
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
