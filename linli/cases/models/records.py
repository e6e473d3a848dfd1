"""The case's records: its history (events), photos, 督办 flags, followers (residents and phone callers) and the
per-day number counter."""

from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli.cases.models.case import _CASE_RETENTION, Case, Urgency
from linli.security.fields import BlindIndexField, EncryptedTextField
from linli.security.pii import PiiTag


class CaseEvent(models.Model):
    """The history row every transition writes (and the sweep writes in bulk). Append-only."""

    case = models.ForeignKey(Case, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The role the actor acted in: a Role value, "reporter", or "system".
    actor_role = models.CharField(_("操作身份"), max_length=32)
    action = models.CharField(_("动作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20, blank=True)
    from_level = models.CharField(_("原层级"), max_length=16, blank=True)
    to_level = models.CharField(_("新层级"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)
    # Shown on the public / reporter timeline (no internal notes, no personal data in note).
    is_public = models.BooleanField(_("公开"), default=False)
    created_at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("工单记录")
        verbose_name_plural = _("工单记录")
        ordering = ["case_id", "created_at", "id"]
        indexes = [
            # The timeline of one case.
            models.Index(fields=["case", "created_at"], name="caseevent_case_time"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} {self.from_status}→{self.to_status}"


class AttachmentKind(models.TextChoices):
    REPORT = "report", _("上报照片")
    RESULT = "result", _("办理结果照片")
    PROGRESS = "progress", _("办理进展照片")  # sent with an external system's progress update (Open311)


class CaseAttachment(models.Model):
    """A photo, stored re-encoded (no EXIF/GPS) under a random name by ``attachments.attachment_ingest``."""

    case = models.ForeignKey(
        Case, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("所属记录"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=AttachmentKind.choices)
    file = models.FileField(_("文件"), max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField(_("字节数"))
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    is_public = models.BooleanField(_("可公示"), default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("工单照片")
        verbose_name_plural = _("工单照片")
        ordering = ["case_id", "created_at", "id"]

    def __str__(self) -> str:
        return self.file.name


class Supervision(models.Model):
    """A 督办 flag a supervisor puts on a case; resolved when the case is resolved."""

    case = models.ForeignKey(
        Case, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="supervisions"
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    note = models.CharField(_("督办意见"), max_length=500)
    created_at = models.DateTimeField(_("督办时间"))
    resolved_at = models.DateTimeField(_("解除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-created_at", "-id"]
        indexes = [
            # Open supervisions of one case (closed together when the case is resolved).
            models.Index(fields=["case", "resolved_at"], name="supervision_case_open"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_urgency_display()}"


class CaseFollower(models.Model):
    """A resident who said "me too" on an existing case instead of filing a new one."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="followers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="followed_cases"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = _("关注")
        ordering = ["case_id", "created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="casefollower_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.case_id}"


class CaseCaller(models.Model):
    """A caller without an account who was told at 代客 intake that their problem is already filed, and asked to
    hear of it: the mobile gets an SMS when the case is settled, as the case's followers are told in-app.

    Read and written only through ``linli.cases.services.callers``: the number is encrypted at rest with a
    blind index for the duplicate check and a person's data request (PI-1); screens show ``phone_masked``.
    """

    case = models.ForeignKey(Case, verbose_name=_("工单"), on_delete=models.CASCADE, related_name="callers")
    phone = EncryptedTextField(_("来电号码"))
    phone_index = BlindIndexField(source="phone", kind="phone")
    phone_masked = models.CharField(_("来电号码(脱敏)"), max_length=20)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    pii_fields: ClassVar[dict[str, PiiTag]] = {
        "phone": PiiTag(
            category="phone",
            purpose="短信告知来电人其反映问题的办理结果",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "phone_index": PiiTag(
            category="phone",
            purpose="同一来电人不重复登记;按电话查找本人的记录(密钥哈希,不可逆)",
            retention=_CASE_RETENTION,
            retention_days=1095,
        ),
        "phone_masked": PiiTag(
            category="phone", purpose="工单页面展示(已脱敏)", retention=_CASE_RETENTION, retention_days=1095
        ),
    }

    class Meta:
        verbose_name = _("来电关注人")
        verbose_name_plural = _("来电关注人")
        ordering = ["case_id", "created_at"]
        constraints = [models.UniqueConstraint(fields=["case", "phone_index"], name="casecaller_unique")]

    def __str__(self) -> str:
        return f"{self.phone_masked} → {self.case_id}"


class CaseNumberCounter(models.Model):
    """Last number handed out per local day; incremented in the submitting transaction."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("工单编号计数")
        verbose_name_plural = _("工单编号计数")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}: {self.last}"
