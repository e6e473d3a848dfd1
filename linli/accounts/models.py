"""Users, responsible units and role memberships scoped to a region, a grid or a unit."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import ROLE_SCOPE_KIND, Capability, Role, ScopeKind
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField


class UserKind(models.TextChoices):
    RESIDENT = "resident", _("居民")  # signs in with phone + SMS code
    STAFF = "staff", _("工作人员")  # signs in with username + password


class User(AbstractUser):
    kind = models.CharField(_("账号类型"), max_length=16, choices=UserKind.choices, default=UserKind.STAFF)
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)
    # 11-digit mainland mobile (services.phone_normalize), encrypted at rest (PI-1); looked up and kept
    # unique through its blind index: User.objects.filter(phone_index__matches=phone).
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        ordering = ["username"]
        constraints = [
            # One account per phone; the partial unique index also serves sign-in's lookup by phone_index.
            models.UniqueConstraint(
                fields=["phone_index"], condition=~models.Q(phone_index=""), name="user_phone_index_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_resident(self) -> bool:
        return self.kind == UserKind.RESIDENT


class UnitKind(models.TextChoices):
    DEPARTMENT = "department", _("职能部门")
    PROPERTY = "property", _("物业公司")
    UTILITY = "utility", _("公用事业单位")
    OTHER = "other", _("其他单位")


class Unit(TimeStampedModel):
    """A responsible unit (职能部门/物业/公用事业) that receives and handles cases."""

    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices)
    region = models.ForeignKey(
        "places.Region", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="units"
    )
    # The region's path, copied for subtree filters without a join.
    region_path = models.CharField(max_length=400, editable=False, db_index=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects: ClassVar[ScopedQuerySet[Unit]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.VIEW_WORKBENCH, region_path="region_path", unit="id")

    class Meta:
        verbose_name = _("责任单位")
        verbose_name_plural = _("责任单位")
        ordering = ["region_path", "name"]
        constraints = [models.UniqueConstraint(fields=["region", "name"], name="unit_name_per_region")]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStampedModel):
    """One role a user holds, anchored on a region subtree, a grid, a unit, or (admin) everything."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("角色"), max_length=32, choices=Role.choices)
    region = models.ForeignKey(
        "places.Region",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    is_active = models.BooleanField(_("有效"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")
        ordering = ["user_id", "role"]
        indexes = [
            # Scope computation on every request: a user's active memberships.
            models.Index(fields=["user", "is_active"], name="membership_user_active"),
            # "Who are this grid's workers" on the grid card and the map.
            models.Index(fields=["grid", "role"], name="membership_grid_role"),
        ]
        constraints = [
            # Each role is anchored on exactly the kind of object its scope needs (roles.ROLE_SCOPE_KIND).
            models.CheckConstraint(
                condition=(
                    models.Q(
                        role__in=[r for r, k in ROLE_SCOPE_KIND.items() if k == ScopeKind.REGION],
                        region__isnull=False,
                        grid__isnull=True,
                        unit__isnull=True,
                    )
                    | models.Q(
                        role__in=[r for r, k in ROLE_SCOPE_KIND.items() if k == ScopeKind.GRID],
                        region__isnull=True,
                        grid__isnull=False,
                        unit__isnull=True,
                    )
                    | models.Q(
                        role__in=[r for r, k in ROLE_SCOPE_KIND.items() if k == ScopeKind.UNIT],
                        region__isnull=True,
                        grid__isnull=True,
                        unit__isnull=False,
                    )
                    | models.Q(
                        role__in=[r for r, k in ROLE_SCOPE_KIND.items() if k == ScopeKind.GLOBAL],
                        region__isnull=True,
                        grid__isnull=True,
                        unit__isnull=True,
                    )
                ),
                name="membership_anchor_matches_role",
            ),
            # NULL anchors compared as 0 so a second identical grant is refused on SQLite and PostgreSQL alike.
            models.UniqueConstraint(
                "user",
                "role",
                Coalesce("region", 0),
                Coalesce("grid", 0),
                Coalesce("unit", 0),
                name="membership_unique",
            ),
        ]

    def __str__(self) -> str:
        anchor = self.region or self.grid or self.unit or _("全局")
        return f"{self.user} · {self.get_role_display()} · {anchor}"


class PhoneCode(models.Model):
    """A one-time sign-in code sent by SMS. Only an HMAC of the code and the phone's blind index are stored."""

    phone_index = models.CharField(max_length=32)  # security.crypto.blind_index("phone", phone)
    code_hmac = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    tries = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        ordering = ["-created_at"]
        indexes = [
            # The newest code for a phone, and the per-minute / per-day send counts.
            models.Index(fields=["phone_index", "-created_at"], name="phonecode_index_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.phone_index[:8]}… {self.created_at:%Y-%m-%d %H:%M}"


class PhoneCodeThrottle(models.Model):
    """One row per phone that has asked for a code: the row ``sms_code_request`` locks before it counts the
    phone's recent codes. Locking the code rows alone is not enough: before a phone's first code there are
    none, and on PostgreSQL ``select_for_update`` over an empty set locks nothing, so two simultaneous
    first requests could both send. Only the blind index is stored; rows idle for a day are pruned."""

    phone_index = models.CharField(max_length=32, unique=True)  # security.crypto.blind_index("phone", …)
    last_requested_at = models.DateTimeField()

    class Meta:
        verbose_name = _("短信验证码发送计数")
        verbose_name_plural = _("短信验证码发送计数")
        ordering = ["phone_index"]

    def __str__(self) -> str:
        return f"{self.phone_index[:8]}…"


class ApiToken(models.Model):
    """A bearer token for API clients (the phone app, integrations). Only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=50)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("接口令牌")
        verbose_name_plural = _("接口令牌")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"


class PasswordHistory(models.Model):
    """A staff member's earlier password hashes, so the last few cannot be reused (AU-6, 等保)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)  # the hash as Django stores it, never the password
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["user_id", "-created_at"]
        indexes = [
            # The reuse check and the expiry check: a user's newest entries.
            models.Index(fields=["user", "-created_at"], name="pwhistory_user_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
