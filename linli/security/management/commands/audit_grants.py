"""Print the PostgreSQL grants that make the audit trail append-only for the application role (AUD-2)."""

from __future__ import annotations

import re
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security.audit_guard import audit_grants_sql


class Command(BaseCommand):
    help = (
        "打印 PostgreSQL 授权语句:应用账号对审计表只有查询和追加权限(无 UPDATE/DELETE/TRUNCATE),"
        "清理只能通过 linli_audit_prune 函数。请以表的属主执行。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--print", action="store_true", help="打印SQL(默认行为)")
        parser.add_argument("--role", default="linli_app", help="应用使用的数据库角色(默认 linli_app)")

    def handle(self, *args: Any, **options: Any) -> None:
        role = options["role"]
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]{0,62}", role):
            raise CommandError("角色名只能包含字母、数字、下划线和$,且不能以数字开头")
        self.stdout.write(audit_grants_sql(role=role))
