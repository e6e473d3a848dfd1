"""What the SLA sweep's passes share: partial-index conditions written out, the formats of the values they
repeat, and the bulk insert of their event rows."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import BooleanField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from linli.cases.models import Case, CaseEvent

CHUNK = 500  # rows per multi-row statement: well under SQLite's bound-parameter limit


def literal_condition(column: str, values: Sequence[str], *, in_list: bool = True) -> RawSQL:
    """``column IN ('a', 'b')`` (or ``column = 'a'``) with the values written out, as the partial index has it.

    SQLite uses a partial index only when the query's WHERE provably implies the index's term by term,
    which it checks against literals, not against a bound ``IN (?, ?)`` list, and ``IN ('a')`` does not
    match ``= 'a'``; so the sweep's selects repeat the indexes' conditions literally, in the same form
    and order. The values are codes from the model (letters and ``_``).
    """
    for value in values:
        if not re.fullmatch(r"[a-z_]+", value):
            raise ValueError(f"not a plain code: {value!r}")
    if not in_list and len(values) != 1:
        raise ValueError("one value for '='")
    table = Case._meta.db_table
    test = "IN (" + ", ".join(f"'{v}'" for v in values) + ")" if in_list else f"= '{values[0]}'"
    return RawSQL(f'"{table}"."{column}" {test}', (), output_field=BooleanField())  # noqa: S611


def datetime_adapter() -> Any:
    """The backend's datetime adapter, looked up once per statement batch (not per value)."""
    return connection.ops.adapt_datetimefield_value


@lru_cache(maxsize=4096)  # deadlines repeat (17:30 of a few dates): format each once
def local_minute(value: datetime) -> str:
    return f"{value.astimezone(timezone.get_default_timezone()):%Y-%m-%d %H:%M}"


@lru_cache(maxsize=4096)  # the same few instants recur in every row of a wave
def iso(value: datetime) -> str:
    return value.isoformat()


@lru_cache(maxsize=4096)
def json_dict(data: tuple[tuple[str, Any], ...]) -> str:
    return json.dumps(dict(data), ensure_ascii=False)


# (case id, action, from status, to status, from level, to level, note, data as JSON, is_public, created_at)
EventRow = tuple[int, str, str, str, str, str, str, str, bool, datetime]


def events_insert(rows: Sequence[EventRow]) -> None:
    """Bulk INSERT of system events: building 10 k model instances would cost more than the SQL.

    PostgreSQL gets one statement over a JSON array of groups (the rows that differ only by case id share
    one element: a wave of escalations is a handful of groups, so neither side encodes or parses 10 k
    timestamps); SQLite multi-row VALUES in chunks.
    """
    table = CaseEvent._meta.db_table
    cols = "case_id, actor_id, actor_role, action, from_status, to_status, from_level, to_level, note, data, is_public, created_at"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            groups: dict[tuple[Any, ...], list[int]] = {}
            for row in rows:
                groups.setdefault(row[1:], []).append(row[0])
            payload = json.dumps(
                [
                    [ids, action, fs, ts, fl, tl, note, data, public, iso(at)]
                    for (action, fs, ts, fl, tl, note, data, public, at), ids in groups.items()
                ],
                ensure_ascii=False,
            )
            cursor.execute(
                f"INSERT INTO {table} ({cols}) "  # noqa: S608 - names from model meta
                "SELECT jsonb_array_elements_text(g->0)::bigint, NULL, 'system', g->>1, g->>2, g->>3, g->>4, "
                "g->>5, g->>6, (g->>7)::jsonb, (g->>8)::boolean, (g->>9)::timestamptz "
                "FROM jsonb_array_elements(%s::jsonb) AS g",
                [payload],
            )
            return
        adapt = datetime_adapter()
        stamps: dict[datetime, Any] = {}
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]
            values = ", ".join(["(%s, NULL, 'system', %s, %s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
            params: list[Any] = []
            for cid, action, fs, ts, fl, tl, note, data, public, at in chunk:
                if at not in stamps:
                    stamps[at] = adapt(at)
                params += [cid, action, fs, ts, fl, tl, note, data, public, stamps[at]]
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {values}", params)  # noqa: S608 - names from model meta
