"""Delete audit rows older than LINLI_AUDIT_RETENTION_DAYS (never younger than 180 days, AUD-3)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.security.audit_guard import AuditChainBrokenError, audit_prune


class Command(BaseCommand):
    help = (
        "清理超过保存期限(LINLI_AUDIT_RETENTION_DAYS,至少180天)的审计记录,并把哈希链重新锚定在最后一条"
        "被清理的记录上。链校验不通过时不清理。定时任务 security.audit_prune 每天执行同样的操作。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch", type=int, default=5000, help="每个事务删除的条数")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = audit_prune(batch=max(1, options["batch"]))
        except AuditChainBrokenError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        self.stdout.write(
            f"pruned {result.deleted} audit rows created before {result.cutoff.isoformat()}; "
            f"the chain now starts after seq {result.genesis_seq}"
        )
