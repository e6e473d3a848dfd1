"""``manage.py seed_demo_stations``: the demo station network (after ``seed_demo`` loaded the places)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.stations.demo import stations_seed_demo


class Command(BaseCommand):
    help = (
        "为演示辖区创建服务阵地:1个区级中心、每个社区1个党群服务中心、约40个驿站/驿家;重复运行不会重复创建。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--allow-production", action="store_true", help="允许在生产环境创建演示阵地")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError("生产环境不创建演示数据。确有需要请加 --allow-production。")
        message = stations_seed_demo().message
        from linli.security.audit import audit_record

        audit_record(
            action="data.import",
            actor=None,
            obj=None,
            object_type="stations.station",
            result="ok",
            data={"source": "seed_demo_stations"},
        )
        self.stdout.write(message)
