"""manage.py workdays_seed [--years 2025 2026 2027]: import the State Council schedule from chinese-calendar.

Safe to re-run (nothing changes the second time) and to run from cron after upgrading the package each
December; days maintained by hand in the admin are never overwritten. Years the installed package does not
know are reported, never guessed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from linli.workdays.selectors import calendar_years_covered
from linli.workdays.services import calendar_seed, package_years


class Command(BaseCommand):
    help = "从 chinese-calendar 导入法定节假日与调休上班日；可重复运行，不覆盖手工维护的日期。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--years",
            nargs="+",
            type=int,
            metavar="YEAR",
            help="要导入的年份(默认：所安装的 chinese-calendar 收录的全部年份)",
        )

    def handle(self, *args: Any, years: list[int] | None = None, **options: Any) -> None:
        known = package_years()
        report = calendar_seed(years=years)
        if report.changed:
            from linli.security.audit import audit_record

            audit_record(
                action="config.import",
                actor=None,
                obj=None,
                object_type="workdays.calendarday",
                result="ok",
                data={"source": "chinese-calendar", "years": report.years_seeded, "created": report.created,
                      "updated": report.updated, "deleted": report.deleted},
            )  # fmt: skip
        if report.years_seeded:
            self.stdout.write(
                f"已导入年份 {_span(report.years_seeded)}：新增 {report.created}，更新 {report.updated}，"
                f"删除 {report.deleted}，未变 {report.unchanged}，保留手工维护 {report.kept_manual}"
            )
        if not report.changed and report.years_seeded:
            self.stdout.write("日历已是最新，无改动。")
        for year in report.years_uncovered:
            self.stderr.write(
                self.style.WARNING(
                    f"{year} 年：所安装的 chinese-calendar 未收录(仅有 {known[0]}–{known[-1]})，未导入。"
                    "请升级 chinese-calendar 后重新运行，或在后台手工录入该年放假安排。"
                )
            )
        covered = set(calendar_years_covered())
        today = timezone.localdate()
        # The State Council publishes next year's schedule around November; before that its absence is normal.
        due = [today.year, today.year + 1] if today.month >= 11 else [today.year]
        for year in due:
            if year not in covered:
                self.stderr.write(
                    self.style.WARNING(
                        f"提醒：日历中没有 {year} 年的法定节假日，该年期限将只按周一至周五计算。"
                    )
                )


def _span(years: list[int]) -> str:
    if len(years) > 2 and years == list(range(years[0], years[-1] + 1)):
        return f"{years[0]}–{years[-1]}"
    return "、".join(str(y) for y in years)
