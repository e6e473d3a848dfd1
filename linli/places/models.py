"""The administrative tree and the grids inside communities.

Geometry is stored as GeoJSON (WGS84 lon/lat) in JSON fields and decided in process with shapely; there
is no GDAL. Every row also carries its bounding box and a representative point so map and list queries
never have to parse geometry.
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields


class Level(models.TextChoices):
    """A level of the administrative tree, top to bottom."""

    DISTRICT = "district", _("区")
    STREET = "street", _("街道/镇")
    COMMUNITY = "community", _("社区")
    ESTATE = "estate", _("小区/片区")
    BUILDING = "building", _("楼栋")


LEVEL_ORDER: dict[str, int] = {level: i for i, level in enumerate(Level.values)}
# Which level each level's parent must be.
PARENT_LEVEL: dict[str, str | None] = {
    Level.DISTRICT: None,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
    Level.ESTATE: Level.COMMUNITY,
    Level.BUILDING: Level.ESTATE,
}


class GeoBoxed(models.Model):
    """Bounding box and representative point, kept in step with the geometry by the services."""

    boundary = models.JSONField(_("边界(GeoJSON)"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    min_lng = models.FloatField(null=True, blank=True, editable=False)
    min_lat = models.FloatField(null=True, blank=True, editable=False)
    max_lng = models.FloatField(null=True, blank=True, editable=False)
    max_lat = models.FloatField(null=True, blank=True, editable=False)
    area_m2 = models.FloatField(_("面积(平方米)"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Region(GeoBoxed, TimeStampedModel):
    """One node of district → street → community → estate → building."""

    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.CharField(_("层级"), max_length=16, choices=Level.choices)
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    # Materialised path of codes, "/510703/510703001/.../": a subtree is one indexed prefix match.
    path = models.CharField(_("路径"), max_length=400, unique=True, editable=False)
    # Buildings only: the grid their point falls in (set by the locator when geometry changes).
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("所属网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="buildings",
    )
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    objects: ClassVar[ScopedQuerySet[Region]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PLACES, region_path="path", grid="grid")

    class Meta:
        verbose_name = _("行政区域")
        verbose_name_plural = _("行政区域")
        ordering = ["path"]
        indexes = [
            # Children listings and per-level counts ("all communities of this street").
            models.Index(fields=["parent", "level"], name="region_parent_level"),
            # Map layers: regions of one level inside the viewport.
            models.Index(fields=["level", "min_lng", "min_lat"], name="region_level_bbox"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(level=Level.DISTRICT, parent__isnull=True)
                    | (~models.Q(level=Level.DISTRICT) & models.Q(parent__isnull=False))
                ),
                name="region_only_district_is_root",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.get_level_display()})"


class Grid(GeoBoxed, TimeStampedModel):
    """A 网格: a polygon inside one community with its responsible grid worker(s)."""

    community = models.ForeignKey(
        Region,
        verbose_name=_("所属社区"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": Level.COMMUNITY},
    )
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    households = models.PositiveIntegerField(_("户数"), default=0)
    # The community's path, copied so grid rows filter by subtree without a join.
    region_path = models.CharField(max_length=400, editable=False, db_index=True)

    objects: ClassVar[ScopedQuerySet[Grid]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PLACES, region_path="region_path", grid="id")

    class Meta:
        verbose_name = _("网格")
        verbose_name_plural = _("网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class GeometryVersion(models.Model):
    """One row: bumped whenever any boundary changes, so each process rebuilds its locator once."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)
    # A fresh random token per bump: a rolled-back bump can never be mistaken for a later one.
    token = models.CharField(max_length=32, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("几何版本")
        verbose_name_plural = _("几何版本")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="geometry_version_singleton")]

    def __str__(self) -> str:
        return f"v{self.version}"
