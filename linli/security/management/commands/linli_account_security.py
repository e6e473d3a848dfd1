"""``manage.py linli_account_security <username> --reset-otp | --unlock --reason "…"``: the break-glass way to
the security admin's controls, for when nobody can use the screen (the only security admin lost their
phone or is locked out). Same services, same audit rows (``via: command``, with the operating-system
account that ran it)."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User
from linli.security.account_controls import AccountControlError, account_lockout_clear, account_otp_reset


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return "?"


class Command(BaseCommand):
    help = (
        "紧急处理工作人员账号的登录控制(安全管理员无法使用页面时):--reset-otp 重置动态口令"
        "(删除认证器和备用码、注销接口令牌,下次登录重新绑定),--unlock 解除登录锁定。须填写 --reason,记入审计日志。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username", help="工作人员账号")
        parser.add_argument("--reset-otp", action="store_true", help="重置动态口令")
        parser.add_argument("--unlock", action="store_true", help="解除登录锁定")
        parser.add_argument("--reason", default="", help="操作理由(必填,记入审计日志)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["reset_otp"] and not options["unlock"]:
            raise CommandError("请指定 --reset-otp 或 --unlock(可同时指定)。")
        account = User.objects.filter(username=options["username"]).first()
        if account is None:
            raise CommandError(f"没有账号 {options['username']!r}。")
        operator = _operator()
        try:
            if options["unlock"]:
                cleared = account_lockout_clear(
                    account=account, actor=None, reason=options["reason"], operator=operator
                )
                self.stdout.write(
                    self.style.SUCCESS(f"已解除 {account.username} 的登录锁定(清除 {cleared} 条记录)。")
                )
            if options["reset_otp"]:
                done = account_otp_reset(
                    account=account, actor=None, reason=options["reason"], operator=operator
                )
                self.stdout.write(
                    self.style.SUCCESS(
                        f"已重置 {account.username} 的动态口令:删除 {done.authenticators} 个认证器、"
                        f"{done.backup_code_sets} 组备用码,注销 {done.api_tokens_revoked} 个接口令牌;"
                        "下次登录时须重新绑定。"
                    )
                )
        except AccountControlError as exc:
            raise CommandError(exc.message) from exc
