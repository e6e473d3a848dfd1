"""Human-readable case numbers ``20261122-000123``: a per-day counter row incremented in the caller's transaction.

One ``UPDATE … RETURNING`` increments and reads atomically (PostgreSQL row lock; SQLite single writer), so
two concurrent submissions never get the same number. The caller's transaction holds the row lock until it
commits, so the increment is done last, just before the case INSERT, to keep that window short. A rolled
back submission rolls its increment back too: numbers have no gaps from failed inserts.
"""

from __future__ import annotations

from datetime import date, datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from linli.cases.models import CaseNumberCounter


def case_number_next(*, at: datetime) -> str:
    if not connection.in_atomic_block:
        raise RuntimeError("case_number_next must run inside the submitting transaction")
    day: date = timezone.localdate(at)
    table = CaseNumberCounter._meta.db_table
    sql = f"UPDATE {table} SET last = last + 1 WHERE day = %s RETURNING last"  # noqa: S608 - table from model meta
    with connection.cursor() as cursor:
        cursor.execute(sql, [day])
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    CaseNumberCounter.objects.create(day=day, last=1)
                value = 1
            except IntegrityError:
                # Another submission created today's row first: increment that one.
                cursor.execute(sql, [day])
                value = cursor.fetchone()[0]
        else:
            value = row[0]
    return f"{day:%Y%m%d}-{value:06d}"
