"""Restore a backup into an empty database and prove it: counts, checksums, audit chain (REL-7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from linli.security.backup import BackupError
from linli.security.restore import backup_restore


class Command(BaseCommand):
    help = (
        "从备份恢复到空数据库(非空时拒绝,除非 --force),然后逐表核对行数和校验和并校验审计哈希链;"
        "有任何不一致以状态1退出。恢复前请停止应用。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="备份文件或其 .manifest.json")
        parser.add_argument(
            "--target", help="恢复到:SQLite 文件路径,或 postgres://用户@主机/库名(默认:当前配置的数据库)"
        )
        parser.add_argument("--force", action="store_true", help="目标库非空也恢复(覆盖其中同名对象)")
        parser.add_argument("--database", default="default", help="数据库别名(默认 default)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["target"] is None:
            connections[options["database"]].close()  # nothing of ours holds the file or a session open
        try:
            result = backup_restore(
                source=Path(options["file"]),
                target=options["target"],
                force=options["force"],
                using=options["database"],
            )
        except BackupError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        self.stdout.write(f"restored into {result.target}: {result.tables} tables, {result.rows} rows")
        for problem in result.differences:
            self.stderr.write(f"DIFFERENT: {problem}")
        if not result.audit_ok:
            self.stderr.write(f"AUDIT CHAIN BROKEN: {result.audit_problem}")
        if not result.ok:
            raise CommandError("restore finished but does not match the backup", returncode=1)
        self.stdout.write("row counts and checksums match the manifest; the audit chain verifies")
