"""``manage.py seed_demo``: load the demo district (涪城区) and print a demo login for every role."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.bookings.demo import bookings_seed_demo
from linli.integrations.demo import cases_seed_history
from linli.needs.demo import needs_seed_demo
from linli.party.demo import party_seed_demo
from linli.patrols.demo import patrols_seed_demo
from linli.people.demo import people_seed_demo
from linli.places.demo.geography import DEFAULT_SEED, FULL_SIZE, SMALL_SIZE
from linli.places.demo.loader import DemoError, demo_load
from linli.places.demo.people import demo_logins
from linli.stations.demo import stations_seed_demo

__all__ = ["Command", "demo_logins"]

SIZES = {"full": FULL_SIZE, "small": SMALL_SIZE}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def logins_table(rows: list[tuple[str, str, str]]) -> str:
    header = ("角色", "登录名", "密码 / 登录方式")
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(3)]
    lines = [
        "  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in [header]
    ]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "加载演示辖区(涪城区:4个街道、33个社区、约270个网格)及各角色演示账号;重复运行不会重复创建。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子(默认 %(default)s)")
        parser.add_argument("--size", choices=sorted(SIZES), default="full", help="规模(默认 full)")
        parser.add_argument(
            "--force", action="store_true", help="删除已有的演示区、演示单位和演示账号后重新生成"
        )
        parser.add_argument("--history", type=int, default=50_000, help="近一年历史工单数(默认 %(default)s)")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="允许在生产环境加载(演示账号的密码是公开的,请勿用于真实系统)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION and not options["allow_production"]:
            raise CommandError(
                "生产环境不加载演示数据:演示账号的密码是公开的。确有需要请加 --allow-production。"
            )
        try:
            result = demo_load(seed=options["seed"], size=SIZES[options["size"]], force=options["force"])
        except DemoError as exc:
            raise CommandError(exc.message) from exc
        from linli.security.audit import audit_record

        audit_record(
            action="data.import",
            actor=None,
            obj=None,
            object_type="places.region",
            result="ok",
            data={
                "source": "seed_demo",
                "created": result.created,
                "users": result.users,
                "grids": result.grids,
            },
        )
        if result.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"已加载演示辖区:{result.regions} 个区域(含楼栋)、{result.grids} 个网格、"
                    f"{result.units} 个单位、{result.users} 个账号,用时 {result.seconds:.1f} 秒。"
                )
            )
        else:
            extra = (
                f",补建 {result.units} 个单位、{result.users} 个账号" if result.units or result.users else ""
            )
            self.stdout.write(f"演示辖区已存在且一致,未重复创建{extra}(用时 {result.seconds:.1f} 秒)。")
        self.stdout.write(stations_seed_demo().message)  # the demo station network (linli.stations)
        self.stdout.write(bookings_seed_demo().message)  # slots, rooms and tools (linli.bookings)
        self.stdout.write(people_seed_demo().message)  # households, care registry, stewards (linli.people)
        self.stdout.write(
            needs_seed_demo().message
        )  # needs, resources, projects, organisations (linli.needs)
        self.stdout.write(patrols_seed_demo().message)  # weeks of patrols in 建国门社区 (linli.patrols)
        self.stdout.write(party_seed_demo().message)  # party tree, check-ins, volunteer hours (linli.party)
        self.stdout.write(cases_seed_history(size=options["history"]).message)  # a year of cases
        self.stdout.write("")
        self.stdout.write(logins_table(demo_logins()))
        self.stdout.write("")
        self.stdout.write("每个网格另有一名网格员:登录名 gw-<网格编码>(如 gw-510703001001001),密码同上。")
        self.stdout.write("居民用手机号登录:页面上点“获取验证码”,验证码会写在服务器日志里(开发用短信后端)。")
