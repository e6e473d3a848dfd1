"""Rooms and tools of a station (一室多用, 小修小补): bookable rooms with rules, and tools lent out.

Rooms are never double-booked. On PostgreSQL an exclusion constraint (``btree_gist``: same room, and
``tstzrange(starts_at, ends_at)`` overlapping, among bookings that hold the room) makes the database refuse
the second of two overlapping bookings whatever the code does; it is added by migration 0002 only on
PostgreSQL. On SQLite every write transaction is ``BEGIN IMMEDIATE`` (settings), so the service's overlap
query and its insert run with the write lock held: two bookings cannot interleave there either.
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.bookings.models.appointments import _category_matches
from linli.bookings.models.common import EventBase, StatusCategory
from linli.core.models import TimeStampedModel
from linli.core.scoping import ScopedQuerySet, ScopeFields


class ResourceKind(models.TextChoices):
    ROOM = "room", _("场地/活动室")
    TOOL = "tool", _("工具(小修小补)")


class Resource(TimeStampedModel):
    station = models.ForeignKey(
        "stations.Station", verbose_name=_("服务阵地"), on_delete=models.CASCADE, related_name="resources"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=ResourceKind.choices)
    name = models.CharField(_("名称"), max_length=100)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    # Rooms: how many people fit, and the booking rules.
    capacity = models.PositiveSmallIntegerField(_("容纳人数"), null=True, blank=True)
    min_minutes = models.PositiveSmallIntegerField(_("最短时长(分钟)"), default=30)
    max_minutes = models.PositiveSmallIntegerField(_("最长时长(分钟)"), default=240)
    advance_days = models.PositiveSmallIntegerField(_("最多提前预订(天)"), default=14)
    per_person_limit = models.PositiveSmallIntegerField(
        _("每人同时有效预订/借用上限"), default=2, help_text=_("尚未结束的预订或未归还的借用")
    )
    needs_approval = models.BooleanField(_("须审批"), default=False)
    # Tools: how many there are, how many are out, and the default loan period.
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    on_loan = models.PositiveSmallIntegerField(_("借出数量"), default=0)
    loan_days = models.PositiveSmallIntegerField(_("借用天数"), default=7)
    is_active = models.BooleanField(_("启用"), default=True)
    region_path = models.CharField(max_length=400, editable=False)

    objects: ClassVar[ScopedQuerySet[Resource]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path")

    class Meta:
        verbose_name = _("场地与工具")
        verbose_name_plural = _("场地与工具")
        ordering = ["station_id", "kind", "name"]
        indexes = [
            # A station's rooms or tools (the resident page and the desk).
            models.Index(fields=["station", "kind", "is_active"], name="resource_station_kind"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ResourceKind.values), name="resource_kind_valid"),
            models.CheckConstraint(condition=Q(on_loan__lte=F("quantity")), name="resource_not_overlent"),
            models.CheckConstraint(
                condition=Q(min_minutes__gte=1, max_minutes__gte=F("min_minutes")),
                name="resource_length_rule",
            ),
            models.CheckConstraint(
                condition=Q(per_person_limit__gte=1), name="resource_person_limit_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> int:
        return max(0, self.quantity - self.on_loan)


class RoomBookingStatus(models.TextChoices):
    PENDING = "pending", _("待审批")  # holds the room until a decision
    CONFIRMED = "confirmed", _("已确认")
    REJECTED = "rejected", _("未通过")
    CANCELLED = "cancelled", _("已取消")


ROOM_BOOKING_CATEGORY: dict[str, str] = {
    RoomBookingStatus.PENDING: StatusCategory.OPEN,
    RoomBookingStatus.CONFIRMED: StatusCategory.OPEN,
    RoomBookingStatus.REJECTED: StatusCategory.CANCELLED,
    RoomBookingStatus.CANCELLED: StatusCategory.CANCELLED,
}
# Bookings in these statuses occupy the room (the exclusion constraint's WHERE clause says the same).
HOLDS_ROOM = tuple(s for s, c in ROOM_BOOKING_CATEGORY.items() if c == StatusCategory.OPEN)


class RoomBooking(TimeStampedModel):
    resource = models.ForeignKey(
        Resource, verbose_name=_("场地"), on_delete=models.PROTECT, related_name="bookings"
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("预订人"),
        on_delete=models.PROTECT,
        related_name="room_bookings",
    )
    purpose = models.CharField(_("用途"), max_length=200)
    attendees = models.PositiveSmallIntegerField(_("人数"), default=1)
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    status = models.CharField(_("状态"), max_length=12, choices=RoomBookingStatus.choices)
    status_category = models.CharField(_("状态类别"), max_length=10, choices=StatusCategory.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    region_path = models.CharField(max_length=400, editable=False)

    objects: ClassVar[ScopedQuerySet[RoomBooking]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path", owner="booked_by")

    class Meta:
        verbose_name = _("场地预订")
        verbose_name_plural = _("场地预订")
        ordering = ["starts_at", "id"]
        indexes = [
            # The overlap check and the room's calendar: bookings of one room by time.
            models.Index(fields=["resource", "starts_at"], name="room_booking_resource_start"),
            # The per-person limit and "my bookings".
            models.Index(fields=["booked_by", "status_category", "ends_at"], name="room_booking_person"),
            # The approval queue: pending bookings in a subtree.
            models.Index(
                fields=["region_path", "starts_at"],
                condition=Q(status=RoomBookingStatus.PENDING),
                name="room_booking_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="room_booking_ends_after_start"
            ),
            models.CheckConstraint(
                condition=_category_matches(ROOM_BOOKING_CATEGORY), name="room_booking_category_matches"
            ),
            # + on PostgreSQL: room_booking_no_overlap (EXCLUDE USING gist), migration 0002.
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} {self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%H:%M}"


class RoomBookingEvent(EventBase):
    booking = models.ForeignKey(RoomBooking, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("场地预订记录")
        verbose_name_plural = _("场地预订记录")
        ordering = ["booking_id", "created_at", "id"]


class LoanStatus(models.TextChoices):
    LENT = "lent", _("借出中")
    RETURNED = "returned", _("已归还")


LOAN_CATEGORY: dict[str, str] = {
    LoanStatus.LENT: StatusCategory.OPEN,
    LoanStatus.RETURNED: StatusCategory.DONE,
}


class ToolLoan(TimeStampedModel):
    resource = models.ForeignKey(
        Resource, verbose_name=_("工具"), on_delete=models.PROTECT, related_name="loans"
    )
    borrower = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("借用人"),
        on_delete=models.PROTECT,
        related_name="tool_loans",
    )
    quantity = models.PositiveSmallIntegerField(_("数量"), default=1)
    lent_at = models.DateTimeField(_("借出时间"))
    due_at = models.DateTimeField(_("应还时间"))
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=LoanStatus.choices, default=LoanStatus.LENT)
    status_category = models.CharField(
        _("状态类别"), max_length=10, choices=StatusCategory.choices, default=StatusCategory.OPEN
    )
    lent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The local date of the last overdue reminder: the sweep's compare-and-set sends at most one per day.
    overdue_reminded_on = models.DateField(_("最近催还日期"), null=True, blank=True)
    region_path = models.CharField(max_length=400, editable=False)

    objects: ClassVar[ScopedQuerySet[ToolLoan]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=Capability.BOOKINGS_VIEW, region_path="region_path", owner="borrower")

    class Meta:
        verbose_name = _("工具借用")
        verbose_name_plural = _("工具借用")
        ordering = ["-lent_at", "-id"]
        indexes = [
            # The overdue sweep: loans still out, by due time (partial: only the few open ones).
            models.Index(fields=["due_at"], condition=Q(status=LoanStatus.LENT), name="loan_open_due"),
            # The per-person limit and "my loans".
            models.Index(fields=["borrower", "status"], name="loan_borrower_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="loan_quantity_positive"),
            models.CheckConstraint(condition=Q(due_at__gt=F("lent_at")), name="loan_due_after_lent"),
            models.CheckConstraint(condition=_category_matches(LOAN_CATEGORY), name="loan_category_matches"),
        ]

    def __str__(self) -> str:
        return f"{self.resource_id} × {self.quantity} → {self.borrower_id}"


class ToolLoanEvent(EventBase):
    loan = models.ForeignKey(ToolLoan, on_delete=models.CASCADE, related_name="events")

    class Meta:
        verbose_name = _("工具借用记录")
        verbose_name_plural = _("工具借用记录")
        ordering = ["loan_id", "created_at", "id"]
