"""Reads for the security screens: the audit trail for the auditor (VIEW_AUDIT covers the whole trail: audit
rows carry no region, and the auditor's job is to see what everyone did), and staff accounts' sign-in
controls for the security admin (MANAGE_SECURITY)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from linli.accounts.models import User, UserKind
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


# --- the security admin's screen (MANAGE_SECURITY): staff accounts' sign-in controls ----------------------
ACCOUNT_SEARCH_LIMIT = 20


def security_may_manage(user: object) -> bool:
    """Only the security admin role holds ``security.manage``: not the system admin, not a superuser, not
    the auditor (AC-5)."""
    return bool(getattr(user, "is_authenticated", False)) and user_has_capability(
        user,  # type: ignore[arg-type]
        Capability.MANAGE_SECURITY,
    )


def _active_lockouts() -> QuerySet[Any]:
    """The lockout library's rows that lock a (username, IP) pair right now."""
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt

    rows = AccessAttempt.objects.filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
    cool_off = get_cool_off()
    if cool_off:
        rows = rows.filter(attempt_time__gte=timezone.now() - cool_off)
    return rows


def staff_accounts_find(*, viewer: object, query: str) -> QuerySet[User]:
    """Staff accounts whose account name or display name contains ``query`` (at most 20, by account name);
    nothing for anyone without ``security.manage`` or for an empty query. Residents are never listed."""
    query = query.strip()
    if not query or not security_may_manage(viewer):
        return User.objects.none()
    matches = User.objects.filter(kind=UserKind.STAFF).filter(
        Q(username__icontains=query) | Q(display_name__icontains=query)
    )
    return matches.order_by("username")[:ACCOUNT_SEARCH_LIMIT]


def staff_accounts_locked(*, viewer: object) -> QuerySet[User]:
    """Staff accounts locked out from at least one IP now, by account name."""
    if not security_may_manage(viewer):
        return User.objects.none()
    names = _active_lockouts().values("username")
    return User.objects.filter(kind=UserKind.STAFF, username__in=names).order_by("username")


def staff_account_for_security(*, viewer: object, user_id: int) -> User | None:
    """The staff account the security admin acts on; None for a resident, a missing id or another viewer."""
    if not security_may_manage(viewer):
        return None
    return User.objects.filter(pk=user_id, kind=UserKind.STAFF).first()


@dataclass(frozen=True)
class AccountSecurityStatus:
    has_authenticator: bool
    enrolling: bool  # an authenticator is being set up but not yet confirmed
    backup_codes_left: int
    locked_sources: int  # (account, IP) pairs locked out now
    failures: int  # failed attempts counted now, over every IP
    last_failure_at: datetime | None
    active_api_tokens: int


def account_security_status(account: User) -> AccountSecurityStatus:
    from axes.models import AccessAttempt
    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from linli.accounts.models import ApiToken

    devices = list(TOTPDevice.objects.filter(user=account).values_list("confirmed", flat=True))
    attempts = AccessAttempt.objects.filter(username=account.get_username())
    return AccountSecurityStatus(
        has_authenticator=any(devices),
        enrolling=not all(devices) if devices else False,
        backup_codes_left=StaticToken.objects.filter(device__user=account, device__confirmed=True).count(),
        locked_sources=_active_lockouts().filter(username=account.get_username()).count(),
        failures=sum(attempts.values_list("failures_since_start", flat=True)),
        last_failure_at=attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first(),
        active_api_tokens=ApiToken.objects.filter(
            user=account, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).count(),
    )
