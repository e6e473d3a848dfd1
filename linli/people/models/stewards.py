"""Grid workers and stewards (seed 002): 网格员, 红色小管家, 大学生社区小管家 and 兼职小管家 (delivery riders,
couriers), how they were recruited and vetted (招募 → 联审 → 上岗), the buildings they look after, and
what the 三亮 card on each building shows (亮组织、亮职责、亮身份).

The card is public by design: for an ACTIVE steward it shows the full name, photo, duty and the duty phone,
because the point of 三亮 is that residents can find and call them. Everything else (applicants, suspended
or departed stewards) is staff-only and masked like any personal data. The duty phone is a public duty
number, still stored encrypted (PI-1) with its purpose tagged. No I/O here.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

STEWARD_RETENTION_DAYS = 365
_RETENTION = "在岗期间公示;离任或未通过联审后1年删除"
_BASIS = "履行职责(三亮公示:亮组织、亮职责、亮身份);本人同意(招募登记时)"


class StewardKind(models.TextChoices):
    GRID_WORKER = "grid_worker", _("网格员")
    RED = "red", _("红色小管家")
    STUDENT = "student", _("大学生社区小管家")
    PART_TIME = "part_time", _("兼职小管家(外卖员、快递员)")


class StewardStatus(models.TextChoices):
    """Recruitment and review; the table in ``people/transitions.py`` says which moves are allowed."""

    APPLIED = "applied", _("已报名")  # recruited or volunteered, not yet reviewed
    VETTED = "vetted", _("联审通过")  # 联审 (party, police, community) passed, waiting to start
    ACTIVE = "active", _("在岗")  # on duty: shown on the 三亮 cards of their buildings
    SUSPENDED = "suspended", _("暂停")  # off the cards for now (complaint, leave)
    LEFT = "left", _("已离任")  # left, or not accepted; kept a year for the record


class Steward(TimeStampedModel):
    kind = models.CharField(_("类型"), max_length=20, choices=StewardKind.choices)
    name = models.CharField(_("姓名"), max_length=50)
    # The sign-in account, for those who have one (grid workers always do).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="steward_profiles",
    )
    organisation = models.CharField(
        _("所属组织"), max_length=100, blank=True
    )  # 亮组织: 党支部, 外卖站点, 高校
    duty = models.CharField(_("职责"), max_length=200)  # 亮职责
    duty_phone = EncryptedTextField(_("值守电话"), blank=True, default="")
    duty_phone_index = BlindIndexField(source="duty_phone", kind="phone")
    photo = models.CharField(_("照片"), max_length=200, blank=True)  # a linli.security.uploads name
    community = models.ForeignKey(
        "places.Region",
        verbose_name=_("所属社区"),
        on_delete=models.PROTECT,
        related_name="stewards_in_community",
        limit_choices_to={"level": "community"},
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stewards",
    )
    region_path = models.CharField(max_length=400, editable=False, db_index=True)
    buildings = models.ManyToManyField(
        "places.Region",
        verbose_name=_("负责楼栋"),
        blank=True,
        related_name="stewards",
        limit_choices_to={"level": "building"},
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=StewardStatus.choices, default=StewardStatus.APPLIED
    )
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    objects: ClassVar[ScopedQuerySet[Steward]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PEOPLE, region_path="region_path", grid="grid")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "name": PiiTag(
            category="name",
            purpose="三亮公示(在岗时公开全名)与队伍管理",
            retention=_RETENTION,
            retention_days=STEWARD_RETENTION_DAYS,
            legal_basis=_BASIS,
        ),
        "duty_phone": PiiTag(
            category="phone",
            purpose="值守电话:在岗时在楼栋三亮卡上公开,供居民联系",
            retention=_RETENTION,
            retention_days=STEWARD_RETENTION_DAYS,
            legal_basis=_BASIS,
        ),
        "duty_phone_index": PiiTag(
            category="phone",
            purpose="按值守电话查重(密钥哈希,不可逆)",
            retention=_RETENTION,
            retention_days=STEWARD_RETENTION_DAYS,
            legal_basis=_BASIS,
        ),
        "photo": PiiTag(
            category="photo",
            purpose="三亮公示照片(在岗时公开)",
            retention=_RETENTION,
            retention_days=STEWARD_RETENTION_DAYS,
            legal_basis=_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("网格员与小管家")
        verbose_name_plural = _("网格员与小管家")
        ordering = ["region_path", "kind", "name"]
        indexes = [
            # The registry list filtered by status (and the retention job: left before a date).
            models.Index(fields=["status", "status_changed_at"], name="steward_status_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def is_public(self) -> bool:
        """Shown on the 三亮 cards (full name, photo, duty phone)."""
        return self.status == StewardStatus.ACTIVE


class StewardEvent(models.Model):
    """One transition of a steward's status (who, when, from, to, why)."""

    steward = models.ForeignKey(Steward, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(_("操作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("小管家状态记录")
        verbose_name_plural = _("小管家状态记录")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.action}: {self.from_status} → {self.to_status}"

    @property
    def action_label(self) -> str:
        from linli.people.transitions import TRANSITIONS

        rule = TRANSITIONS.get(self.action)
        return str(rule.label) if rule else str(_("报名登记")) if self.action == "apply" else self.action

    @property
    def to_label(self) -> str:
        return (
            str(StewardStatus(self.to_status).label)
            if self.to_status in StewardStatus.values
            else self.to_status
        )
