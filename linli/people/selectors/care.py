"""Reads of the care registry, always through ``care.view`` scope (PI-3), and the due-date rule.

The due-date rule (``care_due_date``): the next visit is due ``interval`` days after the last visit (or,
before the first visit, after the record was opened), where the interval is the plan's own or the level's
(red weekly, yellow monthly, green quarterly by default; admin-editable). A due date that falls on a
weekend or public holiday moves to the next working day (``linli.workdays``, 调休 honoured): visits are
office-hours work. A record is overdue from the day after its due date.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone

from linli.people.models import CareLevel, CareRecord, CareStatus, CareVisit, ResidentStatus
from linli.workdays import rules

DUE_SOON_DAYS = 3
_MAX_SHIFT = 40  # a due date never moves further than this to reach a working day (Spring Festival: ~9)


def care_due_date(*, base: dt.date, interval_days: int) -> dt.date:
    due = base + dt.timedelta(days=max(1, interval_days))
    for _ in range(_MAX_SHIFT):
        if rules.is_working_day(due):
            return due
        due += dt.timedelta(days=1)
    return due


def care_interval_days(record: CareRecord) -> int:
    return int(record.interval_days_override or record.level.visit_interval_days)


def care_next_due(record: CareRecord) -> dt.date:
    """The due date of ``record``'s next visit from its stored last visit and interval."""
    if record.last_visit_at is not None:
        base = timezone.localtime(record.last_visit_at).date()
    else:
        base = record.opened_on
    return care_due_date(base=base, interval_days=care_interval_days(record))


@dataclass(frozen=True)
class DueState:
    label: str  # overdue / soon / ok / closed
    days: int  # days overdue (> 0) or days left (≥ 0)


def care_due_state(record: CareRecord, today: dt.date | None = None) -> DueState:
    today = today or timezone.localdate()
    if record.status != CareStatus.ACTIVE or record.next_visit_due is None:
        return DueState("closed", 0)
    delta = (today - record.next_visit_due).days
    if delta > 0:
        return DueState("overdue", delta)
    if -delta <= DUE_SOON_DAYS:
        return DueState("soon", -delta)
    return DueState("ok", -delta)


@dataclass(frozen=True)
class CareFilters:
    status: str = CareStatus.ACTIVE
    level: str = ""  # red / yellow / green
    category_id: int | None = None
    grid_id: int | None = None
    worker_id: int | None = None
    overdue_only: bool = False


def care_records_for_user(
    user: Any, filters: CareFilters | None = None, *, today: dt.date | None = None
) -> QuerySet[CareRecord]:
    """Records in ``user``'s care scope, overdue first (most overdue on top), then by due date."""
    f = filters or CareFilters()
    today = today or timezone.localdate()
    qs = CareRecord.objects.for_user(user).select_related(
        "resident__household__building__parent", "level", "worker", "grid"
    )
    if f.status:
        qs = qs.filter(status=f.status)
    if f.level:
        qs = qs.filter(level__code=f.level)
    if f.category_id:
        # A subquery, not a join: a join on the M2M would need DISTINCT over every selected column.
        qs = qs.filter(
            pk__in=CareRecord.categories.through.objects.filter(carecategory_id=f.category_id).values(
                "carerecord_id"
            )
        )
    if f.grid_id:
        qs = qs.filter(grid_id=f.grid_id)
    if f.worker_id:
        qs = qs.filter(worker_id=f.worker_id)
    if f.overdue_only:
        qs = qs.filter(status=CareStatus.ACTIVE, next_visit_due__lt=today)
    overdue = Case(
        When(Q(status=CareStatus.ACTIVE) & Q(next_visit_due__lt=today), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    return qs.annotate(_overdue_rank=overdue).order_by("_overdue_rank", "next_visit_due", "id")


def care_record_for_user(user: Any, record_id: int) -> CareRecord | None:
    return (
        CareRecord.objects.for_user(user)
        .select_related("resident__household__building__parent", "level", "worker", "grid")
        .prefetch_related("categories")
        .filter(pk=record_id)
        .first()
    )


def care_record_for_person(user: Any, *, phone: str = "", record_id: int | None = None) -> CareRecord | None:
    """The ACTIVE care record of one person, inside ``user``'s care scope: the record ``record_id`` when
    given (chosen from the user's own list), else the record of the present resident registered with
    ``phone`` (exact, through the blind index). None when the person is not on the registry, or not where
    this user may see it: being on it is sensitive (PI-3), so nobody learns it from outside their scope."""
    qs = CareRecord.objects.for_user(user).filter(status=CareStatus.ACTIVE).select_related("resident")
    if record_id is not None:
        return qs.filter(pk=record_id).first()
    if not phone:
        return None
    return (
        qs.filter(resident__phone_index__matches=phone, resident__status=ResidentStatus.PRESENT)
        .order_by("id")
        .first()
    )


def care_visits_of(record: CareRecord) -> QuerySet[CareVisit]:
    return record.visits.select_related("worker").prefetch_related("photos")


@dataclass(frozen=True)
class CareCounts:
    active: int
    overdue: int
    by_level: dict[str, int]


def care_counts_for_user(user: Any, *, today: dt.date | None = None) -> CareCounts:
    """The figures at the top of the care screens (one query per figure, never per row)."""
    today = today or timezone.localdate()
    qs = CareRecord.objects.for_user(user).filter(status=CareStatus.ACTIVE)
    by_level = dict.fromkeys(CareLevel.objects.values_list("code", flat=True), 0)
    for code, count in _count_by(qs, "level__code"):
        by_level[code] = count
    return CareCounts(
        active=qs.count(), overdue=qs.filter(next_visit_due__lt=today).count(), by_level=by_level
    )


def _count_by(qs: QuerySet[CareRecord], field: str) -> list[tuple[str, int]]:
    from django.db.models import Count

    return [(row[field], row["n"]) for row in qs.order_by().values(field).annotate(n=Count("id"))]
