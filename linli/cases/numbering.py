"""Human-readable case numbers ``20261122-000123``: a per-day counter row incremented in the caller's transaction.

The increment is one upsert (``INSERT … ON CONFLICT (day) DO UPDATE SET last = last + 1 RETURNING last``):
atomic on both databases (PostgreSQL row lock; SQLite single writer), so two concurrent submissions never
get the same number, and the day's first submission creates the row in the same statement. The counter row
stays locked until the caller commits, and every submission of the day needs it: the increment is done
as late as possible. On PostgreSQL a submission writes the number, the case, its event and its task row in
one statement in autocommit (``case_number_parts``: the counter's CTE and the number's expression), so the
lock is held for that statement only; with photos (rows written one by one) ``case_number_assign`` writes
the number into the provisionally numbered case as the last statement before the COMMIT. A rolled back
submission rolls its increment back too: numbers have no gaps from failed inserts.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from linli.cases.models import Case, CaseNumberCounter
from linli.core import fastsql


def _in_transaction(name: str) -> None:
    if not connection.in_atomic_block:
        raise RuntimeError(f"{name} must run inside the submitting transaction")


def _upsert_sql() -> str:
    table = CaseNumberCounter._meta.db_table
    return (
        f"INSERT INTO {table} (day, last) VALUES (%s, 1) "  # noqa: S608 - table from model meta
        f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )


NUMBER_DIGITS = 6  # the day's sequence, zero-padded: 20261122-000123


def case_number_prefix(day: date) -> str:
    return f"{day:%Y%m%d}-"


def case_number_format(day: date, value: int) -> str:
    return f"{case_number_prefix(day)}{value:0{NUMBER_DIGITS}d}"


def case_number_next(*, at: datetime) -> str:
    """The next number of ``at``'s local day (the counter row stays locked until the caller commits)."""
    _in_transaction("case_number_next")
    day: date = timezone.localdate(at)
    row, _ = fastsql.execute(_upsert_sql(), [day], fetchone=True)
    return case_number_format(day, row[0])


def case_number_provisional() -> str:
    """A unique placeholder for a case inserted before ``case_number_assign`` (never committed)."""
    return "~" + uuid.uuid4().hex[:19]


def case_number_parts(*, at: datetime) -> tuple[str, list[object], str, list[object]]:
    """PostgreSQL, for a submission written in one statement: the day's counter increment as a CTE named
    ``n`` and the number's SQL expression over it, each with its parameters. The counter row is locked
    for that one statement (in autocommit, until it has committed)."""
    day: date = timezone.localdate(at)
    cte = f"n AS ({_upsert_sql()})"
    number = f"(SELECT %s || lpad(n.last::text, {NUMBER_DIGITS}, '0') FROM n)"  # noqa: S608 - a constant
    return cte, [day], number, [case_number_prefix(day)]


def case_number_assign(*, case_id: int, at: datetime) -> str:
    """PostgreSQL: increment the day's counter and write the number into the (provisional) case row, in
    one statement, as the last one before the caller commits."""
    _in_transaction("case_number_assign")
    day: date = timezone.localdate(at)
    cases = Case._meta.db_table
    sql = (
        f"WITH n AS ({_upsert_sql()}) "  # noqa: S608 - names from model meta
        f"UPDATE {cases} SET number = %s || lpad(n.last::text, {NUMBER_DIGITS}, '0') FROM n "
        f"WHERE {cases}.id = %s RETURNING {cases}.number"
    )
    row, _ = fastsql.execute(sql, [day, case_number_prefix(day), case_id], fetchone=True)
    if row is None:
        raise RuntimeError(f"case {case_id} is not in this transaction")
    return str(row[0])
