"""``manage.py import_hotline FILE``: import 12345 work orders (CSV/XLSX); all or nothing."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.integrations.hotline.services import hotline_import, hotline_import_audit


class Command(BaseCommand):
    help = "导入12345热线工单(CSV 或 XLSX,列见 docs/hotline_import.md);任何一行有误则全部不导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="CSV 或 XLSX 文件")
        parser.add_argument("--max-errors", type=int, default=200, help="最多列出的错误行数")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在:{path}")
        started = time.perf_counter()
        report = hotline_import(data=path.read_bytes(), filename=path.name)
        hotline_import_audit(report, filename=path.name)
        if report.file_error:
            raise CommandError(report.file_error)
        if report.errors:
            for e in report.errors[: options["max_errors"]]:
                self.stderr.write(f"第{e.row}行 [{e.column}] {e.code}: {e.message}")
            more = len(report.errors) - options["max_errors"]
            if more > 0:
                self.stderr.write(f"……另有 {more} 处错误")
            raise CommandError(f"共 {len(report.errors)} 处错误,未导入任何工单。")
        self.stdout.write(
            self.style.SUCCESS(
                f"已导入 {report.created} 件,跳过已导入 {report.skipped} 件,共 {report.rows} 行,"
                f"用时 {time.perf_counter() - started:.1f} 秒。"
            )
        )
