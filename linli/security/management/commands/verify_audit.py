"""Walk the audit trail's hash chain and name the first broken row (AUD-2). Exit status 1 when broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from linli.security.audit import audit_verify
from linli.security.audit_guard import audit_guard_installed


class Command(BaseCommand):
    help = "校验审计日志的哈希链:逐条核对内容、顺序和首尾,指出第一条被改动、删除或调换的记录;有问题时以状态1退出。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="要校验的数据库别名(默认 default)")

    def handle(self, *args: Any, **options: Any) -> None:
        using = options["database"]
        report = audit_verify(using=using)
        guard = audit_guard_installed(connections[using])
        if guard is False:
            self.stderr.write("WARNING: the append-only triggers are missing; run `manage.py migrate`.")
        if not report.ok:
            assert report.broken is not None
            raise CommandError(
                f"audit chain BROKEN after {report.rows} good rows: {report.broken.describe()}", returncode=1
            )
        span = f"seq {report.first_seq}..{report.last_seq}" if report.rows else "no rows"
        self.stdout.write(f"audit chain OK: {report.rows} rows ({span}), head hash {report.head_hash}")
