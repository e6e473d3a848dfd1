"""The 分类分色 care registry (seed 002): who needs care, how urgently, how often someone visits, and the
visits themselves.

- ``CareCategory`` (独居老人, 高龄, 失能半失能 ...) and ``CareLevel`` (red / yellow / green, with the visit
  interval in days) are admin-editable configuration. Each category names its legal basis and how long a
  closed record is kept.
- ``CareRecord``: one person on the registry (one active record per resident), with their categories,
  level, the grid worker whose visit plan they are on, the legal basis recorded when the record was
  opened, and ``next_visit_due`` (last visit + interval, moved to a working day; kept by the services and
  read by the overdue sweep through a partial index).
- ``CareVisit`` (door / phone) with notes and photos (``CareVisitPhoto``, stored by the upload pipeline).

Only named roles read it (``care.view``: the grid worker in their grid, the back office and the community
secretary in their community; PI-3). No I/O here.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.pii import PiiTag

CARE_BASIS = "履行法定职责(《老年人权益保障法》《社会救助暂行办法》《残疾人保障法》等,见各类别的依据)"
CARE_RETENTION = "关爱记录关闭后按类别的保存期限(默认3年),到期由定时任务删除"


class CareCategory(models.Model):
    """A kind of need (独居老人, 高龄, 低保/特困 ...), with the law that makes the register lawful."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    legal_basis = models.TextField(_("处理依据"), help_text=_("为何可以登记该类人员(PIPL 第13条)"))
    legal_reference = models.CharField(_("法规出处"), max_length=200)
    retention_days = models.PositiveIntegerField(_("关闭后保存天数"), default=3 * 365)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关爱类别")
        verbose_name_plural = _("关爱类别")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.name


class LevelColour(models.TextChoices):
    RED = "red", _("红色")
    YELLOW = "yellow", _("黄色")
    GREEN = "green", _("绿色")


class CareLevel(models.Model):
    """红 / 黄 / 绿 and how often a person at that level is visited (admin-editable)."""

    code = models.CharField(_("颜色"), max_length=10, choices=LevelColour.choices, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    visit_interval_days = models.PositiveSmallIntegerField(_("走访间隔(天)"))
    description = models.CharField(_("适用情形"), max_length=200, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("关爱等级")
        verbose_name_plural = _("关爱等级")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name}(每{self.visit_interval_days}天)"


class CareStatus(models.TextChoices):
    ACTIVE = "active", _("关爱中")  # on the registry and on a visit plan
    CLOSED = "closed", _("已结束")  # moved away, no longer in need, deceased; kept until retention_until


class CareRecord(TimeStampedModel):
    resident = models.ForeignKey(
        "people.Resident", verbose_name=_("居民"), on_delete=models.PROTECT, related_name="care_records"
    )
    categories = models.ManyToManyField(CareCategory, verbose_name=_("类别"), related_name="records")
    level = models.ForeignKey(
        CareLevel, verbose_name=_("等级"), on_delete=models.PROTECT, related_name="records"
    )
    # Whose visit plan the person is on (a grid worker of the grid).
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访责任人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_records",
    )
    # A plan-specific interval (e.g. daily phone calls during a heat wave); empty = the level's.
    interval_days_override = models.PositiveSmallIntegerField(
        _("走访间隔(天,留空按等级)"), null=True, blank=True
    )
    status = models.CharField(_("状态"), max_length=10, choices=CareStatus.choices, default=CareStatus.ACTIVE)
    opened_on = models.DateField(_("登记日期"))
    closed_on = models.DateField(_("结束日期"), null=True, blank=True)
    close_reason = models.CharField(_("结束原因"), max_length=200, blank=True)
    # Recorded when the record is opened (from its categories), so later edits of a category do not
    # rewrite why this person was registered.
    legal_basis = models.TextField(_("处理依据"))
    legal_reference = models.CharField(_("法规出处"), max_length=400)
    retention_until = models.DateField(_("保存至"), null=True, blank=True)
    situation = models.TextField(_("基本情况"), blank=True)
    last_visit_at = models.DateTimeField(_("最近走访"), null=True, blank=True)
    next_visit_due = models.DateField(_("下次走访截止"), null=True, blank=True)
    # Compare-and-set marker of the overdue sweep: the due date it last notified about.
    overdue_notified_due = models.DateField(null=True, blank=True, editable=False)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region_path = models.CharField(max_length=400, editable=False, db_index=True)

    objects: ClassVar[ScopedQuerySet[CareRecord]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.CARE_VIEW, region_path="region_path", grid="grid")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "level": PiiTag(
            category="care_level",
            purpose="分类分色关爱:按困难程度确定走访频次",
            retention=CARE_RETENTION,
            sensitive=True,
            legal_basis=CARE_BASIS,
        ),
        "categories": PiiTag(
            category="care_level",
            purpose="分类分色关爱:困难类别(健康、残疾、经济状况等)",
            retention=CARE_RETENTION,
            sensitive=True,
            legal_basis=CARE_BASIS,
        ),
        "situation": PiiTag(
            category="health",
            purpose="走访所需的基本情况(健康、照护、家庭)",
            retention=CARE_RETENTION,
            sensitive=True,
            legal_basis=CARE_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("关爱对象")
        verbose_name_plural = _("关爱对象")
        ordering = ["next_visit_due", "id"]
        indexes = [
            # The overdue sweep and "overdue first" lists: active records by due date.
            models.Index(
                fields=["next_visit_due"],
                name="care_active_due",
                condition=models.Q(status="active"),
            ),
            # A grid worker's visit plan: their active records by due date.
            models.Index(fields=["worker", "status", "next_visit_due"], name="care_worker_plan"),
            # The retention job: closed records past their retention date.
            models.Index(fields=["status", "retention_until"], name="care_retention"),
        ]
        constraints = [
            # One active record per person: a second need is a second category, not a second record.
            models.UniqueConstraint(
                fields=["resident"], condition=models.Q(status="active"), name="care_one_active_per_resident"
            ),
        ]

    def __str__(self) -> str:
        return f"关爱对象 #{self.pk}"


CARE_EVENT_LABELS = {
    "open": _("列入关爱名单"),
    "level": _("调整等级"),
    "categories": _("调整类别"),
    "worker": _("更换走访责任人"),
    "interval": _("调整走访间隔"),
    "situation": _("更新基本情况"),
    "close": _("结束关爱"),
}


class CareRecordEvent(models.Model):
    """History of a record: opened, level changed, categories changed, reassigned, closed."""

    record = models.ForeignKey(CareRecord, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=30)
    from_value = models.CharField(_("原值"), max_length=200, blank=True)
    to_value = models.CharField(_("新值"), max_length=200, blank=True)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("关爱对象变更记录")
        verbose_name_plural = _("关爱对象变更记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d}"

    @property
    def action_label(self) -> str:
        return str(CARE_EVENT_LABELS.get(self.action, self.action))


class VisitKind(models.TextChoices):
    DOOR = "door", _("入户走访")
    PHONE = "phone", _("电话问候")


class CareVisit(models.Model):
    record = models.ForeignKey(
        CareRecord, verbose_name=_("关爱对象"), on_delete=models.CASCADE, related_name="visits"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("走访人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="care_visits",
    )
    kind = models.CharField(_("方式"), max_length=10, choices=VisitKind.choices)
    visited_at = models.DateTimeField(_("走访时间"))
    notes = models.TextField(_("走访情况"), blank=True)
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    grid = models.ForeignKey(
        "places.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    region_path = models.CharField(max_length=400, editable=False, db_index=True)

    objects: ClassVar[ScopedQuerySet[CareVisit]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.CARE_VIEW, region_path="region_path", grid="grid")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "notes": PiiTag(
            category="health",
            purpose="走访情况记录(身体、生活、需求)",
            retention=CARE_RETENTION,
            sensitive=True,
            legal_basis=CARE_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["-visited_at", "-id"]
        indexes = [
            # A record's visit history, newest first.
            models.Index(fields=["record", "-visited_at"], name="carevisit_record_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.visited_at:%Y-%m-%d}"


class CareVisitPhoto(models.Model):
    """A photo taken on a visit, stored by ``linli.security.uploads`` (EXIF/GPS stripped, random name)."""

    visit = models.ForeignKey(CareVisit, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(default=0)
    sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "file": PiiTag(
            category="photo",
            purpose="走访留痕(可能拍到居民本人或居所)",
            retention=CARE_RETENTION,
            sensitive=True,
            legal_basis=CARE_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("走访照片")
        verbose_name_plural = _("走访照片")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.file.rsplit("/", 1)[-1]
