"""Pieces shared by the bookings workflows: the status categories and the event row every change leaves."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class StatusCategory(models.TextChoices):
    """What a status means for counts and dashboards (never a hard-coded list of statuses)."""

    OPEN = "open", _("进行中")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class EventBase(models.Model):
    """One applied transition: who did what, from which state to which, when, and why.

    Written only by ``linli.bookings.transitions.transition_apply`` (and by the creating service for the
    first event of a new row). Append-only: nothing updates or deletes events.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # owner / staff / system: the relation under which the actor acted (the table's "who").
    actor_role = models.CharField(_("身份"), max_length=20)
    action = models.CharField(_("操作"), max_length=30)
    from_state = models.CharField(_("原状态"), max_length=30, blank=True)
    to_state = models.CharField(_("新状态"), max_length=30)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    data = models.JSONField(_("附加信息"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.action}: {self.from_state or '-'} → {self.to_state}"
