"""What a case is about: its kind, the channel it came in by, and the admin-editable category tree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseKind(models.TextChoices):
    COMPLAINT = "complaint", _("投诉")  # something is wrong and someone should fix it
    HELP = "help", _("求助")  # a resident needs a hand
    INQUIRY = "inquiry", _("咨询")  # a question; often answered directly at triage
    SUGGESTION = "suggestion", _("建议")  # an idea for the community
    TIP_OFF = "tip_off", _("举报")  # a report about someone else's wrongdoing; never published
    PRAISE = "praise", _("表扬")  # thanks for a person or a unit
    AGENCY = "agency", _("代办")  # "please do this errand for me" (代办服务)


class Channel(models.TextChoices):
    RESIDENT = "resident", _("居民端")
    BUILDING_QR = "building_qr", _("楼栋二维码")
    OPEN311 = "open311", _("Open311接口")
    HOTLINE = "hotline", _("12345热线")
    GRID_PATROL = "grid_patrol", _("网格巡查")
    WINDOW = "window", _("窗口受理")


# The values as sets: ``Choices.values`` builds a new list (with lazy labels alongside) on every access.
CASE_KINDS = frozenset(CaseKind.values)
CHANNELS = frozenset(Channel.values)
# Channels a resident may use for themself; the others are staff intake (代客) or integrations.
RESIDENT_CHANNELS = frozenset({Channel.RESIDENT, Channel.BUILDING_QR})
STAFF_INTAKE_CHANNELS = frozenset({Channel.WINDOW, Channel.GRID_PATROL, Channel.HOTLINE})


class Category(models.Model):
    """One node of the category tree. Leaves are what residents pick and what Open311 calls services."""

    code = models.CharField(_("编码"), max_length=60, unique=True)
    name = models.CharField(_("名称"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.CharField(_("说明"), max_length=200, blank=True)
    default_kind = models.CharField(
        _("默认诉求类型"), max_length=16, choices=CaseKind.choices, default=CaseKind.COMPLAINT
    )
    sort = models.PositiveSmallIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name
