"""The projects list (项目清单): projects meet needs with resources, are claimed by an organisation (项目认领),
and report progress publicly."""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.needs.models.common import Category, EventBase, StatusCategory


class ProjectStatus(models.TextChoices):
    OPEN = "open", _("待认领")  # published for organisations to claim
    CLAIMED = "claimed", _("已认领")  # an organisation took it on
    IN_PROGRESS = "in_progress", _("实施中")  # work started
    COMPLETED = "completed", _("已完成")  # done; its needs are met
    EVALUATED = "evaluated", _("已评估")  # the community rated the result
    CANCELLED = "cancelled", _("已撤销")  # abandoned (reason recorded); its needs go back to the list


PROJECT_CATEGORY: dict[str, str] = {
    ProjectStatus.OPEN: StatusCategory.OPEN,
    ProjectStatus.CLAIMED: StatusCategory.OPEN,
    ProjectStatus.IN_PROGRESS: StatusCategory.OPEN,
    ProjectStatus.COMPLETED: StatusCategory.DONE,
    ProjectStatus.EVALUATED: StatusCategory.DONE,
    ProjectStatus.CANCELLED: StatusCategory.CANCELLED,
}
# The project board's columns, left to right.
BOARD_COLUMNS = (
    ProjectStatus.OPEN,
    ProjectStatus.CLAIMED,
    ProjectStatus.IN_PROGRESS,
    ProjectStatus.COMPLETED,
    ProjectStatus.EVALUATED,
)


class Project(TimeStampedModel):
    title = models.CharField(_("项目名称"), max_length=100)
    # Shown on the public page: written for the public, without personal data.
    summary = models.CharField(_("公开简介"), max_length=300)
    description = models.TextField(_("内部说明"), blank=True)
    category = models.CharField(_("类别"), max_length=16, choices=Category.choices)
    community = models.ForeignKey(
        "places.Region", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="needs_projects"
    )
    region_path = models.CharField(max_length=400, editable=False)  # the community's path
    needs = models.ManyToManyField("needs.Need", verbose_name=_("满足的需求"), related_name="projects")
    resources = models.ManyToManyField(
        "needs.Resource", verbose_name=_("使用的资源"), related_name="projects", blank=True
    )
    organisation = models.ForeignKey(
        "needs.Organisation",
        verbose_name=_("认领组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="projects",
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.OPEN
    )
    status_category = models.CharField(
        _("状态分类"), max_length=12, choices=StatusCategory.choices, default=StatusCategory.OPEN
    )
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    planned_end = models.DateField(_("计划完成日期"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("认领时间"), null=True, blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    evaluated_at = models.DateTimeField(_("评估时间"), null=True, blank=True)
    evaluation_score = models.PositiveSmallIntegerField(_("评估得分(1-5)"), null=True, blank=True)
    evaluation_note = models.CharField(_("评估意见"), max_length=500, blank=True)
    is_public = models.BooleanField(_("公开进度"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects: ClassVar[ScopedQuerySet[Project]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.NEEDS_VIEW, region_path="region_path")

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目清单")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The project board: a subtree of regions by status.
            models.Index(fields=["region_path", "status"], name="needs_project_board"),
            # The public page: a community's public projects.
            models.Index(fields=["community", "is_public", "status_category"], name="needs_project_public"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="needs_project_progress_le_100"),
            models.CheckConstraint(
                condition=Q(evaluation_score__isnull=True)
                | Q(evaluation_score__gte=1, evaluation_score__lte=5),
                name="needs_project_score_1_5",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(status="cancelled") | Q(organisation__isnull=False),
                name="needs_project_claimed_has_org",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ProjectEvent(EventBase):
    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="events"
    )

    class Meta:
        verbose_name = _("项目记录")
        verbose_name_plural = _("项目记录")
        ordering = ["project_id", "created_at", "id"]
        indexes = [
            # A project's timeline on its page.
            models.Index(fields=["project", "created_at"], name="needs_projevent_project"),
        ]


class ProjectUpdate(models.Model):
    """A progress report. Public ones appear on the community's page (written for the public)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="updates"
    )
    text = models.CharField(_("进展"), max_length=500)
    progress = models.PositiveSmallIntegerField(_("进度(%)"))
    is_public = models.BooleanField(_("公开"), default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("项目进展")
        verbose_name_plural = _("项目进展")
        ordering = ["project_id", "-created_at", "-id"]
        indexes = [
            # The public page: the latest public updates of a community's projects.
            models.Index(fields=["project", "is_public", "-created_at"], name="needs_update_public"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="needs_update_progress_le_100"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id} {self.progress}%"


# The same bound as the hours ledger's (``party.models.MAX_HOURS_PER_ENTRY``): one row is one day's service.
MAX_SERVICE_HOURS = Decimal(24)


class ProjectService(models.Model):
    """One volunteer's service on a project on one day (志愿服务登记).

    The volunteer belongs to a registered team whose resource the project uses. When the project is
    completed (or for a row recorded after that) the row is credited to the volunteer's hours ledger:
    exactly one ``party.VolunteerHours`` row points at it (a one-to-one key), so a repeated completion or
    a retried request credits nothing twice. Rows are never edited; a wrong credit is corrected in the
    ledger (``hours_correct``)."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="services"
    )
    volunteer = models.ForeignKey(
        "party.Volunteer", verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="project_services"
    )
    team = models.ForeignKey(
        "party.VolunteerTeam",
        verbose_name=_("服务队"),
        on_delete=models.PROTECT,
        related_name="project_services",
    )
    served_on = models.DateField(_("服务日期"))
    hours = models.DecimalField(_("时长(小时)"), max_digits=5, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("项目志愿服务")
        verbose_name_plural = _("项目志愿服务")
        ordering = ["project_id", "served_on", "id"]
        constraints = [
            # One row per volunteer and day on a project: a double submit adds nothing.
            models.UniqueConstraint(
                fields=["project", "volunteer", "served_on"], name="needs_service_once_per_day"
            ),
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=MAX_SERVICE_HOURS), name="needs_service_hours_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}:{self.volunteer_id} {self.served_on} {self.hours}"
