"""What every benchmark shares: best-of-N timing, the one-line-per-figure table, JSON results.

Each figure times our code path and, in the same run and on the same data, the bare operation that does
the irreducible work (its "limit"), and prints

    name  limit  ours  ratio  target  PASS|WARN|FAIL

``PASS`` meets the target; ``WARN`` misses it by at most ``WARN_MARGIN`` (timing noise on a shared machine
is of that order, so a WARN asks for a re-run before anyone optimises); ``FAIL`` misses it by more.
Results are saved as JSON under ``bench/results/`` (gitignored) for trends.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = ROOT / "bench" / "results"
WARN_MARGIN = 0.10


def best_of(fn: Callable[[], object], *, repeat: int) -> float:
    """The fastest of ``repeat`` runs, in seconds: the least disturbed by other work on the machine."""
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        gc.disable()  # a collection landing in one run but not the other is noise, not our cost
        try:
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        finally:
            gc.enable()
    return best


def best_of_pair(
    limit: Callable[[], object], ours: Callable[[], object], *, repeat: int
) -> tuple[float, float]:
    """Best-of-N for the limit and our path, run alternately so both see the same machine load."""
    limit_s = ours_s = float("inf")
    for _ in range(repeat):
        limit_s = min(limit_s, best_of(limit, repeat=1))
        ours_s = min(ours_s, best_of(ours, repeat=1))
    return limit_s, ours_s


@dataclass
class Figure:
    """One comparison. ``higher_is_better``: ratio = throughput ratio (limit time / our time), target is a
    floor; otherwise ratio = our time / limit time and the target is a ceiling."""

    name: str
    limit_s: float
    ours_s: float
    target: float
    higher_is_better: bool
    items: int
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        if self.higher_is_better:
            return self.limit_s / self.ours_s if self.ours_s else float("inf")
        return self.ours_s / self.limit_s if self.limit_s else float("inf")

    @property
    def status(self) -> str:
        r, t = self.ratio, self.target
        if (r >= t) if self.higher_is_better else (r <= t):
            return "PASS"
        within = r >= t * (1 - WARN_MARGIN) if self.higher_is_better else r <= t * (1 + WARN_MARGIN)
        return "WARN" if within else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ratio=round(self.ratio, 4), status=self.status)
        return data


def _timing(seconds: float, items: int) -> str:
    rate = items / seconds if seconds else float("inf")
    if rate >= 1e6:
        per = f"{rate / 1e6:.2f} M/s"
    elif rate >= 1e3:
        per = f"{rate / 1e3:.1f} k/s"
    else:
        per = f"{rate:.0f} /s"
    return f"{seconds * 1e3:9.1f} ms ({per})"


def print_figures(figures: list[Figure]) -> None:
    width = max(len(f.name) for f in figures)
    print(f"{'name':<{width}}  {'limit':>24}  {'ours':>24}  {'ratio':>7}  {'target':>7}  status")
    for f in figures:
        target = f"≥{f.target:g}×" if f.higher_is_better else f"≤{f.target:g}×"
        ratio = (
            f"{f.ratio:6.2f}" if f.ratio >= 0.1 else f"{f.ratio:6.3f}"
        )  # far below: the digits that say how far
        print(
            f"{f.name:<{width}}  {_timing(f.limit_s, f.items):>24}  {_timing(f.ours_s, f.items):>24}  "
            f"{ratio}×  {target:>7}  {f.status}"
        )


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load": os.getloadavg(),
        "argv": sys.argv,
    }


def save_results(bench: str, figures: list[Figure], params: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{bench}-{stamp}.json"
    payload = {
        "bench": bench,
        "at": datetime.now(UTC).isoformat(),
        "machine": machine(),
        "params": params,
        "figures": [f.as_dict() for f in figures],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


BENCH_PG_URL = "postgres://postgres@127.0.0.1:5432/linli_bench"
_DB_MARK = "LINLI_BENCH_DB_FOR"


def bench_database(bench: str, *, postgres: bool | None = None) -> str:
    """Point Django at a fresh database of this benchmark's own; call before ``django.setup()``.

    SQLite by default: a new file in a temporary directory. PostgreSQL when ``DATABASE_URL`` is set (or
    ``postgres=True``, then ``BENCH_PG_URL`` if it is not): same server and credentials, but always the
    database ``linli_bench_<bench>``, dropped and created again, so neither the developer's database nor
    the test suite's is ever touched. Either is removed when the bench exits. Server processes the bench
    starts inherit the environment and the marker, and reuse the database instead of creating another.
    Returns a label for the report.
    """
    import atexit
    import shutil
    import tempfile
    from urllib.parse import urlparse, urlunparse

    if os.environ.get(_DB_MARK) == bench:  # a child process (gunicorn worker) of the bench
        url = os.environ.get("DATABASE_URL", "")
        return f"postgresql {urlparse(url).path.lstrip('/')}" if url else "sqlite"
    os.environ.setdefault("LINLI_RATE_LIMITS_ENABLED", "0")  # documented switch for benchmarks
    url = os.environ.get("DATABASE_URL", "")
    if postgres is False or (postgres is None and not url):
        os.environ.pop("DATABASE_URL", None)
        tmp = tempfile.mkdtemp(prefix=f"linli-bench-{bench}-")
        atexit.register(shutil.rmtree, tmp, ignore_errors=True)  # a 1 M-case file is most of a gigabyte
        path = Path(tmp) / "bench.sqlite3"
        os.environ["LINLI_SQLITE_PATH"] = str(path)
        os.environ[_DB_MARK] = bench
        return f"sqlite {path}"
    import psycopg

    parsed = urlparse(url or BENCH_PG_URL)
    name = f"linli_bench_{bench}"
    admin = urlunparse(parsed._replace(path="/postgres", query=""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{name}"))
    atexit.register(_drop_database, admin, name)
    os.environ[_DB_MARK] = bench
    return f"postgresql {name}"


def _drop_database(admin: str, name: str) -> None:
    import psycopg

    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except psycopg.Error as exc:  # the figures are saved already; say so and leave it
        print(f"could not drop the bench database {name}: {exc}", file=sys.stderr)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
