"""``manage.py linli_create_admin``: set up the system administrator on a fresh install (AC-6).

There is no default password: the password is typed twice (interactive) or read from the environment
variable ``LINLI_ADMIN_PASSWORD`` (automation, ``--no-input``), and refused unless it passes the staff
password policy. In production the administrator then enrols an authenticator at the first sign-in.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.accounts.models import User, UserKind
from linli.accounts.services import AccountError, admin_create

ENV_PASSWORD = "LINLI_ADMIN_PASSWORD"  # noqa: S105 - the variable's name, not a password


class Command(BaseCommand):
    help = "创建系统管理员账号(无默认密码;交互输入或从环境变量 LINLI_ADMIN_PASSWORD 读取,弱密码会被拒绝)。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin", help="登录名(默认 %(default)s)")
        parser.add_argument("--display-name", default="系统管理员", help="姓名(默认 %(default)s)")
        parser.add_argument("--no-input", action="store_true", help=f"不交互:密码取自环境变量 {ENV_PASSWORD}")

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"].strip()
        if not username:
            raise CommandError("登录名不能为空")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"账号 {username} 已存在;修改密码请用 manage.py changepassword {username}")
        password = self._password(no_input=options["no_input"])
        try:
            validate_password(password, user=User(username=username, kind=UserKind.STAFF))
        except ValidationError as exc:
            raise CommandError("密码不符合要求:" + " ".join(exc.messages)) from exc
        try:
            admin_create(username=username, password=password, display_name=options["display_name"])
        except AccountError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"已创建系统管理员 {username}。"))

    def _password(self, *, no_input: bool) -> str:
        from_env = os.environ.get(ENV_PASSWORD, "")
        if from_env or no_input:
            if not from_env:
                raise CommandError(f"--no-input 需要设置环境变量 {ENV_PASSWORD}")
            return from_env
        if not sys.stdin.isatty():
            raise CommandError(f"没有终端可输入密码:请设置环境变量 {ENV_PASSWORD} 并加 --no-input")
        first = getpass.getpass("管理员密码:")
        if first != getpass.getpass("再输入一次:"):
            raise CommandError("两次输入的密码不一致")
        return first
