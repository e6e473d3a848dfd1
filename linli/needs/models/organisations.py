"""Organisations: social organisations, co-building units (共建单位) and businesses, with the incubation
pipeline of seed 003 (孵化申请 → 初步评估 → 注册登记 → 入驻托管 → 政府购买服务)."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.needs.models.common import EventBase
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag


class OrgKind(models.TextChoices):
    SOCIAL_ORG = "social_org", _("社会组织")
    CO_BUILDING = "co_building", _("共建单位")  # 驻区机关、企事业单位 in the 联合党委 / 党建联席会
    BUSINESS = "business", _("商户企业")


class OrgFocus(models.TextChoices):
    """Seed 003's four kinds of social organisation the street cultivates (and "other")."""

    NONE = "", _("未分类")
    CULTURE = "culture", _("文体活动类")
    RIGHTS = "rights", _("维权服务类")
    CHARITY = "charity", _("慈善类")
    SERVICE = "service", _("服务类")


class IncubationStage(models.TextChoices):
    NONE = "none", _("未入孵")  # co-building units, businesses, organisations that never applied
    APPLIED = "applied", _("孵化申请")  # applied to the incubation platform
    ASSESSED = "assessed", _("初步评估通过")  # the incubator assessed the application and took it on
    REGISTERED = "registered", _("注册登记")  # helped to register (备案/登记) with civil affairs
    HOSTED = "hosted", _("入驻托管")  # hosted: finances kept in trust, space and equipment provided
    SERVICES_PURCHASED = "services_purchased", _("政府购买服务")  # the government buys its services
    DECLINED = "declined", _("评估未通过")  # the assessment refused it (may apply again)
    WITHDRAWN = "withdrawn", _("退出孵化")  # left the pipeline (may apply again)


# Which stages count as "in the pipeline" on the incubation board.
INCUBATING = frozenset(
    {
        IncubationStage.APPLIED,
        IncubationStage.ASSESSED,
        IncubationStage.REGISTERED,
        IncubationStage.HOSTED,
        IncubationStage.SERVICES_PURCHASED,
    }
)
_ORG_RETENTION = "组织退出登记后3年"


class Organisation(TimeStampedModel):
    """An organisation that offers resources and claims projects."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=OrgKind.choices)
    focus = models.CharField(_("服务领域"), max_length=16, choices=OrgFocus.choices, blank=True, default="")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    region = models.ForeignKey(
        "places.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="organisations"
    )
    # The region's path, copied for subtree filters without a join.
    region_path = models.CharField(max_length=400, editable=False)
    address = models.CharField(_("办公地址"), max_length=200, blank=True)
    description = models.TextField(_("简介"), blank=True)
    services = models.CharField(_("可提供的服务"), max_length=300, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    contact_phone_index = BlindIndexField(source="contact_phone", kind="phone")
    agreement_since = models.DateField(_("共建协议签订日期"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    incubation_stage = models.CharField(
        _("孵化阶段"), max_length=24, choices=IncubationStage.choices, default=IncubationStage.NONE
    )
    incubation_changed_at = models.DateTimeField(_("孵化阶段变更时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[ScopedQuerySet[Organisation]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.NEEDS_VIEW, region_path="region_path")

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "contact_name": PiiTag(
            category="name",
            purpose="与组织联系资源对接与项目认领",
            retention=_ORG_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(组织登记时)",
        ),
        "contact_phone": PiiTag(
            category="phone",
            purpose="与组织联系资源对接与项目认领",
            retention=_ORG_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(组织登记时)",
        ),
        "contact_phone_index": PiiTag(
            category="phone",
            purpose="按电话查重(密钥哈希,不可逆)",
            retention=_ORG_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(组织登记时)",
        ),
    }
    pii_exempt: ClassVar[dict[str, str]] = {"address": "组织的办公地址(公开的机构信息),不是个人住址"}

    class Meta:
        verbose_name = _("社会组织与共建单位")
        verbose_name_plural = _("社会组织与共建单位")
        ordering = ["region_path", "name"]
        indexes = [
            # The organisations list: a subtree of regions, filtered by kind.
            models.Index(fields=["region_path", "kind"], name="needs_org_path_kind"),
            # The incubation board: organisations of one stage, oldest change first.
            models.Index(fields=["incubation_stage", "incubation_changed_at"], name="needs_org_stage"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="needs_org_name_per_region"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_incubating(self) -> bool:
        return self.incubation_stage in INCUBATING


class OrganisationEvent(EventBase):
    """One step of the incubation pipeline, with the date it really happened (may be back-dated)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="events"
    )
    occurred_on = models.DateField(_("发生日期"), default=timezone.localdate)

    class Meta:
        verbose_name = _("孵化记录")
        verbose_name_plural = _("孵化记录")
        ordering = ["organisation_id", "created_at", "id"]
        indexes = [
            # An organisation's timeline on its page.
            models.Index(fields=["organisation", "created_at"], name="needs_orgevent_org"),
        ]


class OrganisationMember(TimeStampedModel):
    """A user who acts for an organisation (组织联络人): sees the projects it may claim and claims them.

    Not a role: a representative gets no staff capability and no region scope, only what this row names
    (see docs/needs.md, "Organisation accounts"). Staff with ``needs.manage`` over the organisation add and
    remove representatives; both are audited. Removal deactivates the row (kept for the record)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        on_delete=models.CASCADE,
        related_name="organisation_memberships",
    )
    is_active = models.BooleanField(_("有效"), default=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("组织联络人")
        verbose_name_plural = _("组织联络人")
        ordering = ["organisation_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="needs_org_member_once"),
        ]
        indexes = [
            # Every representative request: the user's active organisations.
            models.Index(fields=["user", "is_active"], name="needs_orgmember_user"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation_id}:{self.user_id}"
