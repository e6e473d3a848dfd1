"""Volunteers, their teams, the append-only ledger of service hours, and certificates of hours.

The ledger is never edited: a wrong entry is corrected by a negative ``correction`` row pointing at it
(``services.volunteers.hours_correct``), so every total is a plain sum and the history stays readable.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

VOLUNTEER_RETENTION = "退出志愿者队伍后3年(服务时长证明可查期)"
VOLUNTEER_BASIS = "个人同意(登记为志愿者时)"


class Volunteer(TimeStampedModel):
    name = models.CharField(_("姓名"), max_length=50)
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")
    community = models.ForeignKey(
        "places.Region", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="volunteers"
    )
    region_path = models.CharField(max_length=400, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    member = models.OneToOneField(
        "party.PartyMember",
        verbose_name=_("党员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer",
    )
    is_active = models.BooleanField(_("在册"), default=True)

    objects: ClassVar[ScopedQuerySet[Volunteer]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path", owner="user")
    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "name": PiiTag(
            category="name",
            purpose="志愿服务记录与服务时长证明",
            retention=VOLUNTEER_RETENTION,
            legal_basis=VOLUNTEER_BASIS,
        ),
        "phone": PiiTag(
            category="phone",
            purpose="志愿活动联系",
            retention=VOLUNTEER_RETENTION,
            legal_basis=VOLUNTEER_BASIS,
        ),
        "phone_index": PiiTag(
            category="phone",
            purpose="按手机号查重(密钥哈希,不可逆)",
            retention=VOLUNTEER_RETENTION,
            legal_basis=VOLUNTEER_BASIS,
        ),
    }

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")
        ordering = ["region_path", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phone_index"],
                condition=~models.Q(phone_index=""),
                name="party_volunteer_phone_unique",
            ),
        ]
        indexes = [
            # Volunteers of a community (or street), by name.
            models.Index(fields=["region_path", "name"], name="party_volunteer_region"),
        ]

    def __str__(self) -> str:
        return self.name


class VolunteerTeam(TimeStampedModel):
    name = models.CharField(_("队伍名称"), max_length=100)
    community = models.ForeignKey(
        "places.Region", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="volunteer_teams"
    )
    region_path = models.CharField(max_length=400, editable=False)
    description = models.CharField(_("服务内容"), max_length=300, blank=True)
    # Shown on the public team page (total hours, never names).
    is_public = models.BooleanField(_("公开展示"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)
    members: models.ManyToManyField[Volunteer, TeamMembership] = models.ManyToManyField(
        Volunteer, through="TeamMembership", related_name="teams"
    )

    objects: ClassVar[ScopedQuerySet[VolunteerTeam]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path")
    pii_exempt: ClassVar[dict[str, str]] = {"name": "服务队的名称,不是个人姓名"}

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        ordering = ["region_path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="party_team_name_per_community")
        ]

    def __str__(self) -> str:
        return self.name


class TeamMembership(models.Model):
    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="memberships")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="team_memberships")
    is_leader = models.BooleanField(_("队长"), default=False)
    joined_at = models.DateTimeField(_("加入时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = _("队员")
        ordering = ["team", "-is_leader", "joined_at"]
        constraints = [models.UniqueConstraint(fields=["team", "volunteer"], name="party_team_member_unique")]

    def __str__(self) -> str:
        return f"{self.team_id}:{self.volunteer_id}"


class HoursSource(models.TextChoices):
    ACTIVITY = "activity", _("志愿活动")
    TASK = "task", _("服务任务(代办、走访、值守等)")
    CASE = "case", _("协助办理诉求")
    CHECKIN = "checkin", _("报到党员践诺服务")
    PROJECT = "project", _("三清单项目服务")  # credited by the project's completion, never by hand
    OTHER = "other", _("其他")
    CORRECTION = "correction", _("更正")


MAX_HOURS_PER_ENTRY = Decimal(24)


class VolunteerHours(models.Model):
    """One verified line of the ledger. Append-only: corrections are negative rows (``corrects`` set)."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="hours"
    )
    team = models.ForeignKey(
        VolunteerTeam,
        verbose_name=_("服务队"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hours",
    )
    region_path = models.CharField(max_length=400, editable=False)
    source = models.CharField(_("来源"), max_length=16, choices=HoursSource.choices)
    # Hours recorded by hand: what they came from, e.g. "activity:2026-05-18-义诊"; unique per volunteer.
    source_ref = models.CharField(_("来源编号"), max_length=64, blank=True)
    # Hours that flow from a task recorded elsewhere point at it; one ledger row per task row (one-to-one):
    # a volunteer's day on a 三清单 project (credited when the project is completed) ...
    project_service = models.OneToOneField(
        "needs.ProjectService",
        verbose_name=_("项目志愿服务"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    # ... or a fulfilled commitment of a checked-in party member (践诺).
    commitment = models.OneToOneField(
        "party.Commitment",
        verbose_name=_("践诺的承诺事项"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_entry",
    )
    title = models.CharField(_("服务内容"), max_length=100)
    served_on = models.DateField(_("服务日期"))
    hours = models.DecimalField(_("时长(小时)"), max_digits=5, decimal_places=2)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("核实人"), on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("更正的记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects: ClassVar[ScopedQuerySet[VolunteerHours]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path", owner="volunteer__user")

    class Meta:
        verbose_name = _("志愿服务时长")
        verbose_name_plural = _("志愿服务时长")
        ordering = ["-served_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(source="correction", corrects__isnull=False, hours__lt=0))
                | (~models.Q(source="correction") & models.Q(corrects__isnull=True, hours__gt=0)),
                name="party_hours_sign_matches_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(hours__lte=MAX_HOURS_PER_ENTRY, hours__gte=-MAX_HOURS_PER_ENTRY),
                name="party_hours_at_most_a_day",
            ),
            # Project hours come from a project service row and only from one; commitments credit 践诺 hours.
            models.CheckConstraint(
                condition=models.Q(source="project", project_service__isnull=False)
                | (~models.Q(source="project") & models.Q(project_service__isnull=True)),
                name="party_hours_project_has_service",
            ),
            models.CheckConstraint(
                condition=models.Q(commitment__isnull=True) | models.Q(source="checkin"),
                name="party_hours_commitment_is_checkin",
            ),
            # The same activity or task is credited once per volunteer (a double submit adds nothing).
            models.UniqueConstraint(
                fields=["volunteer", "source", "source_ref"],
                condition=~models.Q(source="correction") & ~models.Q(source_ref=""),
                name="party_hours_source_once",
            ),
        ]
        indexes = [
            # A volunteer's ledger and totals; a team's totals.
            models.Index(fields=["volunteer", "served_on"], name="party_hours_volunteer"),
            models.Index(fields=["team", "served_on"], name="party_hours_team"),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.served_on} {self.hours}"


class HoursCertificate(models.Model):
    """A certificate of service hours for a period: the total is frozen when issued."""

    number = models.CharField(_("证明编号"), max_length=32, unique=True)
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="certificates")
    region_path = models.CharField(max_length=400, editable=False)
    period_start = models.DateField(_("起始日期"))
    period_end = models.DateField(_("截止日期"))
    hours = models.DecimalField(_("累计时长(小时)"), max_digits=8, decimal_places=2)
    entries = models.PositiveIntegerField(_("服务次数"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("开具时间"))
    # Printed on the certificate: anyone holding it can check it on the public verification page.
    verify_code = models.CharField(_("验证码"), max_length=16, unique=True)

    objects: ClassVar[ScopedQuerySet[HoursCertificate]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path", owner="volunteer__user")

    class Meta:
        verbose_name = _("志愿服务时长证明")
        verbose_name_plural = _("志愿服务时长证明")
        ordering = ["-issued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="party_certificate_period"
            ),
        ]

    def __str__(self) -> str:
        return self.number
