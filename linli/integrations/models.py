"""Clients of our external interfaces: Open311 API keys (the raw key is shown once, only its hash is kept)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Open311Client(models.Model):
    """A system allowed to POST service requests (a city app, a partner platform). Issued in the admin."""

    name = models.CharField(_("接入方名称"), max_length=100)
    # SHA-256 of a 32-byte random key: the key has full entropy, so a fast hash is enough (not a password).
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(_("密钥前缀"), max_length=12, editable=False)
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    # A unit's own system (e.g. a property company's work-order system): it may post progress updates to
    # the cases its unit handles. Without a unit a client may update only the requests it POSTed itself.
    unit = models.ForeignKey(
        "accounts.Unit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("填写后,该接入方可为本单位承办的工单提交办理进展"),
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311接入方")
        verbose_name_plural = _("Open311接入方")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"
