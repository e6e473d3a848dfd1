"""Print retention per personal-data field and category from the PI registry (docs/security.md embeds it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security.doc_tables import doc_write, retention_markdown


class Command(BaseCommand):
    help = (
        "打印个人信息登记表中每个字段的类别、用途、保存期限和依据(Markdown);--write 更新 docs/security.md。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="Markdown 表格(默认)")
        parser.add_argument("--write", action="store_true", help="写入 docs/security.md 的 retention 段")

    def handle(self, *args: Any, **options: Any) -> None:
        table = retention_markdown()
        if options["write"]:
            if not doc_write("retention", table):
                raise CommandError(
                    "docs/security.md 中没有 <!-- retention:begin --> … <!-- retention:end -->"
                )
            self.stdout.write("docs/security.md: retention table updated")
            return
        self.stdout.write(table)
