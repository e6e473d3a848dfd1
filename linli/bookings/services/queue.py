"""Queue numbers (取号): ``A001``, ``A002`` … per station, day and prefix, from a counter row.

One ``UPDATE … RETURNING`` increments and reads atomically (PostgreSQL row lock; SQLite single writer), so
two concurrent check-ins never get the same number; the unique (station, day, queue_number) index on
appointments backs it up. The caller's transaction holds the row lock until it commits, and a rolled-back
check-in rolls its increment back too (no gaps from failures).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction

from linli.bookings.models import QueueCounter

APPOINTMENT_PREFIX = "A"  # 预约 (booked); "B" is kept for walk-in tickets


def queue_number_next(*, station_id: int, day: dt.date, prefix: str = APPOINTMENT_PREFIX) -> str:
    if not connection.in_atomic_block:
        raise RuntimeError("queue_number_next must run inside the check-in transaction")
    table = QueueCounter._meta.db_table
    sql = (
        f"UPDATE {table} SET last = last + 1 "  # noqa: S608 - table name from model meta
        "WHERE station_id = %s AND day = %s AND prefix = %s RETURNING last"
    )
    params: list[int | str] = [station_id, day.isoformat(), prefix]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
        if row is None:
            try:
                with transaction.atomic():
                    QueueCounter.objects.create(station_id=station_id, day=day, prefix=prefix, last=1)
                value = 1
            except IntegrityError:
                # Another check-in created today's counter first: increment that one.
                cursor.execute(sql, params)
                value = cursor.fetchone()[0]
        else:
            value = row[0]
    return f"{prefix}{value:03d}"
