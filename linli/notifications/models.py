"""In-app notifications and the outbox of messages that leave the system (SMS, WeChat).

Both are written by ``services.notification_send`` inside the caller's transaction, together with one
database task row per outbox message, so the business row, the messages and their delivery tasks commit
or roll back together (QUALITY REL-2).
"""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.scoping import ScopedQuerySet, ScopeFields
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag

# Held by no role on purpose: an inbox is personal, so ``for_user`` reduces to the owner rule and even a
# global administrator sees only their own notifications through the API.
INBOX_CAPABILITY = "notifications.read_others"


def link_is_relative(value: str) -> bool:
    """A site-relative path (``/cases/12``): no scheme, no host, no protocol-relative ``//host``."""
    if not value:
        return True
    return (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and not any(ch.isspace() or ord(ch) < 32 for ch in value)
    )


def validate_relative_link(value: str) -> None:
    if not link_is_relative(value):
        raise ValidationError(_("链接只能是以 / 开头的站内地址"), code="invalid_link")


class Notification(models.Model):
    """One message in a user's in-app inbox (站内消息)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=50, help_text=_("如 case.assigned"))
    title = models.CharField(_("标题"), max_length=120)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True, validators=[validate_relative_link])
    # The caller's idempotency key: one notification per (recipient, key) however often it is sent.
    dedup_key = models.CharField(_("去重键"), max_length=200)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    objects: ClassVar[ScopedQuerySet[Notification]] = ScopedQuerySet.as_manager()  # type: ignore[assignment]
    scope = ScopeFields(capability=INBOX_CAPABILITY, owner="recipient")

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedup_key"], name="notification_dedup_per_recipient"
            ),
        ]
        indexes = [
            # "My notifications, newest first": the inbox list and its pages.
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            # "My unread, newest first": the unread badge count and the unread block at the top of the inbox.
            models.Index(
                fields=["recipient", "-created_at"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class OutboxChannel(models.TextChoices):
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信(控制台,未接入)")


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")  # waiting for a worker; due at next_attempt_at
    SENDING = "sending", _("发送中")  # claimed by a worker; a stale claim is re-queued by the sweep
    SENT = "sent", _("已发送")  # the provider accepted it (terminal)
    FAILED = "failed", _("失败待重试")  # the last attempt failed; retried at next_attempt_at
    DEAD = "dead", _("放弃发送")  # failed too often; only an operator's requeue revives it (terminal)


# A worker may claim a row in these states once next_attempt_at has passed.
CLAIMABLE_STATUSES = (OutboxStatus.PENDING, OutboxStatus.FAILED)


_SENT_RETENTION = "发送后90天"


class OutboxMessage(models.Model):
    """One message to one phone (or WeChat user) on one channel, delivered at least once by a task.

    ``dedup_key`` is unique: it makes ``notification_send`` idempotent and is passed to the provider as
    the idempotency key, so a retried delivery never reaches the person twice (QUALITY REL-5).
    State changes are compare-and-set UPDATEs in ``linli.notifications.outbox``:
    pending|failed → sending (claim) → sent | failed | dead; sending → pending (lease expired);
    dead → pending (operator requeue).
    """

    channel = models.CharField(_("渠道"), max_length=16, choices=OutboxChannel.choices)
    kind = models.CharField(_("类型"), max_length=50)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="outbox_messages",
    )
    # Read and written only through linli.notifications.phones. Encrypted at rest with a blind index (PI-1):
    # the number is handed to the SMS provider, and found by the index only for a person's request to see
    # or erase what was sent to them (``outbox_messages_to``).
    phone = EncryptedTextField(_("手机号"), blank=True, default="")
    phone_index = BlindIndexField(source="phone", kind="phone")
    phone_display = models.CharField(_("手机号(脱敏)"), max_length=32, blank=True)
    text = models.TextField(_("内容"))
    dedup_key = models.CharField(_("去重键"), max_length=255, unique=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=500, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    provider_message_id = models.CharField(_("服务商消息编号"), max_length=100, blank=True)
    # The newest delivery task enqueued for this row (a django-tasks result id).
    task_id = models.CharField(_("任务编号"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "phone": PiiTag(
            category="phone", purpose="发送短信通知", retention=_SENT_RETENTION, retention_days=90
        ),
        "phone_index": PiiTag(
            category="phone",
            purpose="按手机号查找发给本人的短信(查询、删除请求;密钥哈希,不可逆)",
            retention=_SENT_RETENTION,
            retention_days=90,
        ),
        "phone_display": PiiTag(
            category="phone", purpose="发送记录展示(已脱敏)", retention=_SENT_RETENTION, retention_days=90
        ),
    }

    class Meta:
        verbose_name = _("外发消息")
        verbose_name_plural = _("外发消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The sweep's "due but possibly without a queued task" scan: status IN (pending, failed)
            # AND next_attempt_at <= now - grace.
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "failed"]),
                name="outbox_due",
            ),
            # The sweep's "claim whose lease expired" scan: status = sending AND claimed_at < now - lease.
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="sending"),
                name="outbox_stale_sending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.phone_display or self.recipient_id} [{self.status}]"
