"""Window service records (一窗受理): one row per encounter at a station's window, booked or walk-in.

Records are facts, not a workflow: written once by ``services.window.service_record_create`` (which also
completes the appointment it came from), read by the desk, the workload selector and, later, ratings.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

MINUTES_MAX = 480  # one encounter longer than a working day is a typing error


class Outcome(models.TextChoices):
    COMPLETED = "completed", _("办结")  # done on the spot (即办)
    ACCEPTED = "accepted", _("受理")  # taken in; the result follows within the promised time
    MATERIALS = "materials", _("补正材料")  # the resident must bring missing or corrected materials
    REFUSED = "refused", _("不予受理")  # not admissible (the record says why)
    CONSULTED = "consulted", _("咨询")  # a question answered


_RECORD_RETENTION = "记录后3年"


class ServiceRecord(models.Model):
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("服务阵地"), on_delete=models.PROTECT, related_name="+"
    )
    item = models.ForeignKey(
        "catalog.ServiceItem", verbose_name=_("服务事项"), on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("窗口人员"), on_delete=models.PROTECT, related_name="+"
    )
    appointment = models.OneToOneField(
        "bookings.Appointment",
        verbose_name=_("预约"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_record",
    )
    resident = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("办事群众(账号)"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A walk-in without an account: what the staff member typed (shown masked).
    visitor_name = models.CharField(_("办事群众姓名"), max_length=50, blank=True)
    visitor_phone = EncryptedTextField(_("办事群众电话"), blank=True, default="")
    visitor_phone_index = BlindIndexField(source="visitor_phone", kind="phone")
    outcome = models.CharField(_("办理结果"), max_length=12, choices=Outcome.choices)
    minutes = models.PositiveSmallIntegerField(_("办理用时(分钟)"))
    note = models.CharField(_("备注"), max_length=500, blank=True)
    queue_number = models.CharField(_("排队号"), max_length=8, blank=True)
    served_at = models.DateTimeField(_("办理时间"), default=timezone.now)
    day = models.DateField(_("日期"))
    region_path = models.CharField(max_length=400, editable=False)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    objects: ClassVar[ScopedQuerySet[ServiceRecord]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path")

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "visitor_name": PiiTag(
            category="name",
            purpose="窗口服务记录中的办事群众称呼(无账号的现场办事)",
            retention=_RECORD_RETENTION,
            retention_days=1095,
            legal_basis="履行法定职责(政务服务记录)",
        ),
        "visitor_phone": PiiTag(
            category="phone",
            purpose="窗口办事后回访与评价邀请",
            retention=_RECORD_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(现场告知)",
        ),
        "visitor_phone_index": PiiTag(
            category="phone",
            purpose="按手机号查找本人的办事记录(密钥哈希,不可逆)",
            retention=_RECORD_RETENTION,
            retention_days=1095,
            legal_basis="个人同意(现场告知)",
        ),
    }

    class Meta:
        verbose_name = _("窗口服务记录")
        verbose_name_plural = _("窗口服务记录")
        ordering = ["-served_at", "-id"]
        indexes = [
            # The desk: today's encounters at one station.
            models.Index(fields=["station", "day"], name="record_station_day"),
            # Workload per staff member and per item over a period (within a subtree).
            models.Index(fields=["region_path", "day", "staff"], name="record_region_day_staff"),
            models.Index(fields=["item", "day"], name="record_item_day"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="record_outcome_valid"),
            models.CheckConstraint(
                condition=Q(minutes__gte=1, minutes__lte=MINUTES_MAX), name="record_minutes_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.get_outcome_display()} #{self.pk}"
