"""Deadlines: which SLA policy applies to a case, and when its triage, acceptance and resolution are due.

Working time comes from ``linli.workdays.rules`` (法定节假日 and 调休 honoured). It is imported lazily and
used only through the small protocol below, so this module is the one place that knows the calendar API.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, cast

from django.utils import timezone

from linli.cases.models import Category, DurationUnit, SlaPolicy


class WorkingCalendar(Protocol):
    def add_working_days(self, start: datetime, days: int) -> datetime: ...
    def add_working_time(self, start: datetime, amount: timedelta) -> datetime: ...
    def add_working_time_many(
        self, starts: Sequence[datetime], amounts: Sequence[timedelta]
    ) -> list[datetime]: ...


def calendar() -> WorkingCalendar:
    from linli.workdays import rules  # lazy: the workdays app owns the holiday table

    return cast(WorkingCalendar, rules)


@dataclass(frozen=True)
class Terms:
    """The durations one policy row gives (working time)."""

    triage: timedelta
    accept: timedelta
    resolve_amount: Decimal
    resolve_unit: str
    warn_fraction: float
    policy_id: int | None = None

    def resolve_key(self) -> tuple[Decimal, str]:
        return (self.resolve_amount, self.resolve_unit)


# Used when no policy row matches at all (an admin deleted the catch-all row).
DEFAULT_TERMS = Terms(
    triage=timedelta(hours=4),
    accept=timedelta(hours=4),
    resolve_amount=Decimal(5),
    resolve_unit=DurationUnit.DAYS,
    warn_fraction=0.8,
)


# (id, kind, category_id, level, triage_hours, accept_hours, resolve_amount, resolve_unit, warn_fraction)
PolicyRow = tuple[int, str, int | None, str, Decimal, Decimal, Decimal, str, Decimal]


class PolicyBook:
    """All active policies and the category tree, loaded once: ``terms()`` is then pure Python."""

    def __init__(
        self,
        rows: Sequence[PolicyRow],
        parents: Mapping[int, int | None],
    ) -> None:
        self.rows = list(rows)
        self.parents = parents
        self._cache: dict[tuple[str, int | None, str], Terms] = {}

    def _chain(self, category_id: int | None) -> list[int]:
        chain: list[int] = []
        seen: set[int] = set()
        current = category_id
        while current is not None and current not in seen:
            seen.add(current)
            chain.append(current)
            current = self.parents.get(current)
        return chain  # the category first, then its ancestors

    def terms(self, *, kind: str, category_id: int | None, level: str) -> Terms:
        key = (kind, category_id, level)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        chain = self._chain(category_id)
        best: tuple[tuple[int, int, int], Terms] | None = None
        for pid, p_kind, p_cat, p_level, triage, accept, amount, unit, warn in self.rows:
            if p_kind and p_kind != kind:
                continue
            if p_level and p_level != level:
                continue
            if p_cat is not None and p_cat not in chain:
                continue
            cat_score = 0 if p_cat is None else len(chain) - chain.index(p_cat)
            score = (cat_score, 1 if p_level else 0, 1 if p_kind else 0)
            if best is None or score > best[0]:
                best = (
                    score,
                    Terms(
                        triage=timedelta(hours=float(triage)),
                        accept=timedelta(hours=float(accept)),
                        resolve_amount=amount,
                        resolve_unit=unit,
                        warn_fraction=float(warn),
                        policy_id=pid,
                    ),
                )
        result = best[1] if best else DEFAULT_TERMS
        self._cache[key] = result
        return result


def policy_rows_load() -> list[PolicyRow]:
    """The active policies as ``PolicyBook`` takes them (one query)."""
    return list(
        SlaPolicy.objects.filter(is_active=True).values_list(
            "id",
            "kind",
            "category_id",
            "level",
            "triage_hours",
            "accept_hours",
            "resolve_amount",
            "resolve_unit",
            "warn_fraction",
        )
    )


def policy_book_load() -> PolicyBook:
    """A fresh book from the database (the sweep and bulk imports: once per run)."""
    parents = dict(Category.objects.values_list("id", "parent_id"))
    return PolicyBook(policy_rows_load(), parents)


def policy_book_cached() -> PolicyBook:
    """The process's book (``linli.cases.rules_cache``): no query on the request path."""
    from linli.cases.rules_cache import case_rules  # lazy: rules_cache imports this module

    return case_rules().book


def terms_for(*, kind: str, category_id: int | None, level: str) -> Terms:
    return policy_book_cached().terms(kind=kind, category_id=category_id, level=level)


@dataclass(frozen=True)
class Deadlines:
    triage_due_at: datetime
    resolve_due_at: datetime
    warn_at: datetime
    triage_warn_at: datetime

    def fields(self) -> dict[str, datetime | None]:
        """The case fields these deadlines set, with the warning markers of both clocks cleared."""
        return {
            "triage_due_at": self.triage_due_at,
            "triage_warn_at": self.triage_warn_at,
            "triage_warned_at": None,
            "triage_overdue_at": None,
            "resolve_due_at": self.resolve_due_at,
            "warn_at": self.warn_at,
            "warned_at": None,
        }


def resolve_deadline(start: datetime, terms: Terms) -> datetime:
    if terms.resolve_unit == DurationUnit.DAYS:
        # "N个工作日内": whole days; a fractional admin entry rounds up rather than shortening the promise.
        return calendar().add_working_days(start, math.ceil(terms.resolve_amount))
    return calendar().add_working_time(start, timedelta(hours=float(terms.resolve_amount)))


def warn_time(start: datetime, due: datetime, terms: Terms) -> datetime:
    """预警 when the given fraction of the (wall-clock) time to the deadline has passed."""
    return start + (due - start) * terms.warn_fraction


def deadlines_compute(*, start: datetime, terms: Terms) -> Deadlines:
    """Triage and resolution deadlines (and their warning times) for a case arriving at a level at ``start``."""
    due = resolve_deadline(start, terms)
    cal = calendar()
    return Deadlines(
        triage_due_at=cal.add_working_time(start, terms.triage),
        resolve_due_at=due,
        warn_at=warn_time(start, due, terms),
        triage_warn_at=cal.add_working_time(start, terms.triage * terms.warn_fraction),
    )


@dataclass(frozen=True)
class AcceptClock:
    due_at: datetime
    warn_at: datetime

    def fields(self) -> dict[str, datetime | None]:
        """The case fields an assignment sets: a fresh accept deadline, its warning time, no markers."""
        return {
            "accept_due_at": self.due_at,
            "accept_warn_at": self.warn_at,
            "accept_warned_at": None,
            "accept_overdue_at": None,
        }


def accept_deadline(*, start: datetime, terms: Terms) -> AcceptClock:
    """The accept deadline of an assignment at ``start``.

    The short clocks (triage, accept: a few working hours) warn after the warn fraction of their *working*
    time, so a warning falls in office hours rather than in the night before a Monday-morning deadline.
    """
    cal = calendar()
    return AcceptClock(
        due_at=cal.add_working_time(start, terms.accept),
        warn_at=cal.add_working_time(start, terms.accept * terms.warn_fraction),
    )


def deadlines_compute_many(starts: Sequence[datetime], terms: Sequence[Terms]) -> list[Deadlines]:
    """``deadlines_compute`` for N cases with no query per case (the SLA sweep).

    Computed once per distinct (start, terms): a sweep's batch is mostly one wave (every "N working days"
    deadline ends at close of business), so 10 k escalations share a handful of starts and policies.
    Equal pairs get the same ``Deadlines`` object.
    """
    if len(starts) != len(terms):
        raise ValueError("one terms per start")
    groups: dict[tuple[datetime, Terms], int] = {}
    index = [groups.setdefault(pair, len(groups)) for pair in zip(starts, terms, strict=True)]
    distinct = _deadlines_distinct([s for s, _ in groups], [t for _, t in groups])
    return [distinct[i] for i in index]


def _deadlines_distinct(starts: Sequence[datetime], terms: Sequence[Terms]) -> list[Deadlines]:
    cal = calendar()
    triage = cal.add_working_time_many(starts, [t.triage for t in terms])
    triage_warn = cal.add_working_time_many(starts, [t.triage * t.warn_fraction for t in terms])
    due: list[datetime | None] = [None] * len(starts)
    hour_idx = [i for i, t in enumerate(terms) if t.resolve_unit != DurationUnit.DAYS]
    if hour_idx:
        hour_due = cal.add_working_time_many(
            [starts[i] for i in hour_idx], [timedelta(hours=float(terms[i].resolve_amount)) for i in hour_idx]
        )
        for i, value in zip(hour_idx, hour_due, strict=True):
            due[i] = value
    # "N working days" (N ≥ 1) ends at close of business of the N-th working day after the *day* of the
    # start, whatever its hour: one computation per (local date, N) serves every case sharing them.
    by_day: dict[tuple[date, int], datetime] = {}
    tz = timezone.get_default_timezone()
    for i, t in enumerate(terms):
        if t.resolve_unit == DurationUnit.DAYS:
            n = math.ceil(t.resolve_amount)
            if n < 1:
                due[i] = cal.add_working_days(starts[i], n)
                continue
            key = (starts[i].astimezone(tz).date(), n)
            if key not in by_day:
                by_day[key] = cal.add_working_days(starts[i], n)
            due[i] = by_day[key]
    out: list[Deadlines] = []
    for i, t in enumerate(terms):
        d = cast(datetime, due[i])
        out.append(
            Deadlines(
                triage_due_at=triage[i],
                resolve_due_at=d,
                warn_at=warn_time(starts[i], d, t),
                triage_warn_at=triage_warn[i],
            )
        )
    return out
