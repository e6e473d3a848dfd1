"""Admin-editable rules the loop runs on: the escalation ladder, deadlines (SLA) and routing to units."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from linli.cases.models.catalog import CaseKind


class LadderLevel(models.TextChoices):
    """A rung of 四循环: the region level whose dispatcher owns the case. Order lives in the data (rank)."""

    ESTATE = "estate", _("小区")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")
    DISTRICT = "district", _("区")


class EscalationLevel(models.Model):
    """One rung of the ladder 小区 → 社区 → 街道 → 区. Cases move up by rank, never down."""

    code = models.CharField(_("层级"), max_length=16, choices=LadderLevel.choices, unique=True)
    name = models.CharField(_("名称"), max_length=30)
    rank = models.PositiveSmallIntegerField(_("次序"), unique=True, help_text=_("越大越高,案件只会向上升级"))
    is_active = models.BooleanField(_("启用"), default=True, help_text=_("停用的层级在升级时跳过"))

    class Meta:
        verbose_name = _("升级层级")
        verbose_name_plural = _("升级层级")
        ordering = ["rank"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The order must follow the regions (小区 < 社区 < 街道 < 区), and one rung at least stays on.

        The code maps a rung to the region that owns it (an estate's, a community's ...), so a rank order
        against the geography would send cases "up" to a smaller region. Switching a rung off is safe with
        cases on it: they move up from it to the next active rung.
        """
        super().clean()
        geo = list(LadderLevel.values)
        others = EscalationLevel.objects.exclude(pk=self.pk)
        if self.code in geo and self.rank is not None:
            for code, rank in others.values_list("code", "rank"):
                if code in geo and (geo.index(code) < geo.index(self.code)) != (rank < self.rank):
                    raise ValidationError(
                        {
                            "rank": _("次序须与行政层级一致:小区 < 社区 < 街道 < 区(与「%(other)s」冲突)")
                            % {"other": LadderLevel(code).label}
                        }
                    )
        if not self.is_active and not others.filter(is_active=True).exists():
            raise ValidationError({"is_active": _("至少保留一个启用的层级")})


class DurationUnit(models.TextChoices):
    HOURS = "hours", _("工作小时")
    DAYS = "days", _("工作日")


class SlaPolicy(models.Model):
    """Deadlines for one kind × category × level; empty fields match anything, the most specific row wins.

    Specificity, most important first: category (the case's own > an ancestor > any), level, kind.
    """

    kind = models.CharField(_("诉求类型"), max_length=16, choices=CaseKind.choices, blank=True)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sla_policies",
        help_text=_("留空表示全部分类;选择上级分类时对其下所有分类生效"),
    )
    level = models.CharField(_("层级"), max_length=16, choices=LadderLevel.choices, blank=True)
    triage_hours = models.DecimalField(
        _("梳理时限(工作小时)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    accept_hours = models.DecimalField(
        _("接单时限(工作小时)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )
    resolve_amount = models.DecimalField(
        _("办结时限"), max_digits=6, decimal_places=2, validators=[MinValueValidator(Decimal("0.25"))]
    )
    resolve_unit = models.CharField(
        _("办结时限单位"), max_length=8, choices=DurationUnit.choices, default=DurationUnit.DAYS
    )
    warn_fraction = models.DecimalField(
        _("预警比例"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.80"),
        validators=[MinValueValidator(Decimal("0.10")), MaxValueValidator(Decimal("0.99"))],
        help_text=_("时限过去该比例时预警,例如0.8(梳理、接单、办结时限通用)"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["kind", "category_id", "level"]
        constraints = [
            # NULL category compared as 0 so "any category" can exist once per kind × level on both databases.
            models.UniqueConstraint("kind", Coalesce("category", 0), "level", name="cases_slapolicy_unique"),
        ]

    def __str__(self) -> str:
        parts = [
            self.get_kind_display() if self.kind else str(_("全部类型")),
            str(self.category) if self.category_id else str(_("全部分类")),
            self.get_level_display() if self.level else str(_("全部层级")),
        ]
        return " · ".join(parts)


class RoutingRule(models.Model):
    """Category × region subtree → responsible unit. The deepest region wins, then the nearest category."""

    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("留空表示全部分类;上级分类对其下所有分类生效"),
    )
    region = models.ForeignKey(
        "places.Region",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="case_routing_rules",
        help_text=_("对该区域及其下级生效;留空表示全辖区"),
    )
    unit = models.ForeignKey(
        "accounts.Unit", verbose_name=_("责任单位"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        ordering = ["category_id", "region_id"]
        constraints = [
            models.UniqueConstraint(
                Coalesce("category", 0), Coalesce("region", 0), name="cases_routingrule_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category or _('全部分类')} @ {self.region or _('全辖区')} → {self.unit}"
