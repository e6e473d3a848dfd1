"""Back up the database with a manifest of row counts, checksums and the audit chain head (REL-7)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "备份数据库:SQLite 用在线备份接口(WAL 下也是一致的快照),PostgreSQL 用 pg_dump -Fc;"
        "旁边写一份清单(每张表的行数和校验和、审计链头)。文件权限 0600。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", metavar="DIR", help="输出目录(默认 LINLI_BACKUP_DIR,即 var/backups)")
        parser.add_argument("--database", default="default", help="数据库别名(默认 default)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = backup_create(
                output_dir=Path(options["output"]) if options["output"] else None, using=options["database"]
            )
        except BackupError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from exc
        tables = result.manifest["tables"]
        self.stdout.write(
            f"backup written: {result.data_path} ({result.manifest['data_bytes']} bytes, {len(tables)} tables, "
            f"{sum(t['rows'] for t in tables.values())} rows)\nmanifest: {result.manifest_path}"
        )
