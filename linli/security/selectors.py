"""Reads of the audit trail for the auditor's screen (VIEW_AUDIT covers the whole trail: audit rows
carry no region, and the auditor's job is to see what everyone did)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from linli.accounts.roles import Capability
from linli.accounts.scopes import user_has_capability
from linli.security.models import AuditEvent


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # the account name, prefix match
    action: str = ""  # "auth.login", or a family: "auth."
    object_type: str = ""  # "accounts.membership"
    object_id: str = ""
    result: str = ""
    date_from: date | None = None  # local (Asia/Shanghai) calendar days, inclusive
    date_to: date | None = None
    request_id: str = ""

    def as_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.__dict__.items() if v not in ("", None)}


def _local_midnight(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_may_view(user: object) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user_has_capability(
        user,  # type: ignore[arg-type]
        Capability.VIEW_AUDIT,
    )


def audit_search(*, viewer: object, filters: AuditFilters) -> QuerySet[AuditEvent]:
    """The rows matching ``filters``, newest first; empty for anyone without ``audit.view``."""
    if not audit_may_view(viewer):
        return AuditEvent.objects.none()
    rows = AuditEvent.objects.all()
    if filters.actor:
        rows = rows.filter(actor_label__istartswith=filters.actor)
    if filters.action:
        rows = (
            rows.filter(action__startswith=filters.action)
            if filters.action.endswith(".")
            else rows.filter(action=filters.action)
        )
    if filters.object_type:
        rows = rows.filter(object_type=filters.object_type.lower())
    if filters.object_id:
        rows = rows.filter(object_id=filters.object_id)
    if filters.result:
        rows = rows.filter(result=filters.result)
    if filters.date_from:
        rows = rows.filter(created_at__gte=_local_midnight(filters.date_from))
    if filters.date_to:
        rows = rows.filter(created_at__lt=_local_midnight(filters.date_to + timedelta(days=1)))
    if filters.request_id:
        rows = rows.filter(request_id=filters.request_id)
    return rows.order_by("-seq")
