"""In-process cost of one case submission: queries and CPU per ``POST /api/cases/`` (load-independent).

    .venv/bin/python bench/case_submit_profile.py [--requests 300] [--profile 25]

The same data and bodies as ``bench/case_submit.py``, posted through Django's test client (full middleware
stack, bearer token, ``Idempotency-Key``) in this process: prints the queries of one warm submission, the
mean queries and writes per submission, CPU ms per submission, the same for the bench's plain insert view
and the ratio of the two (what a CPU-bound server's req/s ratio would be), and with ``--profile N`` the top N
functions of a cProfile run (cumulative). The HTTP bench's figures swing with the machine's load; these do not.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import bench_database  # noqa: E402

DB_LABEL = bench_database("case_submit_profile")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
os.environ.setdefault("LINLI_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()


def main() -> None:
    import cProfile
    import pstats

    import numpy as np
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from bench import case_submit as cs

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions of a cProfile run")
    args = parser.parse_args()

    settings.ALLOWED_HOSTS = ["*"]
    tokens, categories = cs._setup(4)
    rng = np.random.default_rng(cs.SEED)
    client = Client()

    def post(body: bytes, key: str, token: str) -> None:
        response = client.post(
            "/api/cases/",
            data=body,
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_IDEMPOTENCY_KEY=key,
        )
        if response.status_code != 201:
            raise SystemExit(f"{response.status_code} {response.content[:300]!r}")

    for body, key in cs._bodies(50, categories, 0, rng=rng):  # warm-up: locator, caches, first token use
        post(body, key, tokens[0])
    bodies = cs._bodies(args.requests, categories, 1, rng=rng)
    with CaptureQueriesContext(connection) as one:
        post(*bodies[0], tokens[0])
    print(f"{DB_LABEL}: one warm submission, {len(one.captured_queries)} queries:")
    for q in one.captured_queries:
        print("   ", q["sql"][:160])
    rest = bodies[1:]
    with CaptureQueriesContext(connection) as many:
        start = time.process_time()
        for i, (body, key) in enumerate(rest):
            post(body, key, tokens[i % len(tokens)])
        cpu = time.process_time() - start
    sqls = [q["sql"].lstrip().upper() for q in many.captured_queries]
    writes = sum(1 for s in sqls if s.startswith(("INSERT", "UPDATE", "DELETE")))
    print(
        f"{len(rest)} submissions: {len(sqls) / len(rest):.1f} queries ({writes / len(rest):.1f} writes) "
        f"and {cpu / len(rest) * 1e3:.2f} ms CPU each (this process; database server time not included)"
    )
    # The limit's side through the same client and middleware: the bench's plain one-row insert view.
    cs._urlconf()
    plain = Client()
    for body, _key in bodies[:50]:
        plain.post("/bench/insert", data=body, content_type="application/x-www-form-urlencoded")
    start = time.process_time()
    for body, _key in rest:
        response = plain.post("/bench/insert", data=body, content_type="application/x-www-form-urlencoded")
        if response.status_code != 201:
            raise SystemExit(f"limit: {response.status_code}")
    limit_cpu = time.process_time() - start
    print(
        f"limit (plain insert view): {limit_cpu / len(rest) * 1e3:.2f} ms CPU each; "
        f"CPU ratio limit/ours {limit_cpu / cpu:.2f}x (the req/s ratio a CPU-bound server would reach)"
    )
    settings.ROOT_URLCONF = "linli.urls"
    if args.profile:
        more = cs._bodies(args.requests, categories, 2, rng=rng)
        profiler = cProfile.Profile(time.process_time)  # CPU time: the figures do not move with load
        profiler.enable()
        for i, (body, key) in enumerate(more):
            post(body, key, tokens[i % len(tokens)])
        profiler.disable()
        order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
        pstats.Stats(profiler).sort_stats(order).print_stats(args.profile)


if __name__ == "__main__":
    main()
