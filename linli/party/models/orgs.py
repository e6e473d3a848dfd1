"""The party organisation tree anchored on regions, and party members.

The tree follows 社区党委 → 小区党支部 → 楼栋党小组 → 党员中心户 (seed 003: "社区党委—小区党组织—楼栋党小组—
党员中心户(示范户)"): each kind sits on a region of a fixed level (community, estate, building, building)
inside its parent's region, so community and street staff see it through one path prefix.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.places.models import Level
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

MEMBER_RETENTION = "党员组织关系转出或去世后1年"
MEMBER_BASIS = "履行职责(基层党组织建设、党员管理)"


class OrgKind(models.TextChoices):
    COMMITTEE = "committee", _("社区党委")
    BRANCH = "branch", _("小区党支部")
    GROUP = "group", _("楼栋党小组")
    HOUSEHOLD = "household", _("党员中心户")


# kind -> (the kind its parent must be, the level of the region it is anchored on)
ORG_RULES: dict[str, tuple[str | None, str]] = {
    OrgKind.COMMITTEE: (None, Level.COMMUNITY),
    OrgKind.BRANCH: (OrgKind.COMMITTEE, Level.ESTATE),
    OrgKind.GROUP: (OrgKind.BRANCH, Level.BUILDING),
    OrgKind.HOUSEHOLD: (OrgKind.GROUP, Level.BUILDING),
}


class PartyOrg(TimeStampedModel):
    kind = models.CharField(_("层级"), max_length=16, choices=OrgKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    region = models.ForeignKey(
        "places.Region", verbose_name=_("所在区域"), on_delete=models.PROTECT, related_name="party_orgs"
    )
    # The region's path, copied: community and street staff see the tree by one prefix match.
    region_path = models.CharField(max_length=400, editable=False)
    # 书记 / 组长 / 中心户户主: a member of this community.
    leader = models.ForeignKey(
        "party.PartyMember",
        verbose_name=_("负责人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects: ClassVar[ScopedQuerySet[PartyOrg]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path")

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["region_path", "sort_order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="party_org_name_per_parent"),
            models.UniqueConstraint(
                fields=["region"],
                condition=models.Q(kind="committee"),
                name="party_one_committee_per_community",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="committee", parent__isnull=True)
                | (~models.Q(kind="committee") & models.Q(parent__isnull=False)),
                name="party_org_only_committee_is_root",
            ),
        ]
        indexes = [
            # The tree of a community (or street): one prefix scan in path order.
            models.Index(fields=["region_path", "sort_order"], name="party_org_region"),
        ]

    def __str__(self) -> str:
        return self.name


class PartyMember(TimeStampedModel):
    """A party member living in (or checked in to) a community."""

    name = models.CharField(_("姓名"), max_length=50)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")
    community = models.ForeignKey(
        "places.Region", verbose_name=_("居住社区"), on_delete=models.PROTECT, related_name="party_members"
    )
    region_path = models.CharField(max_length=400, editable=False)
    # The community-side organisation the member takes part in (for in-service members: after check-in).
    org = models.ForeignKey(
        PartyOrg,
        verbose_name=_("所在党组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    is_in_service = models.BooleanField(_("在职党员"), default=False)
    employer = models.CharField(_("工作单位"), max_length=100, blank=True)
    employer_org = models.CharField(_("组织关系所在党组织"), max_length=100, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_member",
    )
    is_active = models.BooleanField(_("有效"), default=True)

    objects: ClassVar[ScopedQuerySet[PartyMember]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path", owner="user")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "name": PiiTag(
            category="name",
            purpose="党员管理、报到与志愿服务记录",
            retention=MEMBER_RETENTION,
            legal_basis=MEMBER_BASIS,
        ),
        "phone": PiiTag(
            category="phone",
            purpose="联系党员(报到确认、活动通知)",
            retention=MEMBER_RETENTION,
            legal_basis=MEMBER_BASIS,
        ),
        "phone_index": PiiTag(
            category="phone",
            purpose="按手机号查重(密钥哈希,不可逆)",
            retention=MEMBER_RETENTION,
            legal_basis=MEMBER_BASIS,
        ),
        "employer": PiiTag(
            category="employment",
            purpose="在职党员报到:工作单位",
            retention=MEMBER_RETENTION,
            legal_basis=MEMBER_BASIS,
        ),
        "employer_org": PiiTag(
            category="employment",
            purpose="在职党员报到:组织关系所在党组织",
            retention=MEMBER_RETENTION,
            legal_basis=MEMBER_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["region_path", "name", "id"]
        constraints = [
            # One record per person (by phone); the partial unique index also serves the lookup by phone.
            models.UniqueConstraint(
                fields=["phone_index"], condition=~models.Q(phone_index=""), name="party_member_phone_unique"
            ),
        ]
        indexes = [
            # Members of a community (or street), by name.
            models.Index(fields=["region_path", "name"], name="party_member_region"),
        ]

    def __str__(self) -> str:
        return self.name
