"""``manage.py seed_demo_people``: demo households, care registry and stewards for more communities."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.people.demo import COMMUNITIES, people_seed_demo


class Command(BaseCommand):
    help = "为指定社区生成演示居民登记、关爱对象和小管家(需先运行 seed_demo);已有住户的社区跳过。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--community",
            action="append",
            default=[],
            help=f"社区名称,可重复(默认 {'、'.join(COMMUNITIES)})",
        )
        parser.add_argument("--allow-production", action="store_true", help="允许在生产环境生成演示数据")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError("生产环境不生成演示居民数据。")
        result = people_seed_demo(communities=tuple(options["community"]) or COMMUNITIES)
        self.stdout.write(result.message)
