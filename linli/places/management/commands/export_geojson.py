"""Export regions and grids as the GeoJSON FeatureCollection that ``import_geojson`` reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from linli.places.geojson_export import geojson_export, geojson_export_querysets
from linli.places.models import Level, Region


class Command(BaseCommand):
    help = (
        "导出GeoJSON(WGS84)。不加 --level 和 --grids 时导出全部区域和网格;"
        "--level 可重复,只导出这些层级;--grids 导出网格;--under 限定某区域(编码)及其下级。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--level", action="append", choices=Level.values, help="要导出的层级,可重复")
        parser.add_argument("--grids", action="store_true", help="导出网格")
        parser.add_argument("--under", metavar="CODE", help="只导出该编码的区域及其下级")
        parser.add_argument("-o", "--output", metavar="FILE", help="输出文件,省略或“-”为标准输出")

    def handle(self, *args: Any, **options: Any) -> None:
        under = None
        if options["under"]:
            under = Region.objects.filter(code=options["under"]).first()
            if under is None:
                raise CommandError(f"区域编码 {options['under']} 不存在")
        regions, grids = geojson_export_querysets(
            levels=options["level"], grids=options["grids"], under=under
        )
        text = geojson_export(regions=regions, grids=grids)
        from linli.security.audit import audit_record

        audit_record(
            action="data.export",
            actor=None,
            obj=None,
            object_type="places.region",
            result="ok",
            data={
                "format": "geojson",
                "via": "command",
                "levels": options["level"],
                "grids": options["grids"],
            },
        )
        output = options["output"]
        if output and output != "-":
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise CommandError(f"无法写入文件 {output}: {exc.strerror}") from exc
            count = text.count('\n{"type":"Feature"')
            self.stderr.write(f"已导出 {count} 个要素到 {output}")
        else:
            self.stdout.write(text, ending="")
