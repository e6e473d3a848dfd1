"""GeoJSON import of the administrative tree and the grids.

The file is one FeatureCollection in WGS84, coordinates ``[lng, lat]``. Each Feature has ``properties``:
``level`` (district / street / community / estate / building, or ``grid``), ``code``, ``name``,
``parent_code`` (empty for a district; a grid's community), optional ``households``, ``population`` and
``address`` (grids keep only households). Geometry is a Polygon or MultiPolygon, a Point for a building;
``null`` keeps whatever is stored (grids always need one). Coordinates from 高德/腾讯 maps are GCJ-02: convert
them first, or import with ``crs="gcj02"`` (the public GCJ-02 formula, inverted by iteration).

An import first checks everything and builds a ``ValidationReport`` (see ``geojson_checks`` for overlaps,
gaps and children outside their parent). Errors block it; warnings block it only under ``strict``. Then it
writes in one transaction, upserting by code, parents before children whatever the file order, and bumps
the geometry version once. Moving a region under another parent is refused (its whole subtree's paths would
move); a grid may move to another community. ``geojson_export`` writes exactly this format.

Modules: ``geojson_parse`` (the file on its own), ``geojson_checks`` (report; overlaps, gaps, children
outside parents), this one (against the stored tree; the write), ``geojson_export``, ``gcj02``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import shapely
from django.db import IntegrityError, transaction
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from shapely.geometry.base import BaseGeometry

from linli.places.geojson_checks import ERROR, GRID, Node, ValidationReport, level_label, topology_check
from linli.places.geojson_parse import GCJ02, LEVELS, WGS84, FeatureIn, geojson_parse
from linli.places.models import LEVEL_ORDER, PARENT_LEVEL, GeometryVersion, Grid, Level, Region
from linli.places.services import (
    PlacesError,
    buildings_assign_grids,
    geometry_version_bump,
    grid_create,
    grid_update,
    region_create,
    region_update,
)

__all__ = ["GCJ02", "WGS84", "ImportResult", "ValidationReport", "geojson_import", "geojson_validate"]

_CHUNK = 500  # codes per IN (...) query: well inside every backend's parameter limit


@dataclass
class ImportResult:
    report: ValidationReport
    dry_run: bool
    strict: bool
    applied: bool = False
    buildings_reassigned: int = 0

    def plan_text(self) -> str:
        """Per level, how many rows the file creates and updates (whether or not it was written)."""
        return ";".join(
            _("%(level)s 新增 %(c)d、更新 %(u)d")
            % {
                "level": level_label(level),
                "c": self.report.to_create[level],
                "u": self.report.to_update[level],
            }
            for level in LEVELS
            if self.report.to_create[level] or self.report.to_update[level]
        )

    def status_text(self) -> str:
        if self.applied:
            return _("已导入。")
        if self.dry_run and not self.report.blocks(strict=self.strict):
            return _("检查通过(试运行,未写入)。")
        return _("未导入:请先修正上述问题,数据库未做任何修改。")

    def lines(self) -> list[str]:
        out = [str(p) for p in self.report.sorted_problems()]
        out.append(self.report.summary())
        if plan := self.plan_text():
            out.append(plan)
        out.append(self.status_text())
        return out


# --- import -------------------------------------------------------------------------------------------
def geojson_import(
    *,
    data: bytes | str,
    dry_run: bool = False,
    strict: bool = False,
    crs: str = WGS84,
    actor: Any = None,
    request: Any = None,
) -> ImportResult:
    """Check the whole file, then write all of it or nothing. A real (not dry-run) import is audited
    once, applied or refused (AUD-1)."""
    result = _import(data=data, dry_run=dry_run, strict=strict, crs=crs)
    if not dry_run:
        from linli.security.audit import audit_record
        from linli.security.models import AuditResult

        audit_record(
            action="data.import",
            actor=actor,
            obj=None,
            object_type="places.region",
            result=AuditResult.OK if result.applied else AuditResult.FAILED,
            data={
                "source": "geojson",
                "crs": crs,
                "created": sum(result.report.to_create.values()),
                "updated": sum(result.report.to_update.values()),
                "problems": len(result.report.sorted_problems()),
            },
            request=request,
        )
    return result


def _import(*, data: bytes | str, dry_run: bool, strict: bool, crs: str) -> ImportResult:
    stamp = _version_stamp(lock=False)
    features, report = geojson_validate(data=data, crs=crs)
    result = ImportResult(report=report, dry_run=dry_run, strict=strict)
    if dry_run or report.blocks(strict=strict):
        return result
    try:
        with transaction.atomic():
            if _version_stamp(lock=True) != stamp:
                # Geometry moved while we were checking: check again under the lock, never write over it.
                features, report = geojson_validate(data=data, crs=crs)
                result.report = report
                if report.blocks(strict=strict):
                    return result
            result.buildings_reassigned = _write(features)
    except PlacesError as exc:
        result.report.add(ERROR, exc.code, exc.message)
        return result
    except IntegrityError:
        result.report.add(ERROR, "conflict", _("写入时与其他人的修改冲突,已全部撤销,请重新导入"))
        return result
    result.applied = True
    return result


def geojson_validate(*, data: bytes | str, crs: str = WGS84) -> tuple[list[FeatureIn], ValidationReport]:
    """Parse and check without writing; returns the features that parsed and the full report."""
    report = ValidationReport()
    features = geojson_parse(data, crs, report)
    if features:
        stored = _stored_regions(
            {f.code for f in features if f.kind == "region"} | {f.parent_code for f in features}
        )
        stored_grids = _stored_grid_codes({f.code for f in features if f.kind == "grid"})
        _check_tree(features, stored, stored_grids, report)
        nodes = [_node_from_feature(f) for f in features] + _context_nodes(features, stored)
        topology_check(nodes, report)
    return features, report


def _write(features: list[FeatureIn]) -> int:
    regions = sorted(
        (f for f in features if f.kind == "region"), key=lambda f: (LEVEL_ORDER[f.level], f.index)
    )
    grids = sorted((f for f in features if f.kind == "grid"), key=lambda f: f.index)
    codes = {f.code for f in regions} | {f.parent_code for f in features if f.parent_code}
    by_code = {
        r.code: r
        for chunk in _chunks(codes)
        for r in Region.objects.select_for_update().filter(code__in=chunk)
    }
    stored_grids = {
        g.code: g
        for chunk in _chunks({f.code for f in grids})
        for g in Grid.objects.select_for_update().filter(code__in=chunk)
    }
    geometry_changed = False
    for f in regions:
        polygon = f.geometry if f.level != Level.BUILDING else None
        point = (f.geom.y, f.geom.x) if f.level == Level.BUILDING and f.geom is not None else None
        geometry_changed |= f.geom is not None
        existing = by_code.get(f.code)
        if existing is not None:
            region_update(
                region=existing,
                name=f.name,
                households=f.households,
                population=f.population,
                address=f.address,
                boundary=polygon,
                point=point,
                bump_version=False,
            )
        else:
            by_code[f.code] = region_create(
                parent=by_code[f.parent_code] if f.parent_code else None,
                level=f.level,
                code=f.code,
                name=f.name,
                boundary=polygon,
                point=point,
                households=f.households,
                population=f.population,
                address=f.address,
                bump_version=False,
            )
    for f in grids:
        community = by_code[f.parent_code]
        grid = stored_grids.get(f.code)
        if grid is not None:
            geometry_changed |= f.geom is not None or grid.community_id != community.id
            grid_update(
                grid=grid,
                community=community,
                name=f.name,
                households=f.households,
                boundary=f.geometry,
                bump_version=False,
            )
        else:
            geometry_changed = True
            grid_create(
                community=community,
                code=f.code,
                name=f.name,
                boundary=f.geometry,
                households=f.households,
                bump_version=False,
            )
    # Once per import, and even for renames: each process's locator caches the names it returns.
    geometry_version_bump()
    # Buildings follow the grid their point falls in; part of the same transaction so it never lags.
    return buildings_assign_grids() if geometry_changed else 0


def _version_stamp(*, lock: bool) -> tuple[int, str] | None:
    qs = GeometryVersion.objects.filter(pk=1)
    if lock:
        qs = qs.select_for_update()
    return qs.values_list("version", "token").first()


# --- checks against what is stored --------------------------------------------------------------------
def _stored_regions(codes: set[str]) -> dict[str, dict[str, Any]]:
    fields = ("code", "level", "name", "parent__code", "min_lng", "min_lat", "max_lng", "max_lat")
    return {
        row["code"]: row
        for chunk in _chunks(codes - {""})
        for row in Region.objects.filter(code__in=chunk).values(*fields)
    }


def _stored_grid_codes(codes: set[str]) -> set[str]:
    return {
        c
        for chunk in _chunks(codes)
        for c in Grid.objects.filter(code__in=chunk).values_list("code", flat=True)
    }


def _check_tree(
    features: list[FeatureIn],
    stored: dict[str, dict[str, Any]],
    stored_grids: set[str],
    report: ValidationReport,
) -> None:
    in_file = {f.code: f for f in features if f.kind == "region"}
    for f in features:
        refs = {"feature_code": f.code, "feature_name": f.name}
        label = f"{level_label(f.level)}「{f.name}」({f.code})"
        old = stored.get(f.code) if f.kind == "region" else None
        expected = Level.COMMUNITY if f.level == GRID else PARENT_LEVEL[f.level]
        exists = old is not None or (f.kind == "grid" and f.code in stored_grids)
        (report.to_update if exists else report.to_create)[f.level] += 1
        if old is not None and old["level"] != f.level:
            message = _("%(f)s 的编码已被%(level)s「%(name)s」使用") % {
                "f": label,
                "level": level_label(old["level"]),
                "name": old["name"],
            }
            report.add(ERROR, "level_mismatch", message, **refs)
            continue
        if expected is None:
            if f.parent_code:
                report.add(
                    ERROR, "unexpected_parent", _("%(f)s 是最高层级,不能有上级") % {"f": label}, **refs
                )
            continue
        parent = in_file.get(f.parent_code) or stored.get(f.parent_code)
        parent_level = parent.level if isinstance(parent, FeatureIn) else parent["level"] if parent else None
        if parent_level is None and f.parent_code in report.rejected_codes:
            continue  # the parent's own error is reported; one line per mistake is enough
        if parent_level is None:
            report.add(
                ERROR,
                "unknown_parent",
                _("%(f)s 的上级编码 %(p)s 在文件和数据库中都不存在")
                % {"f": label, "p": f.parent_code or "(空)"},
                **refs,
            )
        elif parent_level != expected:
            report.add(
                ERROR,
                "wrong_parent_level",
                _("%(f)s 的上级 %(p)s 是%(got)s,应为%(want)s")
                % {
                    "f": label,
                    "p": f.parent_code,
                    "got": level_label(parent_level),
                    "want": level_label(expected),
                },
                **refs,
            )
        elif old is not None and (old["parent__code"] or "") != f.parent_code:
            report.add(
                ERROR,
                "parent_changed",
                _("%(f)s 已属于上级 %(old)s,不能通过导入改到 %(new)s(请在后台调整)")
                % {"f": label, "old": old["parent__code"], "new": f.parent_code},
                **refs,
            )


def _node_from_feature(f: FeatureIn) -> Node:
    return Node(
        kind=f.kind,
        level=f.level,
        code=f.code,
        name=f.name,
        parent_code=f.parent_code,
        geom=f.geom,
        in_file=True,
    )


def _context_nodes(features: list[FeatureIn], stored: dict[str, dict[str, Any]]) -> list[Node]:
    """Stored rows the file's features will sit beside: neighbours, parents and children of file regions."""
    region_codes = {f.code for f in features if f.kind == "region"}
    grid_codes = {f.code for f in features if f.kind == "grid"}
    boxes = [f.geom.bounds for f in features if f.geom is not None]
    boxes += [
        (r["min_lng"], r["min_lat"], r["max_lng"], r["max_lat"])
        for r in stored.values()
        if r["min_lng"] is not None
    ]
    near = Q(pk__in=[])
    if boxes:
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
        near = Q(min_lng__lte=x1, max_lng__gte=x0, min_lat__lte=y1, max_lat__gte=y0)
    # First ids and names only; geometry is fetched afterwards for the rows the file does not replace.
    polygons = Region.objects.exclude(level=Level.BUILDING).filter(boundary__isnull=False)
    queries = [polygons.filter(near)]
    queries += [polygons.filter(parent__code__in=chunk) for chunk in _chunks(region_codes)]
    queries += [Region.objects.filter(code__in=chunk) for chunk in _chunks(set(stored) - region_codes)]
    rows = {
        r["code"]: r
        for qs in queries
        for r in qs.values("id", "code", "name", "level", "parent__code")
        if r["code"] not in region_codes
    }
    shapes = _stored_shapes(Region, [r["id"] for r in rows.values()])
    nodes = [
        Node(
            kind="region",
            level=r["level"],
            code=r["code"],
            name=r["name"],
            parent_code=r["parent__code"] or "",
            geom=shapes.get(r["id"]),
            in_file=False,
        )
        for r in rows.values()
    ]
    grid_queries = [Grid.objects.filter(near, boundary__isnull=False)]
    grid_queries += [Grid.objects.filter(community__code__in=chunk) for chunk in _chunks(region_codes)]
    grid_rows = {
        g["code"]: g
        for qs in grid_queries
        for g in qs.values("id", "code", "name", "community__code")
        if g["code"] not in grid_codes
    }
    grid_shapes = _stored_shapes(Grid, [g["id"] for g in grid_rows.values()])
    nodes += [
        Node(
            kind="grid",
            level=GRID,
            code=g["code"],
            name=g["name"],
            parent_code=g["community__code"],
            geom=grid_shapes.get(g["id"]),
            in_file=False,
        )
        for g in grid_rows.values()
    ]
    return nodes


def _stored_shapes(model: type[Region] | type[Grid], ids: list[int]) -> dict[int, BaseGeometry]:
    """Boundaries by id, parsed by GEOS straight from the stored text (5x faster than json + shape)."""
    out: dict[int, BaseGeometry] = {}
    for start in range(0, len(ids), _CHUNK):
        rows = list(
            model.objects.filter(pk__in=ids[start : start + _CHUNK], boundary__isnull=False)
            .annotate(text=Cast("boundary", TextField()))
            .values_list("id", "text")
        )
        out.update(zip([r[0] for r in rows], shapely.from_geojson([r[1] for r in rows]), strict=True))
    return out


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
