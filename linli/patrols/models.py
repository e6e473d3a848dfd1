"""Patrols (网格巡查): who walked which grid when, the GPS track, the buildings passed, the problems found.

A patrol's track is personal data (where a named worker was, minute by minute). It is readable by the
worker, and by community secretaries and street staff over the patrol's community (``patrols.view``);
reads by anyone but the worker are audited. Points, building passes and the track summary's geometry are
deleted ``LINLI_PATROL_RETENTION_DAYS`` after the patrol ends (``services.retention``); the patrol row
itself stays as a work record (who patrolled which grid, when, how far) with ``track_purged_at`` set.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.pii import PiiTag

_TRACK_RETENTION = "巡查结束后180天(LINLI_PATROL_RETENTION_DAYS),由定时任务删除"
_TRACK_PURPOSE = "核实巡查到位、统计网格巡查覆盖率(网格化管理)"
_TRACK_BASIS = "履行法定职责(网格化服务管理);工作人员履职记录"


def _track_tag(purpose: str = _TRACK_PURPOSE) -> PiiTag:
    return PiiTag(
        category="location",
        purpose=purpose,
        retention=_TRACK_RETENTION,
        retention_days=180,
        sensitive=True,  # 行踪轨迹 is sensitive personal information (PIPL art. 28)
        legal_basis=_TRACK_BASIS,
    )


class PatrolStatus(models.TextChoices):
    ACTIVE = "active", _("巡查中")  # started, points are arriving
    ENDED = (
        "ended",
        _("已结束"),
    )  # ended by the worker (or by the stale-patrol sweep); late points still accepted


class Patrol(models.Model):
    """One walk of a grid worker through (mostly) their grid."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("网格员"), on_delete=models.PROTECT, related_name="patrols"
    )
    grid = models.ForeignKey(
        "places.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="patrols"
    )
    # The grid's community path, copied: community and street staff see patrols by one prefix match.
    region_path = models.CharField(max_length=400, editable=False)
    # The phone's own id for this patrol: a start retried after a lost answer returns the same patrol.
    client_key = models.CharField(_("客户端编号"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=PatrolStatus.choices, default=PatrolStatus.ACTIVE
    )
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    # The summary, recomputed from the points when the patrol ends (and when late points arrive).
    distance_m = models.FloatField(_("里程(米)"), default=0)
    point_count = models.PositiveIntegerField(_("轨迹点数"), default=0)
    flagged_count = models.PositiveIntegerField(_("异常点数"), default=0)
    building_count = models.PositiveIntegerField(_("经过楼栋数"), default=0)
    summarized_at = models.DateTimeField(_("统计时间"), null=True, blank=True)
    track_purged_at = models.DateTimeField(_("轨迹删除时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[ScopedQuerySet[Patrol]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PATROLS_VIEW, region_path="region_path", owner="worker")
    pii_exempt: ClassVar[dict[str, str]] = {"track_purged_at": "轨迹被删除的时间,不含位置"}

    class Meta:
        verbose_name = _("巡查")
        verbose_name_plural = _("巡查")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["worker", "client_key"], name="patrol_client_key_per_worker"),
            # One patrol at a time per worker; starting another ends the abandoned one first.
            models.UniqueConstraint(
                fields=["worker"], condition=models.Q(status="active"), name="patrol_one_active_per_worker"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__isnull=True) | models.Q(ended_at__gte=models.F("started_at")),
                name="patrol_ends_after_start",
            ),
        ]
        indexes = [
            # "My patrols" and the scoped staff list: newest first by worker / by community subtree.
            models.Index(fields=["worker", "-started_at"], name="patrol_worker_started"),
            models.Index(fields=["region_path", "-started_at"], name="patrol_region_started"),
            # The retention job: ended patrols whose track is still stored, oldest first.
            models.Index(
                fields=["ended_at"],
                condition=models.Q(track_purged_at__isnull=True),
                name="patrol_track_kept",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grid_id}:{self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_active(self) -> bool:
        return self.status == PatrolStatus.ACTIVE

    @property
    def duration_s(self) -> int:
        if self.ended_at is None:
            return 0
        return int((self.ended_at - self.started_at).total_seconds())


class PatrolEvent(models.Model):
    """History of a patrol's transitions (start, end, auto_end, track_purge)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("巡查记录")
        verbose_name_plural = _("巡查记录")
        ordering = ["patrol", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.patrol_id} {self.action}"


class PatrolPoint(models.Model):
    """One GPS fix as the phone recorded it. ``client_seq`` is the phone's counter within the patrol:
    retried and reordered batches insert each fix once (the unique key + insert-or-ignore)."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="points")
    client_seq = models.PositiveIntegerField(_("序号"))
    recorded_at = models.DateTimeField(_("定位时间"))
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    accuracy_m = models.FloatField(_("精度(米)"), null=True, blank=True)
    received_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "lat": _track_tag(),
        "lng": _track_tag(),
        "accuracy_m": _track_tag("判断定位是否可信(精度太差的点不计入轨迹)"),
        "recorded_at": _track_tag("轨迹点的时间(与坐标一起构成行踪)"),
    }

    class Meta:
        verbose_name = _("轨迹点")
        verbose_name_plural = _("轨迹点")
        ordering = ["patrol", "recorded_at", "client_seq"]
        constraints = [
            # Idempotent upload: the same fix sent twice (retry, two tabs, out of order) is stored once.
            models.UniqueConstraint(fields=["patrol", "client_seq"], name="patrol_point_seq_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.patrol_id}#{self.client_seq}"


class PatrolBuildingPass(models.Model):
    """A building the track passed within ``LINLI_PATROL_PASS_RADIUS_M``; rebuilt with the summary."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="passes")
    building = models.ForeignKey("places.Region", on_delete=models.CASCADE, related_name="+")
    # The building's grid at the time (copied): weekly coverage groups passes by grid without a join.
    grid = models.ForeignKey(
        "places.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    passed_at = models.DateTimeField(_("经过时间"))

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "building": _track_tag("经过的楼栋(由轨迹推算),用于巡查覆盖率"),
        "passed_at": _track_tag("经过楼栋的时间(由轨迹推算)"),
    }

    class Meta:
        verbose_name = _("经过楼栋")
        verbose_name_plural = _("经过楼栋")
        ordering = ["patrol", "passed_at", "building"]
        constraints = [
            models.UniqueConstraint(fields=["patrol", "building"], name="patrol_pass_building_unique"),
        ]
        indexes = [
            # Weekly coverage: distinct buildings passed per grid within a week.
            models.Index(fields=["grid", "passed_at"], name="patrol_pass_grid_time"),
        ]

    def __str__(self) -> str:
        return f"{self.patrol_id}→{self.building_id}"


class PatrolCase(models.Model):
    """A problem the worker reported from the patrol page: a case (channel grid_patrol) linked here."""

    patrol = models.ForeignKey(Patrol, on_delete=models.CASCADE, related_name="case_links")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="patrol_links")
    created_at = models.DateTimeField(_("上报时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("巡查发现问题")
        verbose_name_plural = _("巡查发现问题")
        ordering = ["patrol", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["patrol", "case"], name="patrol_case_unique")]

    def __str__(self) -> str:
        return f"{self.patrol_id}→{self.case_id}"
