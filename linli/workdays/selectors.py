"""Reads of the calendar table for reports and the seed command (the rules themselves live in rules.py).

The calendar is public reference data, not scoped to users, so there is no ``for_user`` here.
"""

from __future__ import annotations

from django.db.models import QuerySet

from linli.workdays.models import CalendarDay, DayKind


def calendar_years_covered() -> list[int]:
    """Years that have their 法定节假日 in the table (seeded or entered by hand), read fresh."""
    dates = CalendarDay.objects.filter(kind=DayKind.HOLIDAY).dates("date", "year")
    return [day.year for day in dates]


def calendar_days_in_year(year: int) -> QuerySet[CalendarDay]:
    return CalendarDay.objects.filter(date__year=year)
