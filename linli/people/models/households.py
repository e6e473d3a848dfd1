"""The household register: households per building / 单元 / room, the residents living there, and the
history of every move in and out.

Scope. A household copies its building's ``grid`` and ``path`` (``region_path``); residents and moves copy
the household's, so every list filters on its own row without a join (``linli.core.scoping``). When the
places app re-assigns buildings to grids, ``people_grids_sync`` (run by a periodic sweep) brings the copies
back in step.

Personal data (PI-1). ID numbers and phones are ``EncryptedTextField`` with a ``BlindIndexField`` for exact
lookup; the name, birth date and gender are plain columns (lists sort and filter on them) but leave the
server only masked or through the audited reveal flow (``linli.security.reveal``). No I/O here.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

# Residents who moved out are kept this long for the register's history, then deleted by the retention job.
RESIDENT_RETENTION_DAYS = 3 * 365
_RETENTION = "迁出后3年(保留迁移历史),到期由定时任务删除"
_BASIS = "履行法定职责(《城市居民委员会组织法》第三、四条:居民委员会办理本居住地区居民的公共事务和公益事业)"


def _tag(category: str, purpose: str, *, sensitive: bool = False) -> PiiTag:
    return PiiTag(
        category=category,
        purpose=purpose,
        retention=_RETENTION,
        retention_days=RESIDENT_RETENTION_DAYS,
        sensitive=sensitive,
        legal_basis=_BASIS,
    )


class Household(TimeStampedModel):
    """One dwelling (户) in a building: 单元 and room number; its residents come and go."""

    building = models.ForeignKey(
        "places.Region",
        verbose_name=_("楼栋"),
        on_delete=models.PROTECT,
        related_name="register_households",
        limit_choices_to={"level": "building"},
    )
    unit_no = models.CharField(_("单元"), max_length=10, blank=True)
    room = models.CharField(_("房号"), max_length=20)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="register_households",
    )
    # The building's path, copied: subtree filters without a join.
    region_path = models.CharField(max_length=400, editable=False, db_index=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects: ClassVar[ScopedQuerySet[Household]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PEOPLE, region_path="region_path", grid="grid")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "room": _tag("address", "确定住户所在的房间,用于走访和服务"),
    }

    class Meta:
        verbose_name = _("住户(户)")
        verbose_name_plural = _("住户(户)")
        ordering = ["region_path", "unit_no", "room"]
        indexes = [
            # The grid worker's "my households": one grid, in building / unit / room order.
            models.Index(fields=["grid", "region_path", "unit_no", "room"], name="household_grid_order"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["building", "unit_no", "room"], name="household_unique_room"),
        ]

    def __str__(self) -> str:
        return self.address_label

    @property
    def address_label(self) -> str:
        """``水韵雅居1栋2单元302``: with the estate when the selector loaded it (no query of its own)."""
        unit = f"{self.unit_no}单元" if self.unit_no else ""
        building = self.building
        estate = building.parent if type(building).parent.is_cached(building) else None
        return f"{estate.name if estate else ''}{building.name}{unit}{self.room}"


class Gender(models.TextChoices):
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class Relation(models.TextChoices):
    """与户主关系."""

    HEAD = "head", _("户主")
    SPOUSE = "spouse", _("配偶")
    CHILD = "child", _("子女")
    PARENT = "parent", _("父母")
    GRANDCHILD = "grandchild", _("孙辈")
    SIBLING = "sibling", _("兄弟姐妹")
    RELATIVE = "relative", _("其他亲属")
    OTHER = "other", _("其他(合租、保姆等)")


class Registration(models.TextChoices):
    """户籍类型: where the person's 户口 is relative to where they live."""

    HUKOU = "hukou", _("户籍")  # 户口 here, lives here
    FLOATING = "floating", _("流动")  # 户口 elsewhere, lives here (流动人口)
    TENANT = "tenant", _("租住")  # rents the dwelling


class ResidentStatus(models.TextChoices):
    PRESENT = "present", _("在住")  # lives in the household now
    MOVED_OUT = "moved_out", _("已迁出")  # kept for the history until the retention job deletes it


class Resident(TimeStampedModel):
    """A person registered in a household. Moves are services (``resident_move_in`` / ``_out``) that write
    a ``ResidentMove`` row each; the row keeps its identity across moves (one person, one history)."""

    household = models.ForeignKey(
        Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="residents"
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    # linli.security.validation.IdKind: 居民身份证, 港澳台居民居住证, 港澳/台湾通行证, 外国人永居证.
    id_kind = models.CharField(_("证件类型"), max_length=40, blank=True)
    id_number = EncryptedTextField(_("证件号码"), blank=True, default="")
    id_number_index = BlindIndexField(source="id_number", kind="id_number")
    phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")
    relation = models.CharField(
        _("与户主关系"), max_length=16, choices=Relation.choices, default=Relation.HEAD
    )
    registration = models.CharField(
        _("户籍类型"), max_length=16, choices=Registration.choices, default=Registration.HUKOU
    )
    # ",党员,退役军人," — wrapped in commas so one tag is one portable ``contains`` filter.
    tags = models.CharField(_("标签"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.PRESENT
    )
    moved_in_on = models.DateField(_("迁入日期"))
    moved_out_on = models.DateField(_("迁出日期"), null=True, blank=True)
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="register_residents",
    )
    region_path = models.CharField(max_length=400, editable=False, db_index=True)

    objects: ClassVar[ScopedQuerySet[Resident]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PEOPLE, region_path="region_path", grid="grid")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "name": _tag("name", "居民登记:称呼、走访与服务对象识别"),
        "gender": _tag("gender", "居民登记与人口统计"),
        "birth_date": _tag("birth_date", "年龄统计,高龄、留守儿童等关爱对象识别"),
        "id_kind": _tag("id_number", "证件类型(与证件号码一同用于身份核实)"),
        "id_number": _tag("id_number", "核实身份,避免重复登记", sensitive=True),
        "id_number_index": _tag("id_number", "按证件号码精确查找(密钥哈希,不可逆)", sensitive=True),
        "phone": _tag("phone", "走访、服务和紧急情况联系"),
        "phone_index": _tag("phone", "按电话号码精确查找(密钥哈希,不可逆)"),
        "tags": _tag("tags", "服务对象分类(党员、退役军人、独居等)", sensitive=True),
        "registration": _tag("residence", "区分户籍、流动、租住人口,用于人口管理与服务"),
    }

    class Meta:
        verbose_name = _("居民")
        verbose_name_plural = _("居民")
        ordering = ["region_path", "household_id", "id"]
        indexes = [
            # The register list: one grid's present residents.
            models.Index(fields=["grid", "status"], name="resident_grid_status"),
            # Exact lookup by ID number or phone (blind index), and the import's duplicate check.
            models.Index(fields=["id_number_index"], name="resident_id_index"),
            models.Index(fields=["phone_index"], name="resident_phone_index"),
            # The retention job: residents moved out before a date.
            models.Index(fields=["status", "moved_out_on"], name="resident_status_moved_out"),
        ]
        constraints = [
            # One person lives in one household at a time (the import and move-in check this first,
            # the constraint holds under concurrency).
            models.UniqueConstraint(
                fields=["id_number_index"],
                condition=models.Q(status="present") & ~models.Q(id_number_index=""),
                name="resident_present_once",
            ),
        ]

    def __str__(self) -> str:
        from linli.security.masking import mask_name

        return mask_name(self.name)  # __str__ reaches the admin, logs and select boxes: never the full name

    @property
    def tag_list(self) -> list[str]:
        return [t for t in self.tags.split(",") if t]

    def age_on(self, day: dt.date) -> int | None:
        if self.birth_date is None:
            return None
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def tags_join(tags: list[str] | tuple[str, ...]) -> str:
    """The stored form of a tag list: ``,a,b,`` (empty list: empty string)."""
    clean = []
    for tag in tags:
        tag = tag.strip().replace(",", "")
        if tag and tag not in clean:
            clean.append(tag[:20])
    return f",{','.join(clean)}," if clean else ""


class MoveKind(models.TextChoices):
    IN = "in", _("迁入")
    OUT = "out", _("迁出")


class ResidentMove(models.Model):
    """One move of a resident into or out of a household (the register's history; never edited)."""

    resident = models.ForeignKey(
        Resident, verbose_name=_("居民"), on_delete=models.CASCADE, related_name="moves"
    )
    household = models.ForeignKey(
        Household, verbose_name=_("住户"), on_delete=models.PROTECT, related_name="moves"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=MoveKind.choices)
    moved_on = models.DateField(_("日期"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)
    grid = models.ForeignKey(
        "places.Grid", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    region_path = models.CharField(max_length=400, editable=False, db_index=True)

    objects: ClassVar[ScopedQuerySet[ResidentMove]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_PEOPLE, region_path="region_path", grid="grid")

    class Meta:
        verbose_name = _("迁入迁出记录")
        verbose_name_plural = _("迁入迁出记录")
        ordering = ["-moved_on", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.moved_on:%Y-%m-%d}"
