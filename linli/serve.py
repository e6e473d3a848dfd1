"""``make run``'s server: gunicorn for the web, plus the task worker and the scheduler when installed.

One command, one Ctrl-C: the children are started together and stopped together. Production runs the
same three processes under a supervisor instead (docs/operations.md). Without ``REDIS_URL`` the web
server is one process with threads, so the per-process cache counts every rate limit exactly.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")


def _management_commands() -> set[str]:
    import django
    from django.core.management import get_commands

    django.setup()
    return set(get_commands())


def web_workers(requested: str | None, *, redis_url: str) -> tuple[int, str]:
    """How many gunicorn worker processes to start, and a note when the request was overruled.

    Without ``REDIS_URL`` the cache holding the rate-limit counters is each process's own memory: N
    workers would each count a limit separately and let N times its count through (CFG-2). The embedded
    mode therefore serves from one process; its threads still serve requests concurrently."""
    default = 2 if redis_url else 1
    try:
        workers = int(requested) if requested else default
    except ValueError:
        return default, f"linli: LINLI_WEB_WORKERS={requested!r} is not a number; using {default}"
    if workers < 1:
        return default, f"linli: LINLI_WEB_WORKERS={workers} is below 1; using {default}"
    if workers > 1 and not redis_url:
        return 1, (
            f"linli: {workers} web workers need REDIS_URL (rate limits are counted per process without it); "
            "serving with 1 worker"
        )
    return workers, ""


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve linli: web, task worker and scheduler")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument(
        "--workers",
        default=os.environ.get("LINLI_WEB_WORKERS", ""),
        help="gunicorn worker processes (default 2 with REDIS_URL, else 1: see web_workers)",
    )
    parser.add_argument("--threads", default=os.environ.get("LINLI_WEB_THREADS", "4"))
    args = parser.parse_args()

    python = sys.executable
    commands = _management_commands()
    from django.conf import settings

    workers, note = web_workers(args.workers, redis_url=settings.REDIS_URL)
    if note:
        print(note, file=sys.stderr)
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    web = [
        python,
        "-m",
        "gunicorn",
        "linli.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(workers),
        "--threads",
        str(args.threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "5",
    ]
    procs.append(("web", subprocess.Popen(web)))  # noqa: S603 - fixed argument list, no shell
    if "db_worker" in commands:
        procs.append(("worker", subprocess.Popen([python, "manage.py", "db_worker"])))  # noqa: S603
    if "run_scheduler" in commands:
        procs.append(("scheduler", subprocess.Popen([python, "manage.py", "run_scheduler"])))  # noqa: S603

    def stop(*_: object) -> None:
        for _name, proc in procs:
            if proc.poll() is None:
                proc.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    try:
        while all(proc.poll() is None for _name, proc in procs):
            time.sleep(0.5)
        for name, proc in procs:
            if proc.poll() not in (None, 0, -signal.SIGTERM):
                print(f"linli: {name} exited with {proc.returncode}", file=sys.stderr)
                exit_code = 1
    finally:
        stop()
        for _name, proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return exit_code


if __name__ == "__main__":
    raise SystemExit(main())
