"""The SLA sweep over a large case table against one raw ``UPDATE`` over the partial index.

    .venv/bin/python bench/sla_sweep.py [--cases 1000000] [--open-share 0.1] [--overdue 10000]
                                        [--repeat 3] [--batch-size 5000]

QUALITY's shape is 10 M cases, 1 % open (100 k), 10 k overdue. The defaults keep its open and overdue
counts on a tenth of the closed history (1 M cases, 10 % open: 100 k open, 10 k overdue), since the sweep's
partial indexes see only the open cases; ``--cases 10000000 --open-share 0.01`` is the spec itself.

Data (fixed seed, written in bulk: ``executemany`` on SQLite, ``COPY`` on PostgreSQL, with the secondary
indexes dropped during the load and created again after it; ``ANALYZE`` on PostgreSQL only): the test factories' small
district with one staff user per role (so the sweep has dispatchers and handlers to notify) and
``--cases`` cases over the past year. ``--open-share`` of them are open (in a working status at the estate,
community, street or district rung), of which ``--overdue`` (capped at the open count) passed their
resolution deadline a minute ago below the top rung (all at 17:30, where every "N working days" deadline
ends: the wave a sweep meets at 17:31), so each escalates exactly once; the rest of the open ones are due
on the next working days and already warned if their warning time passed; 0.3 % are resolved
and waiting for a rating (none for longer than the rating period); the others are closed. So the sweep's
only work is the escalations: the warning and auto-close passes find nothing. The event table starts empty.

- **ours**: ``cases_sweep_sla(now=NOW)`` (``linli/cases/services/sweep.py``): the due rows of every rung
  in batches, new deadlines from the working-day calendar and the SLA policy, the compare-and-set UPDATE,
  one event per case, the summary notifications and reporter messages; then one probe finding the clock,
  warning and auto-close passes empty.
- **limit**: one ``UPDATE`` over ``case_open_level_due`` doing the same state change to the same rows
  (next rung, status 待梳理, assignee cleared, escalation count + 1, new deadlines as fixed offsets from the
  old one), no events, no notifications.

Between runs both are undone (the open rows restored from a copy taken after the load, events and
notifications deleted; PostgreSQL also gets ``VACUUM ANALYZE``), untimed. Each run is checked: exactly
``--overdue`` rows escalated, nothing warned or closed.

Figures (QUALITY "SLA sweep": ≤ 2× the raw UPDATE; 10 k escalations < 2 s):
- ``sweep.vs_update``  our time / the UPDATE's time;
- ``sweep.budget``     our time against 2 s per 10 k escalations (ratio ≤ 1×).
Database: a throw-away SQLite file, or PostgreSQL ``linli_bench_sla_sweep`` when ``DATABASE_URL`` is set.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_database  # noqa: E402

DB_LABEL = bench_database("sla_sweep")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.common import Figure, best_of, print_figures, save_results  # noqa: E402

SEED = 20260604
# The sweep's instant: Wednesday 10 June 2026, 17:31 in Shanghai (a working day, no holiday near), a
# minute after the day's resolution deadlines passed.
NOW = datetime(2026, 6, 10, 9, 31, tzinfo=UTC)
TABLE = "cases_case"
ORIG = "bench_sweep_orig"
CLOCK_MARKERS = ("triage_warned_at", "triage_overdue_at")
WIPED = (
    "cases_caseevent",
    "notifications_notification",
    "notifications_outboxmessage",
    "django_tasks_database_dbtaskresult",
)


def _stamps(seconds: np.ndarray) -> list[str]:
    """UTC datetimes (seconds since NOW) as the text both backends store and compare."""
    base = np.datetime64(NOW.replace(tzinfo=None), "us")
    values = base + (seconds * 1e6).astype("timedelta64[us]")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ")
    if connection.vendor == "postgresql":
        text = np.char.add(text, "+00")
    return text.tolist()


def _rows(n: int, open_share: float, overdue: int) -> tuple[list[str], list[tuple[Any, ...]], int]:
    """The case rows (columns, tuples) and the number of overdue ones."""
    from linli.cases.models import Status
    from linli.cases.tests.factories import build_world, category
    from linli.integrations.bulk import PlaceIndex

    world = build_world()
    index = PlaceIndex()
    places_estate = [
        index.place(grid_id=g.id, estate_id=e.id) for g, e in zip(world.d.grids, world.d.estates, strict=True)
    ]
    places_plain = [index.place(grid_id=g.id, estate_id=None) for g in world.d.grids]
    categories = [
        category(c).pk for c in ("city.litter", "road.manhole", "road.streetlight", "general.other")
    ]
    units = [world.unit0.pk, world.unit1.pk]
    handlers = {world.unit0.pk: world.handler0.pk, world.unit1.pk: world.handler1.pk}

    rng = np.random.default_rng(SEED)
    day = 86400.0
    n_open = max(1, round(n * open_share))
    overdue = min(overdue, n_open)
    n_waiting = round(n * 0.003)
    # 0 closed, 1 resolved waiting for a rating, 2 open and overdue, 3 open and not due yet
    state = np.zeros(n, dtype=np.int8)
    chosen = rng.permutation(n)[: n_open + n_waiting]
    state[chosen[:overdue]] = 2
    state[chosen[overdue:n_open]] = 3
    state[chosen[n_open:]] = 1
    grid = rng.integers(0, len(places_estate), n)
    in_estate = rng.random(n) < 0.7
    created = np.where(state >= 2, -rng.uniform(1, 9, n) * day, -rng.uniform(7, 365, n) * day)
    resolve_due = created + 7 * day
    # The wave a sweep meets at 17:31: every case due today at 17:30. The next rung's deadlines, and its
    # triage clock, all lie in the future, so each escalates once and nothing else falls due. The open
    # ones not due yet end at 17:30 of the next working days (Thu 11, Fri 12, Mon 15, Tue 16 June).
    resolve_due = np.where(state == 2, -60.0, resolve_due)
    ahead = np.array([1, 2, 5, 6], dtype=float)[rng.integers(0, 4, n)] * day - 60
    resolve_due = np.where(state == 3, ahead, resolve_due)
    warn = resolve_due - day
    resolved = np.where(state == 1, -rng.uniform(0.1, 6.5, n) * day, created + rng.uniform(0.1, 6, n) * day)
    kinds = rng.integers(0, len(categories), n)
    work = [Status.SUBMITTED, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS]
    open_status = rng.integers(0, len(work), n)
    rung = rng.integers(0, 3, n)  # estate (if any) / community / street; not-due ones may sit at district
    lat = rng.uniform(31.4005, 31.4095, n)
    lng_off = rng.uniform(0.0005, 0.0095, n)

    t_created, t_due, t_warn = _stamps(created), _stamps(resolve_due), _stamps(warn)
    t_triage, t_resolved = _stamps(created + 4 * 3600), _stamps(resolved)
    t_closed = _stamps(np.minimum(resolved + 7 * day, -60.0))
    t_warned = _stamps(warn + 300)
    t_marked = _stamps(created + 4 * 3600 + 300)

    columns = [
        "number", "kind", "channel", "title", "text", "contact_name", "contact_phone",
        "contact_phone_masked", "lat", "lng", "address", "region_path", "status", "status_category",
        "level", "resolved_level", "escalation_count", "level_started_at", "triage_due_at",
        "resolve_due_at", "warn_at", "warned_at", "resolved_at", "closed_at", "result_text",
        "supervision_count", "urgency", "reopen_count", "rating", "rating_comment", "follower_count",
        "rejected_to_text", "is_public", "idempotency_scope", "idempotency_key", "external_id",
        "created_at", "updated_at", "assignee_id", "community_id", "district_id", "estate_id", "grid_id",
        "street_id", "unit_id", "category_id",
    ]  # fmt: skip
    # The short clocks (when the model has them): every open case's triage deadline passed days ago and
    # was warned and marked overdue then; accept deadlines are not set. The sweep has nothing to do there.
    clocks = CLOCK_MARKERS if _has("triage_overdue_at") else ()
    columns += clocks
    rows: list[tuple[Any, ...]] = []
    states, grids, estates_in = state.tolist(), grid.tolist(), in_estate.tolist()
    for i in range(n):
        s = states[i]
        place = places_estate[grids[i]] if estates_in[i] else places_plain[grids[i]]
        levels = ["estate" if place.estate_id else "community", "community", "street"]
        level = "district" if s == 3 and rung[i] == 2 and i % 4 == 0 else levels[int(rung[i])]
        if s >= 2:
            status, category_code = work[int(open_status[i])], "open"
        elif s == 1:
            status, category_code = Status.RESOLVED, "done"
        else:
            status, category_code = Status.CLOSED, "done"
        unit = units[grids[i] % 2] if status in (Status.ASSIGNED, Status.IN_PROGRESS) or s < 2 else None
        assignee = handlers[unit] if unit and status == Status.IN_PROGRESS else None
        # Warned already when its warning time passed (the sweep's warning pass has nothing to do).
        warned = t_warned[i] if (s != 3 or warn[i] <= 0) else None
        rows.append(
            (
                f"BENCH-{i:09d}", "complaint", "resident", "小区门口垃圾堆了三天没人清运", "小区门口垃圾堆了三天没人清运",
                "", "", "", float(lat[i]), float(lng_off[i]) + 104.60 + 0.01 * grids[i], "",
                place.region_path, str(status), category_code, level, level if s < 2 else "", 0,
                t_created[i], t_triage[i], t_due[i], t_warn[i], warned,
                t_resolved[i] if s < 2 else None, t_closed[i] if s == 0 else None,
                "已处理" if s < 2 else "", 0, "normal", 0, "", "", 0, "", True, "", "", "",
                t_created[i], t_created[i], assignee, place.community_id, place.district_id,
                place.estate_id, place.grid_id, place.street_id, unit, categories[int(kinds[i])],
                *[t_marked[i] if s >= 2 else None for _ in clocks],
            )
        )  # fmt: skip
    return columns, rows, overdue


def _has(field: str) -> bool:
    from linli.cases.models import Case

    return any(f.name == field for f in Case._meta.concrete_fields)


def _restored() -> list[str]:
    """Every column but the key: the copy of the open rows puts back whatever the sweep changed."""
    from linli.cases.models import Case

    return [f.column for f in Case._meta.concrete_fields if not f.primary_key]


def _secondary_indexes() -> list[tuple[str, str]]:
    """(name, CREATE statement) of the case table's indexes that are not constraints."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [TABLE],
            )
        else:
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [TABLE],
            )
        return list(cursor.fetchall())


def _load(columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    indexes = _secondary_indexes()
    cols = ", ".join(columns)
    with transaction.atomic(), connection.cursor() as cursor:
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        if connection.vendor == "postgresql":
            # Foreign keys are consistent by construction: skip their per-row triggers during the load.
            cursor.execute("SET LOCAL session_replication_role = replica")
            with cursor.cursor.copy(f"COPY {TABLE} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {TABLE} ({cols}) VALUES ({marks})"  # noqa: S608 - constant names
            for start in range(0, len(rows), 50_000):
                cursor.executemany(sql, rows[start : start + 50_000])
        for _name, sql in indexes:
            cursor.execute(sql)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Autovacuum would have analysed a table this size; nothing runs ANALYZE on SQLite in
            # production, and its statistics change the plans there (see bench/README.md).
            cursor.execute(f"ANALYZE {TABLE}")
        cursor.execute(
            f"CREATE TABLE {ORIG} AS SELECT * FROM {TABLE} "  # noqa: S608
            "WHERE status_category = 'open'"
        )


def _reset() -> None:
    sets = ", ".join(f"{c} = o.{c}" for c in _restored())
    with connection.cursor() as cursor:
        with transaction.atomic():
            cursor.execute(f"UPDATE {TABLE} SET {sets} FROM {ORIG} o WHERE {TABLE}.id = o.id")  # noqa: S608
            for table in WIPED:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
        if connection.vendor == "postgresql":
            cursor.execute(f"VACUUM ANALYZE {TABLE}")
            cursor.execute("VACUUM ANALYZE cases_caseevent")


def _limit_sql() -> tuple[str, list[Any]]:
    """One UPDATE: every overdue open case below the top rung to the next rung, new deadlines as offsets."""
    from linli.cases.ladder import ladder_load
    from linli.cases.models import STATUS_INFO
    from linli.cases.transitions import TRANSITIONS

    ladder = ladder_load()
    steps = [(code, ladder.next(code)) for code in ladder.codes_bottom_up()]
    steps = [(a, b) for a, b in steps if b is not None]
    transition = TRANSITIONS["escalate_timed"]
    target = transition.target
    assert target is not None
    sources = sorted(transition.sources)
    case = "CASE level " + " ".join(f"WHEN '{a}' THEN '{b}'" for a, b in steps) + " END"
    offsets = (("t", 4), ("tw", 3), ("r", 7 * 24), ("w", 5 * 24))  # hours after the passed deadline
    if connection.vendor == "postgresql":
        plus = {k: f"resolve_due_at + interval '{h} hours'" for k, h in offsets}
    else:
        plus = {k: f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', resolve_due_at, '+{h} hours')" for k, h in offsets}
    # The triage clock (when the model has it) starts again at the new rung, as the sweep does.
    clock = (
        f"triage_warn_at = {plus['tw']}, triage_warned_at = NULL, triage_overdue_at = NULL, "
        if _has("triage_warn_at")
        else ""
    )
    sql = (
        f"UPDATE {TABLE} SET level = {case}, status = %s, status_category = %s, assignee_id = NULL, "  # noqa: S608
        "accept_due_at = NULL, accepted_at = NULL, escalation_count = escalation_count + 1, "
        f"level_started_at = resolve_due_at, triage_due_at = {plus['t']}, resolve_due_at = {plus['r']}, "
        f"warn_at = {plus['w']}, warned_at = NULL, {clock}updated_at = %s "
        f"WHERE status_category = 'open' AND level IN ({', '.join(['%s'] * len(steps))}) "
        f"AND resolve_due_at <= %s AND status IN ({', '.join(['%s'] * len(sources))})"
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [target, STATUS_INFO[target].category, adapt(NOW), *[a for a, _ in steps], adapt(NOW), *sources]
    return sql, params


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--open-share", type=float, default=0.1)
    parser.add_argument("--overdue", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=5000, help="cases_sweep_sla's batch_size")
    args = parser.parse_args()

    from django.core.management import call_command

    from linli.cases.models import Case, CaseEvent
    from linli.cases.services import cases_sweep_sla

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # factory users only
    columns, rows, overdue = _rows(args.cases, args.open_share, args.overdue)
    _load(columns, rows)
    del rows
    setup_s = time.perf_counter() - started
    n_open = Case.objects.filter(status_category="open").count()
    sql, params = _limit_sql()

    def limit() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            if cursor.rowcount != overdue:
                raise SystemExit(f"the UPDATE changed {cursor.rowcount} rows, expected {overdue}")

    def ours() -> None:
        report = cases_sweep_sla(now=NOW, batch_size=args.batch_size)
        done = report.as_dict()
        if done.pop("escalated") != overdue or any(done.values()):
            raise SystemExit(f"the sweep did {report.as_dict()}, expected {overdue} escalations only")

    limit_s = ours_s = float("inf")
    for run in range(args.repeat + 1):  # run 0 warms caches (calendar, policy book, pages) untimed
        _reset()
        t = best_of(limit, repeat=1)
        limit_s = min(limit_s, t) if run else limit_s
        _reset()
        t = best_of(ours, repeat=1)
        ours_s = min(ours_s, t) if run else ours_s
    events = CaseEvent.objects.count()
    _reset()

    figures = [
        Figure(
            "sweep.vs_update",
            limit_s,
            ours_s,
            target=2.0,
            higher_is_better=False,
            items=overdue,
            note="cases_sweep_sla vs one raw UPDATE over the partial index",
        ),
        Figure(
            "sweep.budget",
            2.0 * overdue / 10_000,
            ours_s,
            target=1.0,
            higher_is_better=False,
            items=overdue,
            note="our time vs 2 s per 10 k escalations",
        ),
    ]
    print(
        f"{DB_LABEL}; {args.cases:,} cases, {n_open:,} open, {overdue:,} overdue; setup {setup_s:.0f} s; "
        f"best of {args.repeat}; {events:,} events per sweep; load {os.getloadavg()[0]:.1f}"
    )
    print_figures(figures)
    saved = save_results("sla_sweep", figures, {**vars(args), "database": DB_LABEL, "setup_s": setup_s})
    print(f"saved {saved.relative_to(ROOT)}")
    if any(f.status == "FAIL" for f in figures):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
