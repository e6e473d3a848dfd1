"""The 办事指南: one row per service item a station can offer (政务, 便民, 特色, 公益).

Time limits are in working days (``linli.workdays``); ``promised_days`` = 0 means 即办 (done on the spot).
The pinyin columns are search keys derived from the name and keywords by ``linli.catalog.pinyin``; the
services keep them in step, never a ``save()`` override.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.core.models import TimeStampedModel


class Category(models.TextChoices):
    """What kind of service an item is (seed 000: 政务服务 + 便民服务 + 特色暖心服务)."""

    GOVERNMENT = "government", _("政务服务")  # an administrative matter with a legal basis and a time limit
    CONVENIENCE = "convenience", _("便民服务")  # everyday help: payments, certificates of residence, repairs
    FEATURED = "featured", _("特色服务")  # a station's own "N" of "1+N": 临时看护, 义剪, 代办 ...
    WELFARE = "welfare", _("公益服务")  # free help by volunteers and partners: 爱心义诊, 法律咨询 ...


class ServiceItem(TimeStampedModel):
    code = models.CharField(_("事项编码"), max_length=40, unique=True)
    name = models.CharField(_("事项名称"), max_length=100)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    department = models.CharField(_("主管部门"), max_length=100, blank=True)
    summary = models.TextField(_("事项说明"), blank=True)
    # Other names residents use ("低保", "低保证"), comma-separated; searched like the name.
    keywords = models.CharField(_("别名/关键词"), max_length=200, blank=True)
    conditions = models.TextField(_("办理条件"), blank=True)
    materials = models.JSONField(_("所需材料"), default=list, blank=True, help_text=_("字符串列表"))
    steps = models.JSONField(_("办理流程"), default=list, blank=True, help_text=_("字符串列表"))
    legal_basis = models.TextField(_("设定依据"), blank=True)
    legal_days = models.PositiveSmallIntegerField(
        _("法定时限(工作日)"), null=True, blank=True, help_text=_("法律法规规定的办结时限;空表示无")
    )
    promised_days = models.PositiveSmallIntegerField(
        _("承诺时限(工作日)"), null=True, blank=True, help_text=_("0 表示即办")
    )
    fee = models.CharField(_("收费标准"), max_length=100, default="不收费")
    universal = models.BooleanField(_("通办"), default=False, help_text=_("任一服务阵地均可受理"))
    online = models.BooleanField(_("不见面办理"), default=False, help_text=_("可网上或掌上办理"))
    online_note = models.CharField(_("网办渠道"), max_length=200, blank=True)
    agency_allowed = models.BooleanField(_("可代办"), default=False)
    appointment_required = models.BooleanField(_("须预约"), default=False)
    # Part of every community center's basic menu (the "1" of "1+N").
    basic = models.BooleanField(_("基本服务"), default=False)
    faqs = models.JSONField(
        _("常见问题"), default=list, blank=True, help_text=_('[{"q": "...", "a": "..."}]')
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)
    # Search keys (lower-case ASCII): syllables joined by spaces, and the initials of name and keywords.
    name_pinyin = models.CharField(max_length=400, blank=True, editable=False)
    name_initials = models.CharField(max_length=200, blank=True, editable=False)

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = _("服务事项")
        ordering = ["sort_order", "code"]
        indexes = [
            # The catalogue list filtered by category ("政务服务" tab), in display order.
            models.Index(fields=["category", "is_active", "sort_order"], name="catalog_item_cat_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(category__in=Category.values), name="catalog_item_category_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(legal_days__isnull=True)
                | models.Q(promised_days__isnull=True)
                | models.Q(promised_days__lte=models.F("legal_days")),
                name="catalog_item_promise_within_legal",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in self.keywords.replace("，", ",").split(",") if k.strip()]

    @property
    def is_immediate(self) -> bool:
        """即办: done while the resident waits."""
        return self.promised_days == 0
