"""我是党员我报到: an in-service member checks in to their home community with commitments (承诺事项).

The flow (``linli.party.transitions``): registered → confirmed by the community → active, or rejected /
withdrawn. Every step writes a ``CheckInEvent``.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.scoping import ScopedQuerySet, ScopeFields


class CheckInStatus(models.TextChoices):
    REGISTERED = "registered", _("已报到待确认")  # the member registered; the community has not answered
    CONFIRMED = "confirmed", _("社区已确认")  # the community accepted and assigned a branch / group
    ACTIVE = "active", _("在岗服务")  # serving: takes part in activities, hours are recorded
    REJECTED = (
        "rejected",
        _("已退回"),
    )  # the community turned it down (wrong community, duplicate), with a note
    WITHDRAWN = "withdrawn", _("已撤回/转出")  # the member withdrew, moved away, or the community closed it


OPEN_STATUSES = frozenset({CheckInStatus.REGISTERED, CheckInStatus.CONFIRMED, CheckInStatus.ACTIVE})


class CheckIn(models.Model):
    member = models.ForeignKey(
        "party.PartyMember", verbose_name=_("党员"), on_delete=models.PROTECT, related_name="checkins"
    )
    community = models.ForeignKey(
        "places.Region", verbose_name=_("报到社区"), on_delete=models.PROTECT, related_name="party_checkins"
    )
    region_path = models.CharField(max_length=400, editable=False)
    status = models.CharField(
        _("状态"), max_length=16, choices=CheckInStatus.choices, default=CheckInStatus.REGISTERED
    )
    skills = models.CharField(_("特长与可服务时间"), max_length=200, blank=True)
    # Set on confirmation: the 小区党支部 / 楼栋党小组 the member serves with.
    assigned_org = models.ForeignKey(
        "party.PartyOrg",
        verbose_name=_("编入组织"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    registered_at = models.DateTimeField(_("报到时间"))
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("上岗时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[ScopedQuerySet[CheckIn]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.PARTY_VIEW, region_path="region_path", owner="member__user")

    class Meta:
        verbose_name = _("党员报到")
        verbose_name_plural = _("党员报到")
        ordering = ["-registered_at", "-id"]
        constraints = [
            # One open check-in per member and community; a withdrawn or rejected one may be followed by another.
            models.UniqueConstraint(
                fields=["member", "community"],
                condition=models.Q(status__in=["registered", "confirmed", "active"]),
                name="party_checkin_one_open",
            ),
        ]
        indexes = [
            # The community's queue: check-ins by status, newest first.
            models.Index(fields=["region_path", "status", "-registered_at"], name="party_checkin_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.member_id}@{self.community_id} {self.status}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


EVENT_LABELS = {
    "register": _("报到"),
    "confirm": _("社区确认"),
    "reject": _("退回"),
    "activate": _("上岗服务"),
    "withdraw": _("撤回/转出"),
    "fulfil": _("践诺"),
}


class CheckInEvent(models.Model):
    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(_("动作"), max_length=32)
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("报到记录")
        verbose_name_plural = _("报到记录")
        ordering = ["check_in", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.check_in_id} {self.action}"

    @property
    def action_label(self) -> str:
        return str(EVENT_LABELS.get(self.action, self.action))


class CommitmentKind(models.TextChoices):
    VOLUNTEER = "volunteer", _("志愿服务")
    PAIRING = "pairing", _("结对帮扶")
    PUBLICITY = "publicity", _("政策宣传")
    SKILL = "skill", _("专业技能服务")
    GOVERNANCE = "governance", _("参与议事协商")
    OTHER = "other", _("其他")


class Commitment(models.Model):
    """One 承诺事项 made at check-in; 践诺 is recorded when it is fulfilled."""

    check_in = models.ForeignKey(CheckIn, on_delete=models.CASCADE, related_name="commitments")
    kind = models.CharField(
        _("类别"), max_length=16, choices=CommitmentKind.choices, default=CommitmentKind.VOLUNTEER
    )
    text = models.CharField(_("承诺内容"), max_length=200)
    fulfilled_at = models.DateTimeField(_("践诺时间"), null=True, blank=True)
    fulfilled_note = models.CharField(_("践诺情况"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("承诺时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("承诺事项")
        verbose_name_plural = _("承诺事项")
        ordering = ["check_in", "id"]

    def __str__(self) -> str:
        return self.text
