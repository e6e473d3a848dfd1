"""``manage.py linli_check_duties``: list accounts that hold more than one of system admin, security admin
and auditor (AC-5). Exits non-zero when there is any, so a cron job or CI can alert on it."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from linli.security.duties import duty_violations


class Command(BaseCommand):
    help = "检查三员分立:列出同时担任系统管理员、安全管理员、审计员中两个及以上职责的账号。"

    def handle(self, *args: Any, **options: Any) -> None:
        violations = duty_violations()
        if not violations:
            self.stdout.write(self.style.SUCCESS("三员分立检查通过:没有账号兼任两个及以上职责。"))
            return
        for violation in violations:
            self.stdout.write(f"  {violation}")
        raise CommandError(f"{len(violations)} 个账号违反三员分立,请撤销多余的角色或超级用户标志。")
