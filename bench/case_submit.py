"""Case submission over HTTP: ``POST /api/cases/`` against a plain one-row insert view on the same stack.

    .venv/bin/python bench/case_submit.py [--requests 2000] [--connections 16] [--repeat 3]
                                          [--workers 2] [--threads 4] [--port 18766]

Both endpoints are served by one gunicorn on 127.0.0.1 started by the bench, configured as
``python -m linli.serve`` serves the platform with ``REDIS_URL`` set (``gthread``, 2 workers × 4 threads;
``make run``, without Redis, serves one process of 4 threads), through the full middleware stack and on
the same database; ``--connections`` client threads each keep one HTTP/1.1 keep-alive connection and send
their share of the requests back to back (a closed loop: 16 requests in flight at any time).

- **ours**: ``POST /api/cases/`` (form fields, a bearer token, an ``Idempotency-Key``) as the resident app
  sends it: token check, locate (grid → estate → community), ladder entry rung, routing, SLA deadlines, the
  number, the case, its ``submit`` event and the task row that tells the reporter and the dispatchers (the
  messages themselves are the worker's, which this bench does not run; the app asks for "me too" cases
  before submitting, ``GET /api/cases/nearby``). Every answer must be 201.
- **limit**: ``POST /bench/insert`` with the same body: a plain Django view (CSRF-exempt, no
  authentication) that inserts one row (the text) into a bare table and answers 201 with a small JSON.
  It is appended to the project's URLconf in the bench's own server process only (``application`` below).
- **floor** (printed, not a figure): ``POST /bench/floor``, a plain view that sends the database exactly
  the statements one of our submissions sends — the token read, then in one transaction the number, the
  case, its event and its task row (on PostgreSQL all four in one statement, in autocommit; on SQLite in
  the process's group commit, as ours: ``linli.core.groupcommit``) — with the
  parameters our code computed for a real submission (captured once per worker process, rolled back) and
  only the unique values, the text and the case id renewed. It does none of our work in Python: no form, validation, locating,
  routing, deadlines or answer schema. ``floor / limit`` is the most that any code writing these rows
  through this stack can reach; ``ours / floor`` is what our Python costs on top.

Data: the test factories' small district (8 grids, estates, one staff user per role, the catch-all SLA
policy) and ``--connections`` residents with an API token each; points are uniform over the district,
categories drawn from four leaves, fixed seed. Database: a throw-away SQLite file, or the PostgreSQL
database ``linli_bench_case_submit`` when ``DATABASE_URL`` is set (``bench/common.py: bench_database``).

Figures (QUALITY "case submission": ≥ 0.6× the plain insert's req/s, p95 ≤ 50 ms, 0 errors):
- ``submit.rps``   requests per second, best of ``--repeat`` (the two sides run alternately);
- ``submit.p95``   the 95th-percentile latency of our best run against the 50 ms budget (ratio ≤ 1×).
Any non-201 answer on either side is an error: the script reports it and exits 1.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import threading
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_database  # noqa: E402

DB_LABEL = bench_database("case_submit")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

from bench.common import Figure, percentile, print_figures, save_results  # noqa: E402
from linli.core.groupcommit import group_commit  # noqa: E402

SEED = 20260603
PLAIN_TABLE = "bench_plain_row"
BUDGET_P95_S = 0.050
TEXTS = [
    "小区门口垃圾堆了三天没人清运",
    "路灯不亮,晚上走路很黑",
    "井盖缺失,有人差点掉下去",
    "楼下烧烤油烟太大,晚上很吵",
    "单元门禁坏了一个星期",
]


@csrf_exempt
def plain_insert(request: HttpRequest) -> JsonResponse:
    """The limit: one row inserted from the posted text, nothing else."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {PLAIN_TABLE} (text, created_at) VALUES (%s, %s)",  # noqa: S608 - constant name
            [request.POST.get("text", ""), connection.ops.adapt_datetimefield_value(timezone.now())],
        )
    return JsonResponse({"ok": True}, status=201)


class _FloorStatements:
    """One submission's statements as our code sends them, captured once per process (see the docstring)."""

    def __init__(self, raw_token: str) -> None:
        from linli.accounts.services import api_token_user
        from linli.cases.models import Case, Category
        from linli.cases.services import case_submit
        from linli.places.tests.factories import LAT0, LNG0, STEP

        self.case_table = Case._meta.db_table
        auth: list[tuple[str, list[Any]]] = []
        writes: list[tuple[str, list[Any]]] = []
        sink = auth

        def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            # The token read; then the writes (a process's first submission also loads the locator and
            # the case rules: those reads are not the path's, the warm path never repeats them).
            kinds = ("SELECT",) if sink is auth else ("INSERT", "UPDATE", "WITH")
            if sql.lstrip()[:9].upper().startswith(kinds):
                sink.append((sql, list(params or ())))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(capture):
            user = api_token_user(raw=raw_token)
            sink = writes
            with transaction.atomic():
                result = case_submit(
                    text=TEXTS[0],
                    channel="resident",
                    reporter=user,
                    category_id=Category.objects.get(code="city.litter").pk,
                    lat=LAT0 + STEP / 2,
                    lng=LNG0 + STEP / 2,
                    idempotency_key="floor-capture",
                )
                transaction.set_rollback(True)  # captured, not kept
        self.auth = auth[0]
        self.old_case_id = result.case.pk
        self.writes = [(sql, params, _insert_columns(sql)) for sql, params in writes]

    def replay(self, raw_token: str, text: str) -> int | None:
        """The captured statements with this request's token and text and fresh unique values."""
        import hashlib

        with connection.cursor() as cursor:
            cursor.execute(
                self.auth[0],
                [
                    hashlib.sha256(raw_token.encode()).hexdigest(),
                    connection.ops.adapt_datetimefield_value(timezone.now()),
                ],
            )
            if cursor.fetchone() is None:
                return None
        unique = f"floor-{os.getpid()}-{next(_FLOOR_SERIAL)}"

        def write() -> int:
            case_id = self.old_case_id
            with connection.cursor() as cursor:
                for sql, captured, columns in self.writes:
                    params = list(captured)
                    if sql.startswith("WITH"):  # PostgreSQL: the four rows in one statement, by value
                        params = [
                            f"{unique}-i"
                            if p == "floor-capture"
                            else text
                            if p == TEXTS[0]
                            else uuid.uuid4()
                            if isinstance(p, uuid.UUID)
                            else p
                            for p in params
                        ]
                    for i, column in enumerate(columns):
                        if column in ("number", "idempotency_key"):
                            params[i] = f"{unique}-{column[0]}"
                        elif column == "text":
                            params[i] = text
                        elif column == "case_id":
                            params[i] = case_id
                        elif column == "id" and isinstance(params[i], uuid.UUID | str):
                            params[i] = uuid.uuid4() if isinstance(params[i], uuid.UUID) else uuid.uuid4().hex
                    if not columns:  # the PostgreSQL number statement names the case by id
                        params = [case_id if p == self.old_case_id and type(p) is int else p for p in params]
                    cursor.execute(sql, params)
                    returned = cursor.fetchone() if " RETURNING " in sql else None
                    if sql.startswith(f'INSERT INTO "{self.case_table}"') or sql.startswith("WITH"):
                        case_id = returned[0] if returned is not None else cursor.lastrowid
            return case_id

        # One statement (PostgreSQL) is sent in autocommit, as our code sends it; several in a transaction
        # shared with the process's concurrent submissions where ours share one (linli.core.groupcommit).
        if len(self.writes) == 1:
            return write()
        return group_commit().run(write)


def _insert_columns(sql: str) -> list[str]:
    if not sql.startswith("INSERT INTO"):
        return []
    head = sql[sql.index("(") + 1 : sql.index(")")]
    return [c.strip().strip('"') for c in head.split(",")]


_floor: _FloorStatements | None = None
_FLOOR_SERIAL = itertools.count()
_FLOOR_LOCK = threading.Lock()


@csrf_exempt
def floor_insert(request: HttpRequest) -> JsonResponse:
    """The floor: our submission's own statements, nothing else (see the module docstring)."""
    global _floor
    raw = request.headers.get("Authorization", "").removeprefix("Bearer ")
    with _FLOOR_LOCK:
        if _floor is None:
            _floor = _FloorStatements(raw)
    case_id = _floor.replay(raw, request.POST.get("text", ""))
    if case_id is None:
        return JsonResponse({"code": "unauthorized"}, status=401)
    return JsonResponse({"id": case_id}, status=201)


# The bench's URLconf: the project's plus the plain views, so all pass the same middleware and resolver.
urlpatterns: list[Any] = []


def _urlconf() -> None:
    import linli.urls

    urlpatterns[:] = [
        *linli.urls.urlpatterns,
        path("bench/insert", plain_insert),
        path("bench/floor", floor_insert),
    ]
    settings.ROOT_URLCONF = __name__


_app: WSGIHandler | None = None


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """The WSGI app the bench's gunicorn serves: the project plus ``/bench/insert``."""
    global _app
    if _app is None:
        _urlconf()
        _app = WSGIHandler()
    return _app(environ, start_response)


def _setup(connections: int) -> tuple[list[str], list[int]]:
    """Migrate, the small district with its staff, one resident + token per connection, the bare table.

    Returns the raw tokens and the category ids the requests use.
    """
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # Factory users get a password; the real hasher would cost seconds here and matters to no request.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    from linli.accounts.services import api_token_create
    from linli.accounts.tests.factories import ResidentFactory
    from linli.cases.tests.factories import build_world, category

    build_world()
    tokens = [api_token_create(user=ResidentFactory(), name=f"bench{i}")[1] for i in range(connections)]
    categories = [
        category(code).pk for code in ("city.litter", "road.manhole", "road.streetlight", "general.other")
    ]
    pk = "BIGSERIAL PRIMARY KEY" if connection.vendor == "postgresql" else "INTEGER PRIMARY KEY AUTOINCREMENT"
    stamp = "TIMESTAMPTZ" if connection.vendor == "postgresql" else "DATETIME"
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {PLAIN_TABLE} (id {pk}, text TEXT NOT NULL, created_at {stamp} NOT NULL)"
        )
    connection.close()  # the server's workers open their own
    return tokens, categories


def _bodies(n: int, categories: list[int], run: int, *, rng: Any) -> list[tuple[bytes, str]]:
    """``n`` form bodies with their idempotency keys: points uniform over the small district."""
    from urllib.parse import urlencode

    from linli.places.tests.factories import LAT0, LNG0, STEP

    out = []
    for i in range(n):
        lat = LAT0 + 0.0005 + float(rng.random()) * (STEP - 0.001)
        lng = LNG0 + 0.0005 + float(rng.random()) * (8 * STEP - 0.001)
        body = urlencode(
            {
                "text": TEXTS[int(rng.integers(len(TEXTS)))],
                "category_id": categories[int(rng.integers(len(categories)))],
                "lat": f"{lat:.6f}",
                "lng": f"{lng:.6f}",
            }
        ).encode()
        out.append((body, f"bench-{run:03d}-{i:07d}"))
    return out


class Run:
    """One closed-loop run: every body posted once over ``connections`` keep-alive connections."""

    def __init__(self, port: int, target: str, bodies: list[tuple[bytes, str]], tokens: list[str]) -> None:
        self.port, self.target, self.bodies, self.tokens = port, target, bodies, tokens
        self.latencies: list[float] = []
        self.errors: list[str] = []

    def __call__(self) -> None:
        import http.client
        import time
        from concurrent.futures import ThreadPoolExecutor

        n = len(self.tokens)
        chunks = [self.bodies[i::n] for i in range(n)]

        def worker(k: int) -> tuple[list[float], list[str]]:
            lat: list[float] = []
            bad: list[str] = []
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            base = {
                "Host": "127.0.0.1",
                "Content-Type": "application/x-www-form-urlencoded",
                "Authorization": f"Bearer {self.tokens[k]}",
            }
            try:
                for body, key in chunks[k]:
                    start = time.perf_counter()
                    try:
                        conn.request("POST", self.target, body=body, headers={**base, "Idempotency-Key": key})
                        response = conn.getresponse()
                        payload = response.read()
                    except (OSError, http.client.HTTPException) as exc:
                        bad.append(f"{type(exc).__name__}: {exc}")
                        conn.close()
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                        continue
                    lat.append(time.perf_counter() - start)
                    if response.status != 201:
                        bad.append(f"{response.status} {payload[:200]!r}")
            finally:
                conn.close()
            return lat, bad

        with ThreadPoolExecutor(n) as pool:
            results = list(pool.map(worker, range(n)))
        self.latencies = [x for lat, _ in results for x in lat]
        self.errors = [e for _, bad in results for e in bad]


def _start_gunicorn(port: int, workers: int, threads: int) -> Any:
    import http.client
    import subprocess
    import time

    proc = subprocess.Popen(  # noqa: S603 - fixed arguments, loopback only
        [
            sys.executable, "-m", "gunicorn", "bench.case_submit:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread", "--log-level", "warning",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    for _ in range(150):  # up to 30 s for the workers to boot
        time.sleep(0.2)
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited during start")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/api/cases/categories", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            continue
    proc.terminate()
    raise SystemExit("gunicorn did not start")


def main() -> None:
    import numpy as np

    from bench.common import best_of

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=2000, help="requests per timed run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (linli.serve with Redis: 2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (linli.serve: 4)")
    parser.add_argument("--port", type=int, default=18766)
    args = parser.parse_args()

    tokens, categories = _setup(args.connections)
    rng = np.random.default_rng(SEED)
    server = _start_gunicorn(args.port, args.workers, args.threads)
    errors: list[str] = []
    try:
        # Warm-up: every worker thread opens its database connection, builds the locator, loads caches.
        for target in ("/bench/insert", "/bench/floor", "/api/cases/"):
            warm = Run(args.port, target, _bodies(200, categories, 0, rng=rng), tokens)
            warm()
            errors += warm.errors
        limit_s = ours_s = floor_s = float("inf")
        ours_best: Run | None = None
        limit_best: Run | None = None
        floor_best: Run | None = None
        for run in range(1, args.repeat + 1):
            bodies = _bodies(args.requests, categories, run, rng=rng)
            limit = Run(args.port, "/bench/insert", bodies, tokens)
            floor = Run(args.port, "/bench/floor", bodies, tokens)
            ours = Run(args.port, "/api/cases/", bodies, tokens)
            t = best_of(limit, repeat=1)
            errors += limit.errors
            if t < limit_s:
                limit_s, limit_best = t, limit
            t = best_of(floor, repeat=1)
            errors += floor.errors
            if t < floor_s:
                floor_s, floor_best = t, floor
            t = best_of(ours, repeat=1)
            errors += ours.errors
            if t < ours_s:
                ours_s, ours_best = t, ours
    finally:  # the server never outlives the bench
        server.terminate()
        server.wait(timeout=30)
    assert ours_best is not None and limit_best is not None and floor_best is not None

    from linli.cases.models import Case, CaseEvent

    cases, events = Case.objects.count(), CaseEvent.objects.count()
    p = {q: percentile(ours_best.latencies, q / 100) * 1e3 for q in (50, 95, 99)}
    lp = {q: percentile(limit_best.latencies, q / 100) * 1e3 for q in (50, 95, 99)}
    fp = {q: percentile(floor_best.latencies, q / 100) * 1e3 for q in (50, 95, 99)}
    figures = [
        Figure(
            "submit.rps",
            limit_s,
            ours_s,
            target=0.6,
            higher_is_better=True,
            items=args.requests,
            note="req/s vs a plain one-row insert view",
            extra={"ours_ms": p, "limit_ms": lp, "floor_ms": fp, "floor_rps": args.requests / floor_s},
        ),
        Figure(
            "submit.p95",
            BUDGET_P95_S,
            p[95] / 1e3,
            target=1.0,
            higher_is_better=False,
            items=1,
            note="p95 latency of our best run vs the 50 ms budget",
        ),
    ]
    print(
        f"{DB_LABEL}; gunicorn gthread {args.workers}×{args.threads}, {args.connections} keep-alive "
        f"connections, {args.requests} requests per run, best of {args.repeat}; "
        f"load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"latency ms  ours p50/p95/p99 {p[50]:.1f}/{p[95]:.1f}/{p[99]:.1f}   "
        f"limit {lp[50]:.1f}/{lp[95]:.1f}/{lp[99]:.1f}   "
        f"rows: {cases} cases, {events} events"
    )
    print(
        f"floor (our statements from a plain view): {args.requests / floor_s:.0f} req/s = "
        f"{limit_s / floor_s:.2f}× the limit, p50/p95/p99 {fp[50]:.1f}/{fp[95]:.1f}/{fp[99]:.1f} ms; "
        f"ours = {floor_s / ours_s:.2f}× the floor"
    )
    print_figures(figures)
    saved = save_results("case_submit", figures, {**vars(args), "database": DB_LABEL, "errors": len(errors)})
    print(f"saved {saved.relative_to(ROOT)}")
    if errors:
        print(f"{len(errors)} requests failed, e.g. {errors[0]}")
    if errors or any(f.status == "FAIL" for f in figures):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
