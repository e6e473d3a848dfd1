"""Shared model bases. No I/O here."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class ScheduledJobRun(models.Model):
    """One row per periodic job (``linli.core.scheduler``): when it last ran and until when it is claimed.

    Schedulers on several machines claim a due job with one conditional UPDATE on this row
    (compare-and-set on ``locked_until``), so each due run is enqueued once however many schedulers run.
    """

    name = models.CharField(_("任务名称"), max_length=100, unique=True)
    last_run_at = models.DateTimeField(_("上次触发时间"), null=True, blank=True)
    # No scheduler may enqueue the job again before this instant (the claim); = last run + interval.
    locked_until = models.DateTimeField(_("锁定至"), null=True, blank=True)
    last_task_id = models.CharField(_("上次任务编号"), max_length=64, blank=True)
    run_count = models.PositiveIntegerField(_("触发次数"), default=0)

    class Meta:
        verbose_name = _("定时任务运行记录")
        verbose_name_plural = _("定时任务运行记录")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
