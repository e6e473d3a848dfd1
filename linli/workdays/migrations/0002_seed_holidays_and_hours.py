"""Data: the default working hours and every State Council schedule the installed chinese-calendar knows.

The schedule comes from the package at migration time (a newer release adds years: run
``manage.py workdays_seed`` after upgrading). Reversing removes only what this seeded: rows with
source=seed and working periods still equal to the defaults; manual rows stay.
"""

import datetime as dt

from django.db import migrations

DEFAULT_PERIODS = [(dt.time(9, 0), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30))]


def seed(apps, schema_editor):
    # The seeder uses only the fields of 0001, so the historical model can stand in for the live one.
    from linli.workdays.services import calendar_seed

    calendar_seed(day_model=apps.get_model("workdays", "CalendarDay"))
    WorkingHours = apps.get_model("workdays", "WorkingHours")
    if not WorkingHours.objects.exists():
        WorkingHours.objects.bulk_create(
            WorkingHours(start=start, end=end, note="默认作息") for start, end in DEFAULT_PERIODS
        )


def unseed(apps, schema_editor):
    apps.get_model("workdays", "CalendarDay").objects.filter(source="seed").delete()
    WorkingHours = apps.get_model("workdays", "WorkingHours")
    for start, end in DEFAULT_PERIODS:
        WorkingHours.objects.filter(start=start, end=end).delete()


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_calendar_tables")]

    operations = [migrations.RunPython(seed, unseed)]
