"""``manage.py seed_demo_needs``: the demo 三清单 and organisations (after ``seed_demo`` loaded the places)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from linli.needs.demo import needs_seed_demo


class Command(BaseCommand):
    help = "加载演示三清单(需求、资源、项目)与社会组织;重复运行不会重复创建。"

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("生产环境不加载演示数据。")
        self.stdout.write(needs_seed_demo().message)
