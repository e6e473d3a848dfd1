"""Topology checks before a GeoJSON import: children inside parents, siblings apart, parents covered.

Pure geometry, no database: the caller hands over nodes (the file's features plus the stored rows they will
sit beside after the import) and a report to fill. Every area is measured in square metres in one local
projection centred on the data (``to_metric``), so figures in different messages are comparable.

Tolerances, chosen so that digitising noise on shared borders never blocks an import but real mistakes do:
- a piece (overlap, part outside the parent, gap) of at most ``AREA_TOLERANCE_M2`` is ignored;
- a piece that vanishes when eroded by half of ``SLIVER_WIDTH_M`` is a sliver: narrower than 1 m along its
  whole length, the mark of two sources tracing one border slightly differently. Sliver overlaps and
  slivers outside the parent are warnings; sliver gaps are ignored;
- anything wider is an error (overlap, outside the parent) or a warning (gap; ``--strict`` blocks on it).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from shapely import STRtree
from shapely.geometry.base import BaseGeometry

from linli.places.geometry import to_metric
from linli.places.models import Level

AREA_TOLERANCE_M2 = 1.0
SLIVER_WIDTH_M = 1.0
# A building point this far outside its estate is reported (points are often drawn on the outline).
POINT_TOLERANCE_M = 1.0

ERROR = "error"
WARNING = "warning"
GRID = "grid"

# Whose children must tile the parent: estates need not cover a community, grids must.
COVERING_CHILD_LEVEL = {Level.DISTRICT: Level.STREET, Level.STREET: Level.COMMUNITY, Level.COMMUNITY: GRID}
OVERLAP_LEVELS = [Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.ESTATE, GRID]


def level_label(level: str) -> str:
    return _("网格") if level == GRID else str(Level(level).label)


@dataclass(frozen=True)
class Problem:
    """One finding, named by the feature (and the other feature of a pair) it concerns."""

    severity: str
    code: str
    message: str
    feature_code: str = ""
    feature_name: str = ""
    other_code: str = ""
    other_name: str = ""
    area_m2: float | None = None
    # (lng, lat) of a point inside the problem area, so it can be found on a map.
    where: tuple[float, float] | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def severity_label(self) -> str:
        return _("错误") if self.is_error else _("警告")

    def __str__(self) -> str:
        text = f"[{self.severity_label}] {self.code}: {self.message}"
        if self.where:
            text += _("(位置约 %(lng).6f, %(lat).6f)") % {"lng": self.where[0], "lat": self.where[1]}
        return text


@dataclass
class ValidationReport:
    """Everything found before writing; errors block an import, warnings only under ``strict``."""

    problems: list[Problem] = field(default_factory=list)
    feature_count: int = 0
    # Per level: how many features create a row, how many update an existing one (same code).
    to_create: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    to_update: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Codes of features rejected while parsing, so their children are not also reported as orphans.
    rejected_codes: set[str] = field(default_factory=set)

    def add(self, severity: str, code: str, message: str, **refs: Any) -> None:
        self.problems.append(Problem(severity=severity, code=code, message=message, **refs))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    def blocks(self, *, strict: bool) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def sorted_problems(self) -> list[Problem]:
        return self.errors + self.warnings

    def summary(self) -> str:
        return _("共 %(n)d 个要素:%(e)d 个错误,%(w)d 个警告") % {
            "n": self.feature_count,
            "e": len(self.errors),
            "w": len(self.warnings),
        }


@dataclass
class Node:
    """A region or grid as it will be after the import: from the file (``in_file``) or already stored."""

    kind: str  # "region" or "grid": codes are unique per kind
    level: str  # a Level value, or "grid"
    code: str
    name: str
    parent_code: str
    geom: BaseGeometry | None
    in_file: bool

    @property
    def label(self) -> str:
        return f"{level_label(self.level)}「{self.name}」({self.code})"

    @property
    def polygonal(self) -> bool:
        return self.geom is not None and self.geom.geom_type in {"Polygon", "MultiPolygon"}


def topology_check(nodes: list[Node], report: ValidationReport) -> None:
    located = [n for n in nodes if n.geom is not None]
    if not located:
        return
    min_x, min_y, max_x, max_y = shapely.total_bounds([n.geom for n in located])
    checker = _Checker(report=report, origin=((min_x + max_x) / 2, (min_y + max_y) / 2))
    regions = {n.code: n for n in nodes if n.kind == "region"}
    checker.containment(nodes, regions)
    checker.overlaps(nodes)
    checker.gaps(nodes, regions)


@dataclass
class _Checker:
    """Set operations run on lon/lat, as the edges were drawn (a projected edge would bow and leave
    false slivers along every shared border); only the resulting pieces are projected to be measured."""

    report: ValidationReport
    origin: tuple[float, float]

    def severity(self, piece: BaseGeometry) -> tuple[str | None, float]:
        """(None, area) for noise, WARNING for a sliver narrower than SLIVER_WIDTH_M, ERROR otherwise."""
        if piece.is_empty or piece.area == 0:
            return None, 0.0
        metric = to_metric(piece, *self.origin)
        area = round(float(metric.area), 1)
        if area <= AREA_TOLERANCE_M2:
            return None, area
        if shapely.buffer(metric, -SLIVER_WIDTH_M / 2).is_empty:
            return WARNING, area
        return ERROR, area

    def containment(self, nodes: list[Node], regions: dict[str, Node]) -> None:
        pairs = []
        for child in nodes:
            parent = regions.get(child.parent_code)
            if child.geom is None or parent is None or not parent.polygonal:
                continue
            if child.in_file or parent.in_file:
                pairs.append((child, parent))
        polygons = [(c, p) for c, p in pairs if c.polygonal]
        if polygons:
            outside = shapely.difference(
                np.array([c.geom for c, _p in polygons]), np.array([p.geom for _c, p in polygons])
            )
            for (child, parent), piece in zip(polygons, outside, strict=True):
                severity, area = self.severity(piece)
                if severity is None:
                    continue
                self.report.add(
                    severity,
                    "outside_parent" if severity == ERROR else "outside_parent_sliver",
                    _("%(child)s 超出上级%(parent)s %(area)s 平方米")
                    % {"child": child.label, "parent": parent.label, "area": _fmt_area(area)},
                    **_refs(child, parent, area, _where(piece)),
                )
        for child, parent in pairs:
            point, outline = child.geom, parent.geom
            if child.polygonal or point is None or outline is None or outline.covers(point):
                continue
            distance = float(to_metric(outline, *self.origin).distance(to_metric(point, *self.origin)))
            if distance > POINT_TOLERANCE_M:
                self.report.add(
                    WARNING,
                    "point_outside_parent",
                    _("%(child)s 的位置在上级%(parent)s 之外 %(d).0f 米")
                    % {"child": child.label, "parent": parent.label, "d": distance},
                    **_refs(child, parent, None, _where(point)),
                )

    def overlaps(self, nodes: list[Node]) -> None:
        """Same-level pairs whose interiors meet, found with an STRtree (siblings and neighbours alike)."""
        for level in OVERLAP_LEVELS:
            group = [n for n in nodes if n.level == level and n.polygonal]
            if len(group) < 2:
                continue
            geoms = np.array([n.geom for n in group])
            tree = STRtree(geoms)
            left, right = tree.query(geoms)  # bounding boxes only: each pair once below, then one DE-9IM test
            in_file = np.array([n.in_file for n in group])
            keep = (left < right) & (in_file[left] | in_file[right])
            left, right = left[keep], right[keep]
            # Interiors intersect; neighbours that only share an edge are not an overlap. One relate per pair
            # is ~5x faster than the tree's "overlaps" + "contains" predicates on 5k grids.
            inner = shapely.relate_pattern(geoms[left], geoms[right], "T********")
            left, right = left[inner], right[inner]
            pieces = shapely.intersection(geoms[left], geoms[right])
            for i, j, piece in zip(left.tolist(), right.tolist(), pieces, strict=True):
                severity, area = self.severity(piece)
                if severity is None:
                    continue
                a, b = (group[i], group[j]) if group[i].in_file else (group[j], group[i])
                self.report.add(
                    severity,
                    "overlap" if severity == ERROR else "overlap_sliver",
                    _("%(a)s 与 %(b)s 重叠 %(area)s 平方米")
                    % {"a": a.label, "b": b.label, "area": _fmt_area(area)},
                    **_refs(a, b, area, _where(piece)),
                )

    def gaps(self, nodes: list[Node], regions: dict[str, Node]) -> None:
        """Where a parent's children leave part of it uncovered (district/streets … community/grids)."""
        children: dict[str, list[Node]] = defaultdict(list)
        levels_present = {n.level for n in nodes}
        for node in nodes:
            if node.polygonal and node.parent_code in regions:
                children[node.parent_code].append(node)
        for parent in regions.values():
            child_level = COVERING_CHILD_LEVEL.get(parent.level)  # type: ignore[call-overload]
            if child_level is None or child_level not in levels_present or not parent.polygonal:
                continue
            kids = [c for c in children.get(parent.code, []) if c.level == child_level]
            if not (parent.in_file or any(k.in_file for k in kids)):
                continue
            gap = parent.geom.difference(shapely.union_all([k.geom for k in kids])) if kids else parent.geom  # type: ignore[union-attr]
            parts = [
                (p, area) for p in shapely.get_parts(gap) for sev, area in [self.severity(p)] if sev == ERROR
            ]
            if not parts:
                continue
            total = round(sum(area for _p, area in parts), 1)
            largest = max(parts, key=lambda pa: pa[1])[0]
            self.report.add(
                WARNING,
                "gap",
                _("%(parent)s 有 %(n)d 处未被%(child)s覆盖,共 %(area)s 平方米")
                % {
                    "parent": parent.label,
                    "n": len(parts),
                    "child": level_label(child_level),
                    "area": _fmt_area(total),
                },
                **_refs(parent, None, total, _where(largest)),
            )


def _where(piece: BaseGeometry) -> tuple[float, float]:
    """A point inside the (largest part of the) piece, to find it on a map."""
    parts = shapely.get_parts(piece)
    largest = max(parts, key=lambda p: p.area) if len(parts) else piece
    point = largest.representative_point()
    return (round(float(point.x), 6), round(float(point.y), 6))


def _fmt_area(area: float) -> str:
    return f"{area:,.0f}" if area >= 10 else f"{area:.1f}"


def _refs(
    node: Node, other: Node | None, area: float | None, where: tuple[float, float] | None
) -> dict[str, Any]:
    return {
        "feature_code": node.code,
        "feature_name": node.name,
        "other_code": other.code if other else "",
        "other_name": other.name if other else "",
        "area_m2": area,
        "where": where,
    }
