"""Service stations (服务阵地): 党群服务中心, 驿站, 驿家, 邻里中心 — where they are, when they are open, what
they offer, and whether they meet the "七有" standard.

A station belongs to one region (the district for the district center, a community for everything else)
and copies that region's path into ``region_path``, so every staff list filters by subtree without a
join (``linli.core.scoping``). Residents read published stations without signing in.

Opening hours are ``OpeningPeriod`` rows per weekday; a period whose ``closes`` is not after ``opens``
runs past midnight into the next day. Holidays come from the working-day calendar (``linli.workdays``);
``hours.py`` holds the rule, documented in docs/stations.md. No I/O here.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields

# Seed 004: after 集中办公 the office area fell from 625 to 100 m² while resident-facing space rose from
# 2,275 to 4,187 m² (office share 21.6% → 2.3%). We flag a station whose office share is above this.
OFFICE_SHARE_MAX = 0.20


class StationKind(models.TextChoices):
    """The tiers of the network (seeds 000, 001, 003, 004)."""

    DISTRICT_CENTER = "district_center", _("区级党群服务中心")
    COMMUNITY_CENTER = "community_center", _("社区党群服务中心")
    POST = "post", _("党群暖心驿站")  # at squares, stations, malls (seed 000)
    HOME = "home", _("党群驿家")  # small, inside an estate ("一小区一阵地", seed 003)
    NEIGHBORHOOD = "neighborhood", _("邻里中心")
    FEATURED = "featured", _("特色中心")  # e.g. 特色幸福邻里中心 (seed 001)


# Which level of region each kind belongs to.
KIND_REGION_LEVELS: dict[str, frozenset[str]] = {
    StationKind.DISTRICT_CENTER: frozenset({"district"}),
    StationKind.COMMUNITY_CENTER: frozenset({"community"}),
    StationKind.POST: frozenset({"street", "community"}),
    StationKind.HOME: frozenset({"community"}),
    StationKind.NEIGHBORHOOD: frozenset({"street", "community"}),
    StationKind.FEATURED: frozenset({"street", "community"}),
}


class Station(TimeStampedModel):
    code = models.CharField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=StationKind.choices)
    region = models.ForeignKey(
        "places.Region",
        verbose_name=_("所属区域"),
        on_delete=models.PROTECT,
        related_name="stations",
        help_text=_("区级中心属于区,其余属于所在社区(或街道)"),
    )
    # The region's materialised path, copied so staff lists filter by subtree without a join.
    region_path = models.CharField(max_length=400, editable=False, db_index=True)
    lat = models.FloatField(_("纬度"))
    lng = models.FloatField(_("经度"))
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("服务电话"), max_length=40, blank=True)
    contact_name = models.CharField(_("联系人/站长"), max_length=50, blank=True)
    description = models.TextField(_("简介"), blank=True)
    # Floor areas (seed 004: 办公最小化、服务最大化).
    office_area_m2 = models.FloatField(_("办公面积(平方米)"), null=True, blank=True)
    public_area_m2 = models.FloatField(_("服务居民面积(平方米)"), null=True, blank=True)
    is_24h = models.BooleanField(_("24小时开放"), default=False)
    open_on_holidays = models.BooleanField(
        _("节假日开放"), default=False, help_text=_("不勾选则法定节假日闭馆(以工作日历为准)")
    )
    hours_note = models.CharField(
        _("时间说明"), max_length=200, blank=True, help_text=_("例如“班后在线:拨打值班电话”")
    )
    is_published = models.BooleanField(_("在地图上公开"), default=True)

    objects: ClassVar[ScopedQuerySet[Station]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.STATIONS_VIEW, region_path="region_path")

    class Meta:
        verbose_name = _("服务阵地")
        verbose_name_plural = _("服务阵地")
        ordering = ["region_path", "kind", "code"]
        indexes = [
            # The public list and map: published stations of one kind.
            models.Index(fields=["is_published", "kind"], name="station_published_kind"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=StationKind.values), name="station_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(lat__gte=3, lat__lte=54, lng__gte=73, lng__lte=136),
                name="station_point_in_china",
            ),
            models.CheckConstraint(
                condition=(models.Q(office_area_m2__isnull=True) | models.Q(office_area_m2__gte=0))
                & (models.Q(public_area_m2__isnull=True) | models.Q(public_area_m2__gte=0)),
                name="station_areas_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def office_share(self) -> float | None:
        """Office area / (office + resident-facing area); None when either is unknown."""
        if self.office_area_m2 is None or self.public_area_m2 is None:
            return None
        total = self.office_area_m2 + self.public_area_m2
        return self.office_area_m2 / total if total > 0 else None

    @property
    def office_share_ok(self) -> bool | None:
        share = self.office_share
        return None if share is None else share <= OFFICE_SHARE_MAX


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("周一")
    TUESDAY = 1, _("周二")
    WEDNESDAY = 2, _("周三")
    THURSDAY = 3, _("周四")
    FRIDAY = 4, _("周五")
    SATURDAY = 5, _("周六")
    SUNDAY = 6, _("周日")
    HOLIDAY = 7, _("节假日")  # used on 法定节假日 when the station opens then; else that weekday's periods


class OpeningPeriod(models.Model):
    """One opening period of a station on one weekday; ``closes <= opens`` runs past midnight."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="periods")
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    opens = models.TimeField(_("开始"))
    closes = models.TimeField(_("结束"), help_text=_("不晚于开始时间表示次日结束(跨夜)"))

    class Meta:
        verbose_name = _("开放时段")
        verbose_name_plural = _("开放时段")
        ordering = ["station", "weekday", "opens"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=7), name="period_weekday_valid"
            ),
            models.UniqueConstraint(fields=["station", "weekday", "opens"], name="period_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens


class MenuTier(models.TextChoices):
    """ "1+N": the basic items every center offers, and the station's own featured ones."""

    BASIC = "basic", _("基本服务")
    FEATURED = "featured", _("特色服务")


class StationService(TimeStampedModel):
    """One line of a station's service menu: a catalogue item, with the station's own note."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="menu")
    item = models.ForeignKey("catalog.ServiceItem", on_delete=models.PROTECT, related_name="offers")
    tier = models.CharField(_("层次"), max_length=10, choices=MenuTier.choices, default=MenuTier.BASIC)
    note = models.CharField(_("本站说明"), max_length=200, blank=True, help_text=_("例如“每周三上午”"))
    sort_order = models.PositiveIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("提供中"), default=True)

    class Meta:
        verbose_name = _("服务菜单项")
        verbose_name_plural = _("服务菜单")
        ordering = ["station", "tier", "sort_order", "item_id"]
        indexes = [
            # "Which stations offer item X" (the nearest-station index and the service filter).
            models.Index(fields=["item", "is_active"], name="station_service_item"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["station", "item"], name="station_service_unique_item"),
            models.CheckConstraint(
                condition=models.Q(tier__in=MenuTier.values), name="station_service_tier_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station} · {self.item}"


class ChecklistItem(models.TextChoices):
    """The "七有" standard (seed 000)."""

    SIGN = "sign", _("有统一标识")
    SITE = "site", _("有固定场所")
    FACILITIES = "facilities", _("有完备设施")
    RULES = "rules", _("有管理制度")
    STAFF = "staff", _("有人员服务")
    ON_MAP = "on_map", _("有地图可查")
    MENU = "menu", _("有服务菜单")


class StationPhoto(TimeStampedModel):
    """A photo stored through ``linli.security.uploads`` (EXIF/GPS stripped); ``file`` is its storage name."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="photos")
    file = models.CharField(max_length=200, editable=False)
    caption = models.CharField(_("说明"), max_length=100, blank=True)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    sort_order = models.PositiveIntegerField(_("排序"), default=100)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("阵地照片")
        verbose_name_plural = _("阵地照片")
        ordering = ["station", "sort_order", "id"]

    def __str__(self) -> str:
        return self.caption or self.file


class StationChecklist(TimeStampedModel):
    """Whether a station meets one item of "七有", and the evidence (text and/or one of its photos)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="checklist")
    item = models.CharField(_("项目"), max_length=12, choices=ChecklistItem.choices)
    met = models.BooleanField(_("已达标"), default=False)
    evidence = models.TextField(_("佐证说明"), blank=True)
    photo = models.ForeignKey(
        StationPhoto,
        verbose_name=_("佐证照片"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    checked_at = models.DateTimeField(_("核查时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("七有核查")
        verbose_name_plural = _("七有核查")
        ordering = ["station", "item"]
        constraints = [
            models.UniqueConstraint(fields=["station", "item"], name="station_checklist_unique_item"),
            models.CheckConstraint(
                condition=models.Q(item__in=ChecklistItem.values), name="station_checklist_item_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.station} · {self.get_item_display()}"


class PartnerKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业/商户")
    BANK = "bank", _("银行/通信/供电等驻区单位")
    SOCIAL_ORG = "social_org", _("社会组织")
    PUBLIC_BODY = "public_body", _("机关事业单位")
    VOLUNTEER_TEAM = "volunteer_team", _("志愿服务队")


class StationPartner(TimeStampedModel):
    """A partner organisation working in the station (以场地换服务: space in exchange for services)."""

    station = models.ForeignKey(Station, on_delete=models.CASCADE, related_name="partners")
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=PartnerKind.choices)
    services = models.CharField(_("提供的服务"), max_length=200, help_text=_("例如“每周二亲子绘本共读”"))
    space = models.CharField(_("使用的场地"), max_length=100, blank=True)
    since = models.DateField(_("合作开始"), null=True, blank=True)
    until = models.DateField(_("合作结束"), null=True, blank=True)
    is_active = models.BooleanField(_("合作中"), default=True)

    class Meta:
        verbose_name = _("共建单位")
        verbose_name_plural = _("共建单位")
        ordering = ["station", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=PartnerKind.values), name="station_partner_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(until__isnull=True)
                | models.Q(since__isnull=True)
                | models.Q(until__gte=models.F("since")),
                name="station_partner_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.station})"


class StationIndexVersion(models.Model):
    """One row, bumped by every service that changes what the nearest-station index holds (stations,
    their hours, their menus), so each process rebuilds its index once (as ``places.GeometryVersion``)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(default=0)
    # A fresh random token per bump: a rolled-back bump can never be mistaken for a later one.
    token = models.CharField(max_length=32, default="")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("阵地索引版本")
        verbose_name_plural = _("阵地索引版本")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(id=1), name="station_index_version_singleton")
        ]

    def __str__(self) -> str:
        return f"v{self.version}"
