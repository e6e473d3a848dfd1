"""``make run``'s server: gunicorn for the web, plus the task worker and the scheduler when installed.

One command, one Ctrl-C: the children are started together and stopped together. Production runs the
same three processes under a supervisor instead (docs/operations.md).
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


def main() -> int:
    parser = argparse.ArgumentParser(description="Serve linli: web, task worker and scheduler")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="8000")
    parser.add_argument("--workers", default=os.environ.get("LINLI_WEB_WORKERS", "2"))
    args = parser.parse_args()

    python = sys.executable
    commands = _management_commands()
    procs: list[tuple[str, subprocess.Popen[bytes]]] = []
    web = [
        python,
        "-m",
        "gunicorn",
        "linli.wsgi:application",
        "--bind",
        f"{args.host}:{args.port}",
        "--workers",
        str(args.workers),
        "--threads",
        "4",
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
