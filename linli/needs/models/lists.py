"""The needs list (需求清单), the resources list (资源清单) and the staff decisions on suggested matches."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.needs.models.common import Category, EventBase, StatusCategory, Urgency
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag


# --- needs ----------------------------------------------------------------------------------------
class NeedSource(models.TextChoices):
    VISIT = "visit", _("入户走访")
    MEETING = "meeting", _("议事会/居民代表会议")
    CASE = "case", _("诉求工单")
    RESIDENT = "resident", _("居民提出")
    OTHER = "other", _("其他")


class NeedStatus(models.TextChoices):
    OPEN = "open", _("待匹配")  # registered, no resource yet
    MATCHED = "matched", _("已匹配资源")  # staff accepted at least one suggested resource
    IN_PROJECT = "in_project", _("项目实施中")  # part of a project that is not finished
    MET = "met", _("已满足")  # the project completed, or the matched resource delivered
    CLOSED = "closed", _("已关闭")  # cannot or need not be met (reason recorded)


NEED_CATEGORY: dict[str, str] = {
    NeedStatus.OPEN: StatusCategory.OPEN,
    NeedStatus.MATCHED: StatusCategory.OPEN,
    NeedStatus.IN_PROJECT: StatusCategory.OPEN,
    NeedStatus.MET: StatusCategory.DONE,
    NeedStatus.CLOSED: StatusCategory.CANCELLED,
}
_NEED_RETENTION = "需求关闭或满足后3年"
_NEED_CONTACT = PiiTag(
    category="name",
    purpose="回访提出需求的居民",
    retention=_NEED_RETENTION,
    retention_days=1095,
    legal_basis="个人同意(提出需求时)",
)


class Need(TimeStampedModel):
    """One need of residents of an estate or community."""

    title = models.CharField(_("需求"), max_length=100)
    description = models.TextField(_("详细情况"), blank=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    source_kind = models.CharField(_("来源"), max_length=16, choices=NeedSource.choices)
    # A need raised by a case (诉求转需求): at most one need per case.
    source_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    # A need found on a care-registry visit (走访发现): the visit, kept out of sight of readers without
    # ``care.view`` (PI-3). One visit may reveal several needs, so unlike ``source_case`` it is not unique.
    source_visit = models.ForeignKey(
        "people.CareVisit",
        verbose_name=_("来源走访记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="needs",
    )
    # A meeting's minutes, a visit outside the care registry, … on paper ("议事会纪要 2024-05-06").
    source_ref = models.CharField(_("来源记录"), max_length=100, blank=True)
    region = models.ForeignKey(
        "places.Region", verbose_name=_("小区/社区"), on_delete=models.PROTECT, related_name="needs"
    )
    community = models.ForeignKey(
        "places.Region", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="community_needs"
    )
    region_path = models.CharField(max_length=400, editable=False)  # the region's path
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    beneficiaries = models.PositiveIntegerField(_("受益人数"), default=1)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(_("状态"), max_length=16, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    status_category = models.CharField(
        _("状态分类"), max_length=12, choices=StatusCategory.choices, default=StatusCategory.OPEN
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    contact_phone_index = BlindIndexField(source="contact_phone", kind="phone")
    met_at = models.DateTimeField(_("满足时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects: ClassVar[ScopedQuerySet[Need]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.NEEDS_VIEW, region_path="region_path", grid="grid")

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "contact_name": _NEED_CONTACT,
        "contact_phone": PiiTag(
            category="phone",
            purpose="回访提出需求的居民",
            retention=_NEED_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(提出需求时)",
        ),
        "contact_phone_index": PiiTag(
            category="phone",
            purpose="按电话查找居民提出的需求(密钥哈希,不可逆)",
            retention=_NEED_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(提出需求时)",
        ),
    }

    class Meta:
        verbose_name = _("需求")
        verbose_name_plural = _("需求清单")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The staff list: a subtree of regions, open ones first.
            models.Index(fields=["region_path", "status_category"], name="needs_need_path_cat"),
            # The public page: counts per community by status and category.
            models.Index(fields=["community", "status", "category"], name="needs_need_public"),
            # A grid worker's list: needs of their grid.
            models.Index(fields=["grid", "status_category"], name="needs_need_grid"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_case"], condition=Q(source_case__isnull=False), name="needs_one_need_per_case"
            ),
            models.CheckConstraint(
                condition=Q(source_visit__isnull=True) | Q(source_kind="visit"),
                name="needs_need_visit_source_kind",
            ),
            models.CheckConstraint(condition=Q(beneficiaries__gte=1), name="needs_need_beneficiaries"),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["open", "matched", "in_project"], status_category="open")
                    | Q(status="met", status_category="done")
                    | Q(status="closed", status_category="cancelled")
                ),
                name="needs_need_status_category",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NeedEvent(EventBase):
    need = models.ForeignKey(Need, verbose_name=_("需求"), on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("需求记录")
        verbose_name_plural = _("需求记录")
        ordering = ["need_id", "created_at", "id"]
        indexes = [
            # A need's timeline on its page.
            models.Index(fields=["need", "created_at"], name="needs_needevent_need"),
        ]


# --- resources ------------------------------------------------------------------------------------
class ResourceKind(models.TextChoices):
    SKILLS = "skills", _("技能")
    SPACE = "space", _("场地")
    GOODS = "goods", _("物资")
    FUNDS = "funds", _("资金")
    SERVICES = "services", _("服务")


class ProviderKind(models.TextChoices):
    ORGANISATION = "organisation", _("社会组织/共建单位/商户")
    VOLUNTEERS = "volunteers", _("志愿者/志愿服务队")
    STATION = "station", _("服务阵地")


class CapacityUnit(models.TextChoices):
    NEEDS = "needs", _("件需求")  # each accepted need takes one
    PEOPLE = "people", _("人")  # each accepted need takes its number of beneficiaries


_RESOURCE_CONTACT = "资源下架后1年"


class Resource(TimeStampedModel):
    """Something an organisation, volunteers or a station offers, with how many needs or people it serves."""

    name = models.CharField(_("资源名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    kind = models.CharField(_("资源类型"), max_length=12, choices=ResourceKind.choices)
    category = models.CharField(_("服务类别"), max_length=16, choices=Category.choices)
    provider_kind = models.CharField(_("提供方类型"), max_length=16, choices=ProviderKind.choices)
    organisation = models.ForeignKey(
        "needs.Organisation",
        verbose_name=_("提供组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
    )
    station = models.ForeignKey(
        "stations.Station",
        verbose_name=_("提供阵地"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="offered_resources",
    )
    # A registered volunteer team (志愿服务队): its members' service on projects using this resource is
    # credited to their hours ledger. Volunteers not organised in a registered team are named in text.
    volunteer_team = models.ForeignKey(
        "party.VolunteerTeam",
        verbose_name=_("志愿服务队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
    )
    # A copy of the organisation's, station's or team's name (lists show it without a join), or the name of
    # volunteers without a registered team.
    provider_name = models.CharField(_("提供方"), max_length=100)
    # Another provider's reference in text (a business licence number, an outside team's registration).
    provider_ref = models.CharField(_("提供方编号"), max_length=60, blank=True)
    region = models.ForeignKey(
        "places.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="resources"
    )
    region_path = models.CharField(max_length=400, editable=False)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    capacity = models.PositiveIntegerField(_("可服务数量"))
    capacity_unit = models.CharField(
        _("数量单位"), max_length=8, choices=CapacityUnit.choices, default=CapacityUnit.NEEDS
    )
    # capacity minus what accepted matches reserved; changed only by compare-and-set UPDATEs.
    remaining = models.PositiveIntegerField(_("剩余可服务数量"))
    valid_from = models.DateField(_("有效期自"), default=timezone.localdate)
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[ScopedQuerySet[Resource]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.NEEDS_VIEW, region_path="region_path")

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "contact_name": PiiTag(
            category="name",
            purpose="资源对接联系人",
            retention=_RESOURCE_CONTACT,
            retention_days=365,
            legal_basis="个人同意(登记资源时)",
        ),
        "contact_phone": PiiTag(
            category="phone",
            purpose="资源对接联系人电话",
            retention=_RESOURCE_CONTACT,
            retention_days=365,
            legal_basis="个人同意(登记资源时)",
        ),
    }
    pii_exempt: ClassVar[dict[str, str]] = {
        "lat": "资源所在场所(场地、机构、阵地)或所属社区的位置,不登记个人住址",
        "lng": "资源所在场所(场地、机构、阵地)或所属社区的位置,不登记个人住址",
    }

    class Meta:
        verbose_name = _("资源")
        verbose_name_plural = _("资源清单")
        ordering = ["region_path", "name", "id"]
        indexes = [
            # Matching's prefilter: active resources of the matching categories with capacity left, then a
            # bounding box around the need.
            models.Index(fields=["category", "is_active", "remaining", "lat"], name="needs_res_match"),
            # The staff list: a subtree of regions, by kind.
            models.Index(fields=["region_path", "kind"], name="needs_res_path_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="needs_res_capacity_positive"),
            models.CheckConstraint(
                condition=Q(remaining__lte=F("capacity")), name="needs_res_remaining_le_cap"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="needs_res_valid_period",
            ),
            models.CheckConstraint(
                condition=(
                    Q(provider_kind="organisation", organisation__isnull=False, station__isnull=True)
                    | Q(provider_kind="station", station__isnull=False, organisation__isnull=True)
                    | Q(provider_kind="volunteers", station__isnull=True, organisation__isnull=True)
                ),
                name="needs_res_provider_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(volunteer_team__isnull=True) | Q(provider_kind="volunteers"),
                name="needs_res_team_only_volunteers",
            ),
            models.CheckConstraint(
                condition=(Q(lat__isnull=True) & Q(lng__isnull=True))
                | (Q(lat__isnull=False) & Q(lng__isnull=False)),
                name="needs_res_point_whole",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def reserved(self) -> int:
        return self.capacity - self.remaining


# --- decisions on suggestions ---------------------------------------------------------------------
class MatchStatus(models.TextChoices):
    ACCEPTED = "accepted", _("已采纳")  # capacity reserved for the need
    REJECTED = "rejected", _("未采纳")  # with a reason; never suggested for this need again
    RELEASED = "released", _("已释放")  # was accepted; the reservation was given back


class NeedMatch(models.Model):
    """A staff decision on one suggested (need, resource) pair; one per pair."""

    need = models.ForeignKey(Need, verbose_name=_("需求"), on_delete=models.CASCADE, related_name="matches")
    resource = models.ForeignKey(
        Resource, verbose_name=_("资源"), on_delete=models.PROTECT, related_name="matches"
    )
    status = models.CharField(_("结果"), max_length=10, choices=MatchStatus.choices)
    # The suggestion as the staff member saw it (the score is documented in docs/needs.md).
    score = models.FloatField(_("匹配得分"), default=0.0)
    distance_m = models.FloatField(_("距离(米)"), null=True, blank=True)
    amount = models.PositiveIntegerField(_("占用数量"), default=0)
    reason = models.CharField(_("理由"), max_length=200, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("决定时间"), default=timezone.now)
    released_at = models.DateTimeField(_("释放时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("资源匹配")
        verbose_name_plural = _("资源匹配")
        ordering = ["need_id", "-decided_at", "id"]
        constraints = [
            # One decision per pair: a second accept of the same pair fails here, whatever the race.
            models.UniqueConstraint(fields=["need", "resource"], name="needs_match_once_per_pair"),
            models.CheckConstraint(
                condition=~Q(status="rejected") | ~Q(reason=""), name="needs_match_reject_has_reason"
            ),
        ]
        indexes = [
            # A resource's page: the needs it serves.
            models.Index(fields=["resource", "status"], name="needs_match_resource"),
        ]

    def __str__(self) -> str:
        return f"{self.need_id} ← {self.resource_id} ({self.status})"
