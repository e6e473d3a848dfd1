"""The case (工单): its statuses and their categories, ratings, urgency, and the row itself (records: ``records.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.accounts.roles import Capability
from linli.cases.models.catalog import CaseKind, Channel
from linli.cases.models.policy import LadderLevel
from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("待梳理")  # waiting for the dispatcher of its current level
    TRIAGED = "triaged", _("待交办")  # kind/category/unit settled (or handed back), waiting to be assigned
    ASSIGNED = "assigned", _("待接单")  # assigned to a unit or person, waiting to be accepted
    IN_PROGRESS = "in_progress", _("办理中")  # the handler accepted it and works on it
    RESOLVED = "resolved", _("已办结待评价")  # result given; the reporter may rate it
    REVIEW = "review", _("评议中")  # rated unsatisfied a second time; the supervisor reviews it
    CLOSED = "closed", _("已结案")  # resolved and closed (rated, reviewed, or rating period passed)
    CLOSED_UNRESOLVED = "closed_unresolved", _("未解决结案")  # closed honestly without a solution
    REJECTED = "rejected", _("不予受理")  # not ours: the right unit is named
    DUPLICATE = "duplicate", _("重复件")  # merged into another case
    WITHDRAWN = "withdrawn", _("已撤回")  # the reporter took it back before work started


STATUS_VALUES = frozenset(Status.values)


class StatusCategory(models.TextChoices):
    OPEN = "open", _("未办结")
    DONE = "done", _("已办结")
    CANCELLED = "cancelled", _("已撤销")


@dataclass(frozen=True)
class StatusInfo:
    category: str
    terminal: bool
    solved: bool  # counts as solved in statistics (the 721 figure, satisfaction)


# Counts, queues and dashboards read these; nothing else lists statuses.
STATUS_INFO: dict[str, StatusInfo] = {
    Status.SUBMITTED: StatusInfo(StatusCategory.OPEN, terminal=False, solved=False),
    Status.TRIAGED: StatusInfo(StatusCategory.OPEN, terminal=False, solved=False),
    Status.ASSIGNED: StatusInfo(StatusCategory.OPEN, terminal=False, solved=False),
    Status.IN_PROGRESS: StatusInfo(StatusCategory.OPEN, terminal=False, solved=False),
    Status.REVIEW: StatusInfo(StatusCategory.OPEN, terminal=False, solved=False),
    Status.RESOLVED: StatusInfo(StatusCategory.DONE, terminal=False, solved=True),
    Status.CLOSED: StatusInfo(StatusCategory.DONE, terminal=True, solved=True),
    Status.CLOSED_UNRESOLVED: StatusInfo(StatusCategory.DONE, terminal=True, solved=False),
    Status.REJECTED: StatusInfo(StatusCategory.CANCELLED, terminal=True, solved=False),
    Status.DUPLICATE: StatusInfo(StatusCategory.CANCELLED, terminal=True, solved=False),
    Status.WITHDRAWN: StatusInfo(StatusCategory.CANCELLED, terminal=True, solved=False),
}


def statuses_in(category: str) -> list[str]:
    return [s for s, info in STATUS_INFO.items() if info.category == category]


SOLVED_STATUSES = tuple(s for s, info in STATUS_INFO.items() if info.solved)
TERMINAL_STATUSES = tuple(s for s, info in STATUS_INFO.items() if info.terminal)

# The statuses in which each of the two short clocks runs: the dispatcher's triage deadline (梳理时限) until
# the case is assigned (also after a handler returned it), the handler's accept deadline (接单时限) while
# it waits to be accepted. The transition table's sweep actions, the sweep, the partial indexes and the
# queue filters read these.
# Plain strings: the partial indexes' conditions reach the migrations.
TRIAGE_CLOCK_STATUSES: tuple[str, ...] = (Status.SUBMITTED.value, Status.TRIAGED.value)
ACCEPT_CLOCK_STATUSES: tuple[str, ...] = (Status.ASSIGNED.value,)


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


_CASE_RETENTION = "工单关闭后3年"


class Case(models.Model):
    """One resident request. Every field that moves in the loop is written by ``transitions.case_transition``.

    Foreign keys carry no index of their own (``db_index=False``): every index costs each submission and
    each row the SLA sweep moves, and the queries that need them are served by the composite and partial
    indexes in ``Meta`` (queue per grid/unit/assignee, my cases, nearby, sweep, 721).
    """

    number = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.CharField(_("诉求类型"), max_length=16, choices=CaseKind.choices)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    title = models.CharField(_("标题"), max_length=100)
    text = models.TextField(_("诉求内容"))
    # --- who -------------------------------------------------------------------------------------
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
        db_index=False,
    )
    # Staff who filed it on the reporter's behalf (代客登记: window, hotline, grid patrol).
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="filed_cases",
        db_index=False,
    )
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    # Read and written only through linli.cases.contact. Encrypted at rest with a blind index for exact
    # lookup (PI-1); screens show contact_phone_masked, staff see the full number only through an audited
    # reveal (PI-2). The index has a database default too, so bulk loaders that write raw rows (bench/)
    # without it still insert.
    contact_phone = EncryptedTextField(_("联系电话"), blank=True, default="")
    contact_phone_index = BlindIndexField(source="contact_phone", kind="phone", db_default="")
    contact_phone_masked = models.CharField(_("联系电话(脱敏)"), max_length=20, blank=True)
    # --- where -----------------------------------------------------------------------------------
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    building = models.ForeignKey(
        "places.Region",
        verbose_name=_("楼栋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    grid = models.ForeignKey(
        "places.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    estate = models.ForeignKey(
        "places.Region",
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    community = models.ForeignKey(
        "places.Region",
        verbose_name=_("社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    street = models.ForeignKey(
        "places.Region",
        verbose_name=_("街道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    district = models.ForeignKey(
        "places.Region", verbose_name=_("区"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Path of the deepest region known (estate, else community, else street/district) for subtree scoping.
    region_path = models.CharField(max_length=400, db_index=True, editable=False)
    # --- who handles it --------------------------------------------------------------------------
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("责任单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("承办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        db_index=False,
    )
    # --- state -----------------------------------------------------------------------------------
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    # Derived from STATUS_INFO by the apply function and the sweep; a check constraint keeps it honest.
    status_category = models.CharField(
        _("状态类别"), max_length=10, choices=StatusCategory.choices, default=StatusCategory.OPEN
    )
    # Blank while the case has no community yet (address-only intake waiting for the district dispatcher).
    level = models.CharField(_("当前层级"), max_length=16, choices=LadderLevel.choices, blank=True)
    resolved_level = models.CharField(_("办结层级"), max_length=16, choices=LadderLevel.choices, blank=True)
    escalation_count = models.PositiveSmallIntegerField(_("升级次数"), default=0)
    # When the case arrived at its current level (submission, escalation, reopening): deadlines count from it.
    level_started_at = models.DateTimeField(_("进入本层级时间"), null=True, blank=True)
    triage_due_at = models.DateTimeField(_("梳理时限"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("接单时限"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结时限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    warned_at = models.DateTimeField(_("已预警时间"), null=True, blank=True)
    # The two short clocks: when to warn, and the sweep's compare-and-set markers (when it warned, when it
    # marked the deadline passed). Reset whenever the deadline is set again (arrival at a level, return,
    # reopening for triage; every assignment for accept); read only in the clock's statuses (above).
    triage_warn_at = models.DateTimeField(_("梳理预警时间"), null=True, blank=True)
    triage_warned_at = models.DateTimeField(_("梳理已预警时间"), null=True, blank=True)
    triage_overdue_at = models.DateTimeField(_("梳理超时标记时间"), null=True, blank=True)
    accept_warn_at = models.DateTimeField(_("接单预警时间"), null=True, blank=True)
    accept_warned_at = models.DateTimeField(_("接单已预警时间"), null=True, blank=True)
    accept_overdue_at = models.DateTimeField(_("接单超时标记时间"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("接单时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    result_text = models.TextField(_("办理结果"), blank=True)
    supervision_count = models.PositiveSmallIntegerField(_("督办次数"), default=0)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    reopen_count = models.PositiveSmallIntegerField(_("重办次数"), default=0)
    rating = models.CharField(_("评价"), max_length=12, choices=Rating.choices, blank=True)
    rating_comment = models.CharField(_("评价意见"), max_length=500, blank=True)
    rated_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    follower_count = models.PositiveIntegerField(_("关注人数"), default=0)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,
    )
    rejected_to_unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("应由单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    rejected_to_text = models.CharField(_("应由单位(文字)"), max_length=100, blank=True)
    is_public = models.BooleanField(_("允许公示"), default=True)
    # --- retries and external systems ------------------------------------------------------------
    # "u:<reporter id>", "s:<staff filer>" or "c:<channel>:<client>": who filed it (an Open311 client may post
    # updates to its own requests); with the key it makes retries return the same case.
    idempotency_scope = models.CharField(max_length=80, blank=True, editable=False)
    idempotency_key = models.CharField(max_length=64, blank=True, editable=False)
    external_id = models.CharField(_("外部编号"), max_length=64, blank=True)
    # Not auto_now_add: history imports keep the original time; services pass the submission instant.
    created_at = models.DateTimeField(_("上报时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects: ClassVar[ScopedQuerySet[Case]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(
        capability=Capability.CASES_VIEW,
        region_path="region_path",
        grid="grid",
        unit="unit",
        owner="reporter",
    )

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "contact_name": PiiTag(
            category="name",
            purpose="诉求办理中称呼和回访上报人",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "contact_phone": PiiTag(
            category="phone",
            purpose="诉求办理中回访联系上报人",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "contact_phone_index": PiiTag(
            category="phone",
            purpose="按电话查找本人的诉求(查询、删除请求;密钥哈希,不可逆)",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "contact_phone_masked": PiiTag(
            category="phone", purpose="工单页面展示(已脱敏)", retention=_CASE_RETENTION, retention_days=1095
        ),
        "lat": PiiTag(
            category="location",
            purpose="问题发生位置,用于定位网格与派单",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "lng": PiiTag(
            category="location",
            purpose="问题发生位置,用于定位网格与派单",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "address": PiiTag(
            category="address",
            purpose="问题发生地点的文字描述",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
    }

    class Meta:
        verbose_name = _("诉求工单")
        verbose_name_plural = _("诉求工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The SLA sweep ("open cases at level X whose resolve deadline passed") and the overdue board.
            models.Index(
                fields=["level", "resolve_due_at"],
                condition=models.Q(status_category="open"),
                name="case_open_level_due",
            ),
            # The warning sweep: open cases whose warning time passed and who were not warned yet.
            models.Index(
                fields=["warn_at"],
                condition=models.Q(status_category="open", warned_at__isnull=True),
                name="case_open_warn",
            ),
            # The triage and accept sweeps: cases in the clock's statuses whose deadline passed and that are
            # not marked overdue yet, and those whose warning time passed and that were not warned yet.
            models.Index(
                fields=["triage_due_at"],
                condition=models.Q(status__in=TRIAGE_CLOCK_STATUSES, triage_overdue_at__isnull=True),
                name="case_triage_due",
            ),
            models.Index(
                fields=["triage_warn_at"],
                condition=models.Q(
                    status__in=TRIAGE_CLOCK_STATUSES,
                    triage_warned_at__isnull=True,
                    triage_overdue_at__isnull=True,
                ),
                name="case_triage_warn",
            ),
            models.Index(
                fields=["accept_due_at"],
                condition=models.Q(status__in=ACCEPT_CLOCK_STATUSES, accept_overdue_at__isnull=True),
                name="case_accept_due",
            ),
            models.Index(
                fields=["accept_warn_at"],
                condition=models.Q(
                    status__in=ACCEPT_CLOCK_STATUSES,
                    accept_warned_at__isnull=True,
                    accept_overdue_at__isnull=True,
                ),
                name="case_accept_warn",
            ),
            # The auto-close sweep: resolved cases waiting for a rating, oldest first. ``status`` leads (a
            # constant here) so that SQLite, without statistics, prefers it to case_resolved_at below:
            # an equality and a range beat a range alone.
            models.Index(
                fields=["status", "resolved_at"],
                condition=models.Q(status="resolved"),
                name="case_awaiting_rating",
            ),
            # "My cases" for a resident.
            models.Index(fields=["reporter", "-created_at"], name="case_reporter_recent"),
            # Grid worker and unit queues.
            models.Index(fields=["grid", "status_category"], name="case_grid_status"),
            models.Index(fields=["unit", "status_category"], name="case_unit_status"),
            models.Index(fields=["assignee", "status_category"], name="case_assignee_status"),
            # Nearby similar open cases on submission ("me too"): same category, recent, then a bbox.
            models.Index(fields=["category", "status_category", "created_at"], name="case_category_open"),
            # The 721 figure and the public list: solved cases by resolution time.
            models.Index(
                fields=["resolved_at"], condition=models.Q(resolved_at__isnull=False), name="case_resolved_at"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_scope", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="case_idempotency_unique",
            ),
            # Hotline / Open311 imports: one case per external order number and channel.
            models.UniqueConstraint(
                fields=["channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="case_external_unique",
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(status__in=statuses_in(StatusCategory.OPEN), status_category=StatusCategory.OPEN)
                    | models.Q(
                        status__in=statuses_in(StatusCategory.DONE), status_category=StatusCategory.DONE
                    )
                    | models.Q(
                        status__in=statuses_in(StatusCategory.CANCELLED),
                        status_category=StatusCategory.CANCELLED,
                    )
                ),
                name="case_status_category_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def status_label(self) -> str:
        """The status in words (Chinese). ``get_status_display`` builds a dict of every choice's lazy label
        on each call, translating them all to hash them; this translates one."""
        return str(Status(self.status).label) if self.status in STATUS_VALUES else self.status

    @property
    def is_open(self) -> bool:
        return self.status_category == StatusCategory.OPEN

    @property
    def is_overdue(self) -> bool:
        """Open and past its resolution deadline (queues filter the same condition in SQL)."""
        return self.is_open and self.resolve_due_at is not None and self.resolve_due_at < timezone.now()

    @property
    def is_triage_overdue(self) -> bool:
        """Waiting for the dispatcher past its triage deadline (``selectors.deadline_overdue_q``)."""
        return (
            self.status in TRIAGE_CLOCK_STATUSES
            and self.triage_due_at is not None
            and self.triage_due_at < timezone.now()
        )

    @property
    def is_accept_overdue(self) -> bool:
        """Waiting to be accepted past its accept deadline (``selectors.deadline_overdue_q``)."""
        return (
            self.status in ACCEPT_CLOCK_STATUSES
            and self.accept_due_at is not None
            and self.accept_due_at < timezone.now()
        )

    @property
    def is_triage_warned(self) -> bool:
        return self.status in TRIAGE_CLOCK_STATUSES and self.triage_warned_at is not None

    @property
    def is_accept_warned(self) -> bool:
        return self.status in ACCEPT_CLOCK_STATUSES and self.accept_warned_at is not None
