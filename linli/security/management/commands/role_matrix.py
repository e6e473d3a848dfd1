"""Print the role × capability matrix from linli.accounts.roles (docs/security.md embeds it)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security.doc_tables import doc_write, role_matrix_markdown


class Command(BaseCommand):
    help = "打印角色 × 权限矩阵(Markdown);--write 更新 docs/security.md 中的同一张表。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--markdown", action="store_true", help="Markdown 表格(默认)")
        parser.add_argument("--write", action="store_true", help="写入 docs/security.md 的 role-matrix 段")

    def handle(self, *args: Any, **options: Any) -> None:
        table = role_matrix_markdown()
        if options["write"]:
            if not doc_write("role-matrix", table):
                raise CommandError(
                    "docs/security.md 中没有 <!-- role-matrix:begin --> … <!-- role-matrix:end -->"
                )
            self.stdout.write("docs/security.md: role matrix updated")
            return
        self.stdout.write(table)
