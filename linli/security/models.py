"""The security event trail (AUD-1, AUD-2): one append-only, hash-chained row per audited action.

``AuditEvent`` rows are written only by ``linli.security.audit.audit_record``. Each row carries ``seq``
(its place in the chain), ``prev_hash`` (the previous row's ``hash``) and ``hash`` (HMAC-SHA256 with the
audit key over a canonical serialisation of the row). ``AuditChainHead`` is the single row that
serialises appends and remembers where the chain starts (after pruning) and ends.

Append-only, in three layers: the ORM refuses updates and deletes here; a database trigger refuses them
(``linli.security.audit_guard``); on PostgreSQL the application role has no UPDATE/DELETE grant
(``manage.py audit_grants --print``). The hash chain makes any edit that gets past all three visible to
``manage.py verify_audit``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

GENESIS_HASH = "0" * 64


class AuditAppendOnlyError(Exception):
    """The audit trail is append-only: rows are never updated or deleted through the ORM."""


class AuditResult(models.TextChoices):
    OK = "ok", _("成功")  # the action happened
    DENIED = "denied", _("拒绝")  # refused by a permission, scope or policy check
    FAILED = "failed", _("失败")  # attempted and failed (wrong password, invalid input)


def _refuse(what: str) -> NoReturn:
    raise AuditAppendOnlyError(f"the audit trail is append-only: {what} is refused")


class AuditQuerySet(models.QuerySet["AuditEvent"]):
    """Refuses every bulk write except the insert ``audit_record`` makes one row at a time."""

    def update(self, **kwargs: Any) -> NoReturn:
        _refuse("QuerySet.update()")

    def delete(self) -> NoReturn:
        _refuse("QuerySet.delete()")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("bulk_update()")

    def bulk_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("bulk_create() (rows must be chained one by one through audit_record)")

    def update_or_create(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("update_or_create()")

    def _raw_delete(self, using: Any) -> NoReturn:  # the deletion collector's fast path
        _refuse("a raw delete")


class AuditEvent(models.Model):
    """One audited action: who (actor, role, IP), what (action, object), how it ended, when (UTC)."""

    seq = models.BigIntegerField(_("链序号"), unique=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)  # stored in UTC (USE_TZ)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        # The trail outlives the account and is never updated: no SET_NULL cascade (it would be an
        # UPDATE of audit rows), no database constraint (deleting the user must not be blocked).
        # actor_label keeps who it was.
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_label = models.CharField(_("操作人账号"), max_length=150, blank=True)
    role = models.CharField(_("角色"), max_length=200, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=64)
    result = models.CharField(_("结果"), max_length=16, choices=AuditResult.choices)
    object_type = models.CharField(_("对象类型"), max_length=100, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    key_id = models.CharField(_("密钥编号"), max_length=32, blank=True)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True)
    hash = models.CharField(_("哈希"), max_length=64, blank=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-seq"]
        indexes = [
            # The auditor's screen: "what happened to this object", newest first.
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_recent"),
            # "What did this person do", newest first.
            models.Index(fields=["actor", "-created_at"], name="audit_actor_recent"),
            # Searches by action over a period.
            models.Index(fields=["action", "created_at"], name="audit_action_time"),
            # The pruning job's age cut-off and the screen's date-range search.
            models.Index(fields=["created_at"], name="audit_time"),
            # The screen's "everything one request did".
            models.Index(fields=["request_id"], name="audit_request"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label or '-'} {self.action} {self.result}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            _refuse("saving an existing row")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("deleting a row")


class AuditChainHead(models.Model):
    """The one row (pk 1) every append locks: it serialises writers so the chain cannot fork, and keeps
    the chain's two ends. ``genesis_*`` is the anchor the first stored row links to: zeros for a chain
    that was never pruned, else the last pruned row's seq and hash. ``mac`` (HMAC with the audit key)
    makes an edited head detectable."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    genesis_seq = models.BigIntegerField(default=0)
    genesis_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    key_id = models.CharField(max_length=32, blank=True)
    mac = models.CharField(max_length=64, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = _("审计链头")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]

    def __str__(self) -> str:
        return f"audit chain {self.genesis_seq + 1}..{self.last_seq}"
