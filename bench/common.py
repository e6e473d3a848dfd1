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
        print(
            f"{f.name:<{width}}  {_timing(f.limit_s, f.items):>24}  {_timing(f.ours_s, f.items):>24}  "
            f"{f.ratio:6.2f}×  {target:>7}  {f.status}"
        )


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
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
