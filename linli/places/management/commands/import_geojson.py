"""Import regions and grids from a GeoJSON FeatureCollection: check everything, then write all or nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.places.geojson_io import GCJ02, WGS84, geojson_import


class Command(BaseCommand):
    help = (
        "导入GeoJSON(区/街道/社区/小区/楼栋/网格)。先完整检查(无效或自相交的面、超出中国范围的坐标、"
        "上级不存在、编码重复、超出上级、同级重叠、未覆盖的空隙),有错误则不写入并以非零状态退出。"
        "坐标须为WGS84 [经度, 纬度];高德/腾讯的GCJ-02坐标请加 --crs gcj02。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="GeoJSON文件路径,“-”表示标准输入")
        parser.add_argument("--dry-run", action="store_true", help="只检查并打印报告,不写入")
        parser.add_argument("--strict", action="store_true", help="有警告(如空隙)也不导入")
        parser.add_argument("--crs", choices=[WGS84, GCJ02], default=WGS84, help="文件坐标系,默认 wgs84")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        try:
            data = sys.stdin.buffer.read() if path == "-" else Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件 {path}: {exc.strerror}") from exc
        result = geojson_import(
            data=data, dry_run=options["dry_run"], strict=options["strict"], crs=options["crs"]
        )
        for line in result.lines():
            self.stdout.write(line)
        if result.report.blocks(strict=options["strict"]):
            raise CommandError(result.report.summary())
        if result.buildings_reassigned:
            self.stdout.write(f"{result.buildings_reassigned} 栋楼的所属网格已更新。")
