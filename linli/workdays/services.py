"""Writes to the working-day calendar: seeding from chinese-calendar, manual days, working hours.

Every write ends by scheduling ``calendar_invalidate`` after commit, so this process sees its own edit at
once; other processes see it through the version stamp within ``LINLI_WORKDAYS_RECHECK_SECONDS``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import chinese_calendar
from django.db import transaction
from django.db.models import Q

from linli.workdays.models import CalendarDay, DayKind, DaySource, WorkingHours
from linli.workdays.rules import calendar_invalidate
from linli.workdays.timeline import CalendarError, Period, validate_periods


# --- what the package knows ---------------------------------------------------------------------
def package_years() -> list[int]:
    """Years whose State Council schedule the installed chinese-calendar release contains."""
    return sorted({day.year for day in chinese_calendar.holidays})


def _chinese_name(english: str) -> str:
    try:
        return str(chinese_calendar.Holiday(english).chinese)
    except ValueError:  # a holiday added to the package after this code was written
        return english


def package_schedule(year: int) -> dict[dt.date, tuple[str, str]]:
    """{date: (kind, name)} for one covered year: holiday periods and 调休 make-up working days."""
    schedule = {
        day: (DayKind.HOLIDAY.value, _chinese_name(english))
        for day, english in chinese_calendar.holidays.items()
        if day.year == year
    }
    schedule.update(
        (day, (DayKind.MAKEUP_WORKDAY.value, _chinese_name(english)))
        for day, english in chinese_calendar.workdays.items()
        if day.year == year
    )
    return schedule


@dataclass
class SeedReport:
    years_seeded: list[int] = field(default_factory=list)
    years_uncovered: list[int] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    kept_manual: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)


def calendar_seed(
    *, years: Iterable[int] | None = None, day_model: type[CalendarDay] = CalendarDay
) -> SeedReport:
    """Bring the seed rows of ``years`` (default: every year the package covers) in line with the package.

    Idempotent: a second run changes nothing. Rows with ``source=manual`` are never touched, even when the
    package disagrees. Seed rows the package no longer lists (a corrected schedule) are removed. Years the
    package does not cover are reported and left alone: we never guess a schedule.

    ``day_model`` lets the data migration pass its historical model; only the fields of 0001 are used.
    """
    known = set(package_years())
    wanted_years = sorted(set(years) if years is not None else known)
    report = SeedReport(
        years_seeded=[y for y in wanted_years if y in known],
        years_uncovered=[y for y in wanted_years if y not in known],
    )
    if not report.years_seeded:
        return report
    wanted: dict[dt.date, tuple[str, str]] = {}
    for year in report.years_seeded:
        wanted.update(package_schedule(year))
    in_years = Q()
    for year in report.years_seeded:
        in_years |= Q(date__gte=dt.date(year, 1, 1), date__lte=dt.date(year, 12, 31))

    with transaction.atomic():
        # Lock what we compare against, so an admin edit in between cannot be overwritten by our update.
        existing = {row.date: row for row in day_model.objects.select_for_update().filter(in_years)}
        to_create = []
        for day, (kind, name) in sorted(wanted.items()):
            row = existing.get(day)
            if row is None:
                to_create.append(day_model(date=day, kind=kind, name=name, source=DaySource.SEED))
            elif row.source == DaySource.MANUAL:
                report.kept_manual += 1
            elif (row.kind, row.name) == (kind, name):
                report.unchanged += 1
            else:
                row.kind, row.name = kind, name
                row.save(update_fields=["kind", "name", "updated_at"])
                report.updated += 1
        stale = [
            row.pk for day, row in existing.items() if row.source == DaySource.SEED and day not in wanted
        ]
        if stale:
            report.deleted = day_model.objects.filter(pk__in=stale).delete()[0]
        # ignore_conflicts: a manual row inserted concurrently for the same date wins, as it should.
        report.created = len(day_model.objects.bulk_create(to_create, ignore_conflicts=True))
        transaction.on_commit(calendar_invalidate)
    return report


# --- manual maintenance (the admin calls these) -------------------------------------------------
def calendar_day_set(*, day: dt.date, kind: str, name: str = "", note: str = "") -> CalendarDay:
    """Create or overwrite the row for ``day`` as a manual entry; the seeder will leave it alone."""
    if kind not in DayKind.values:
        raise CalendarError(f"未知的日期类型：{kind}")
    with transaction.atomic():
        row, _ = CalendarDay.objects.select_for_update().update_or_create(
            date=day,
            defaults={"kind": kind, "name": name, "note": note, "source": DaySource.MANUAL},
        )
        transaction.on_commit(calendar_invalidate)
    return row


def calendar_day_delete(*, day: dt.date) -> bool:
    """Remove the row for ``day`` (the weekday rule applies again; re-seeding restores an official day)."""
    with transaction.atomic():
        deleted, _ = CalendarDay.objects.filter(date=day).delete()
        transaction.on_commit(calendar_invalidate)
    return bool(deleted)


def working_hours_replace(*, periods: Sequence[Period], note: str = "") -> list[WorkingHours]:
    """Replace every working period at once (e.g. switching to summer hours)."""
    ordered = validate_periods(periods)
    with transaction.atomic():
        # Lock the rows first so two concurrent replacements run one after the other, not interleaved.
        list(WorkingHours.objects.select_for_update())
        WorkingHours.objects.all().delete()
        rows = WorkingHours.objects.bulk_create(
            WorkingHours(start=start, end=end, note=note) for start, end in ordered
        )
        transaction.on_commit(calendar_invalidate)
    return rows


def working_period_save(
    *, period_id: int | None, start: dt.time, end: dt.time, note: str = ""
) -> WorkingHours:
    """Add a period, or change one, refusing any overlap with the others."""
    with transaction.atomic():
        rows = WorkingHours.objects.select_for_update()
        others = list(rows if period_id is None else rows.exclude(pk=period_id))
        validate_periods([(p.start, p.end) for p in others] + [(start, end)])
        if period_id is None:
            row = WorkingHours.objects.create(start=start, end=end, note=note)
        else:
            row = WorkingHours.objects.select_for_update().get(pk=period_id)
            row.start, row.end, row.note = start, end, note
            row.save(update_fields=["start", "end", "note", "updated_at"])
        transaction.on_commit(calendar_invalidate)
    return row


def working_period_delete(*, period_id: int) -> None:
    """Remove a period; the last one cannot go (a day without working hours has no deadlines)."""
    with transaction.atomic():
        rows = list(WorkingHours.objects.select_for_update())
        if len(rows) <= 1:
            raise CalendarError("至少需要保留一个工作时段")
        WorkingHours.objects.filter(pk=period_id).delete()
        transaction.on_commit(calendar_invalidate)
