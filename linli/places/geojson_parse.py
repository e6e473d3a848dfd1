"""Reading a GeoJSON file into features: JSON, structure, properties and each geometry on its own.

No database: what the features mean next to the stored tree is checked in ``geojson_io``, how they fit
together geometrically in ``geojson_checks``. Every problem goes into the report, named by the feature.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from linli.places.gcj02 import geojson_gcj02_to_wgs84
from linli.places.geojson_checks import ERROR, GRID, ValidationReport
from linli.places.geometry import GeometryError, geometry_from_geojson, validate_lat_lng
from linli.places.models import Level

WGS84, GCJ02 = "wgs84", "gcj02"
LEVELS = [*Level.values, GRID]
MAX_INT = 2_147_483_647  # PositiveIntegerField on PostgreSQL


@dataclass
class FeatureIn:
    index: int
    level: str
    code: str
    name: str
    parent_code: str
    households: int
    population: int
    address: str
    geometry: Any | None  # GeoJSON geometry in WGS84 (converted when the file was GCJ-02)
    geom: BaseGeometry | None

    @property
    def kind(self) -> str:
        return "grid" if self.level == GRID else "region"


def geojson_parse(data: bytes | str, crs: str, report: ValidationReport) -> list[FeatureIn]:
    if crs not in {WGS84, GCJ02}:
        report.add(ERROR, "invalid_crs", _("坐标系只能是 wgs84 或 gcj02,收到 %(crs)s") % {"crs": crs})
        return []
    try:
        text = data.decode("utf-8-sig") if isinstance(data, bytes) else data
        doc = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        report.add(ERROR, "invalid_json", _("文件不是UTF-8编码的文本"))
        return []
    except json.JSONDecodeError as exc:
        report.add(
            ERROR,
            "invalid_json",
            _("不是有效的JSON:第%(line)d行第%(col)d列:%(msg)s")
            % {"line": exc.lineno, "col": exc.colno, "msg": exc.msg},
        )
        return []
    except ValueError as exc:
        report.add(ERROR, "invalid_json", _("不是有效的JSON:%(msg)s") % {"msg": exc})
        return []
    if (
        not isinstance(doc, dict)
        or doc.get("type") != "FeatureCollection"
        or not isinstance(doc.get("features"), list)
    ):
        report.add(ERROR, "invalid_geojson", _("文件必须是GeoJSON FeatureCollection(含features数组)"))
        return []
    if not doc["features"]:
        report.add(ERROR, "empty_file", _("文件中没有任何要素"))
        return []
    report.feature_count = len(doc["features"])
    features: list[FeatureIn] = []
    seen: dict[tuple[str, str], FeatureIn] = {}
    for index, raw in enumerate(doc["features"]):
        feature = _parse_feature(index, raw, crs, report)
        if feature is None:
            continue
        first = seen.setdefault((feature.kind, feature.code), feature)
        if first is not feature:
            report.add(
                ERROR,
                "duplicate_code",
                _("编码 %(code)s 重复:第%(i)d个要素「%(a)s」与第%(j)d个要素「%(b)s」")
                % {
                    "code": feature.code,
                    "i": first.index + 1,
                    "a": first.name,
                    "j": index + 1,
                    "b": feature.name,
                },
                feature_code=feature.code,
                feature_name=feature.name,
                other_code=first.code,
                other_name=first.name,
            )
            continue
        features.append(feature)
    return features


def _reject_constant(name: str) -> Any:
    raise ValueError(_("不支持的数值 %(name)s") % {"name": name})


def _parse_feature(index: int, raw: Any, crs: str, report: ValidationReport) -> FeatureIn | None:
    where = _("第%(i)d个要素") % {"i": index + 1}
    if (
        not isinstance(raw, dict)
        or raw.get("type") != "Feature"
        or not isinstance(raw.get("properties"), dict)
    ):
        report.add(ERROR, "invalid_feature", _("%(w)s 不是带properties的GeoJSON Feature") % {"w": where})
        return None
    props = raw["properties"]
    code, name = _text(props.get("code")), _text(props.get("name"))
    refs = {"feature_code": code, "feature_name": name}
    label = f"{where}「{name}」({code})"
    problems: list[tuple[str, str]] = []
    level = props.get("level")
    if level not in LEVELS:
        problems.append(("invalid_level", _("层级必须是 %(levels)s 之一") % {"levels": "/".join(LEVELS)}))
    if not code or "/" in code or len(code) > 40:
        problems.append(("invalid_code", _("编码不能为空、不能含“/”、不超过40个字符")))
    if not name or len(name) > 100:
        problems.append(("invalid_name", _("名称不能为空、不超过100个字符")))
    address = _text(props.get("address"))
    if len(address) > 200:
        problems.append(("invalid_address", _("地址不超过200个字符")))
    numbers = {key: _count(props.get(key)) for key in ("households", "population")}
    for key, value in numbers.items():
        if value is None:
            problems.append(("invalid_number", _("%(key)s 必须是非负整数") % {"key": key}))
    geometry, geom = None, None
    if level in LEVELS:
        try:
            geometry, geom = _parse_geometry(raw.get("geometry"), level, crs)
        except GeometryError as exc:
            problems.append((exc.code, exc.message))
    for problem_code, message in problems:
        report.add(ERROR, problem_code, f"{label}: {message}", **refs)
    if problems:
        report.rejected_codes.add(code)
        return None
    return FeatureIn(
        index=index,
        level=level,
        code=code,
        name=name,
        parent_code=_text(props.get("parent_code")),
        households=numbers["households"] or 0,
        population=numbers["population"] or 0,
        address=address,
        geometry=geometry,
        geom=geom,
    )


def _text(value: Any) -> str:
    # GIS tools often write numeric codes (510703001) as numbers.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _count(value: Any) -> int | None:
    if value is None or value == "":
        return 0
    # Spreadsheet-born files carry "200" or 200.0 for a count.
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT:
        return value
    return None


def _parse_geometry(raw: Any, level: str, crs: str) -> tuple[Any | None, BaseGeometry | None]:
    if raw is None:
        if level == GRID:
            raise GeometryError("missing_geometry", _("网格必须有边界"))
        return None, None
    raw = geojson_gcj02_to_wgs84(raw) if crs == GCJ02 else raw
    if level != Level.BUILDING:
        try:
            return raw, geometry_from_geojson(raw)
        except GeometryError as exc:
            raise _projected_hint(raw) or exc from exc
    if not isinstance(raw, dict) or raw.get("type") != "Point":
        raise GeometryError("not_point", _("楼栋的位置必须是点(Point)"))
    try:
        point = shape(raw)
        lng, lat = float(point.x), float(point.y)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise GeometryError("invalid_geojson", _("GeoJSON坐标无法解析: %(e)s") % {"e": exc}) from exc
    try:
        validate_lat_lng(lat, lng)
    except GeometryError as exc:
        raise _projected_hint(raw) or exc from exc
    return raw, point


def _projected_hint(raw: Any) -> GeometryError | None:
    """Metres instead of degrees (CGCS2000 Gauss-Krüger exports are common) deserve their own message."""
    try:
        bounds = shape(raw).bounds
    except Exception:
        return None
    if any(abs(v) > 360 for v in bounds):
        return GeometryError(
            "projected_coordinates",
            _("坐标是投影坐标(单位米,如CGCS2000高斯-克吕格),不是经纬度;请先转换为WGS84 [经度, 纬度]"),
        )
    return None
