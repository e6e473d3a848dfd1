"""Admin edits are audited (AUD-1): configuration changes, role changes, account edits and deletions.

``AuditedAdminMixin`` hooks the three places Django's admin already records its own history
(``log_addition``, ``log_change``, ``log_deletions``), so every add, change and delete through the admin
writes exactly one audit row per object, in the same transaction as the change. ``admin_audit_install``
(called from ``SecurityConfig.ready``, after the admin has discovered every app's ``admin.py``) mixes it
into every registered ModelAdmin, so a new admin class is audited without anyone remembering to.

Actions: ``config.add|change|delete`` (categories, SLA policies, routing rules, the calendar, places ...),
``role.grant|change|revoke`` (``Membership``; and a user edited together with their membership inlines),
``account.add|change|delete`` (``User``, API tokens), ``data.add|change|delete`` (records such as cases).
The row names the changed fields, never their values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from linli.security.audit import audit_record
from linli.security.models import AuditResult

# Model label -> category. Anything else edited in the admin counts as configuration.
CATEGORIES = {
    "accounts.user": "account",
    "accounts.apitoken": "account",
    "accounts.membership": "role",
    "cases.case": "data",
}
_VERBS = {"role": {"add": "grant", "change": "change", "delete": "revoke"}}


def _change_summary(message: Any) -> list[dict[str, Any]]:
    """The admin's change message without object names (they may be people's names)."""
    if not isinstance(message, list):
        return []
    summary = []
    for entry in message:
        if not isinstance(entry, dict):
            continue
        for kind, detail in entry.items():
            detail = detail if isinstance(detail, dict) else {}
            item: dict[str, Any] = {"kind": kind}
            if detail.get("name"):
                item["inline"] = str(detail["name"])
            if detail.get("fields"):
                item["fields"] = [str(f) for f in detail["fields"]]
            summary.append(item)
    return summary


def _inline_names(model_admin: Any, model: type[models.Model]) -> set[str]:
    from django.utils import translation

    names = set()
    with translation.override(None):  # the admin builds change messages untranslated
        for inline in getattr(model_admin, "inlines", []):
            if getattr(inline, "model", None) is model:
                names.add(str(model._meta.verbose_name))
    return names


class AuditedAdminMixin:
    """Put before ``admin.ModelAdmin`` in the bases (``admin_audit_install`` does it for you)."""

    audit_category: str = ""
    model: type[models.Model]

    def _audit_action(self, verb: str) -> str:
        category = self.audit_category or CATEGORIES.get(self.model._meta.label_lower, "config")
        return f"{category}.{_VERBS.get(category, {}).get(verb, verb)}"

    def _audit(self, request: HttpRequest, obj: models.Model, verb: str, message: Any = None) -> None:
        action = self._audit_action(verb)
        summary = _change_summary(message)
        if verb == "change" and self.model._meta.label_lower == "accounts.user":
            from linli.accounts.models import Membership

            if any(item.get("inline") in _inline_names(self, Membership) for item in summary):
                action = "role.change"  # memberships edited on the user's page: a role change
        audit_record(
            action=action,
            actor=request.user,
            obj=obj,
            result=AuditResult.OK,
            data={"via": "admin", "changes": summary},
            request=request,
        )

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_addition(request, obj, message)  # type: ignore[misc]
        self._audit(request, obj, "add", message)
        return entry

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        entry = super().log_change(request, obj, message)  # type: ignore[misc]
        self._audit(request, obj, "change", message)
        return entry

    def log_deletions(self, request: HttpRequest, queryset: Iterable[models.Model]) -> Any:
        objects = list(queryset)  # called before the delete: the rows still exist
        entries = super().log_deletions(request, objects)  # type: ignore[misc]
        for obj in objects:
            self._audit(request, obj, "delete")
        return entries


def admin_audit_install(site: admin.AdminSite) -> list[str]:
    """Mix ``AuditedAdminMixin`` into every ModelAdmin registered on ``site``; returns the labels."""
    installed = []
    for model, model_admin in list(site._registry.items()):
        cls = type(model_admin)
        if not isinstance(model_admin, AuditedAdminMixin):
            model_admin.__class__ = type(
                cls.__name__, (AuditedAdminMixin, cls), {"__module__": cls.__module__}
            )
        installed.append(model._meta.label_lower)
    return installed
