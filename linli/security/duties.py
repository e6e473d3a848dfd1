"""Separation of duties (AC-5, 等保 三员分立): system admin, security admin and auditor are different people.

QUALITY AC-5 forbids one account holding all three; we apply the stricter reading 等保 assessors use:
an account holds at most ONE of the three duties. ``is_superuser`` counts as system admin (it can do
everything the system admin can). The one writer of memberships, ``accounts.services.membership_grant``,
checks this under a lock on the user row; ``duty_violations`` finds what slipped past it (a superuser flag
ticked in the admin, rows loaded by hand) for ``manage.py linli_check_duties`` and the database check.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Error as CheckError
from django.db import DatabaseError
from django.utils.translation import gettext as _

from linli.accounts.roles import Role

SYSTEM, SECURITY, AUDIT = "system", "security", "audit"
DUTY_OF_ROLE: dict[str, str] = {Role.ADMIN: SYSTEM, Role.SECURITY_ADMIN: SECURITY, Role.AUDITOR: AUDIT}
DUTY_LABELS = {SYSTEM: "系统管理员", SECURITY: "安全管理员", AUDIT: "审计员"}


def duties_held(user: Any) -> set[str]:
    """The duties a user holds now, read from the database (not the request's memoised memberships)."""
    from linli.accounts.models import Membership

    roles = Membership.objects.filter(user_id=user.pk, is_active=True, role__in=list(DUTY_OF_ROLE))
    held = {DUTY_OF_ROLE[role] for role in roles.values_list("role", flat=True)}
    if user.is_superuser:
        held.add(SYSTEM)
    return held


def duty_conflict(*, held: set[str], role: str) -> str | None:
    """The duty already held that granting ``role`` would combine with, or None when the grant is fine."""
    duty = DUTY_OF_ROLE.get(role)
    if duty is None:
        return None
    others = sorted(held - {duty})
    return others[0] if others else None


def duty_conflict_message(*, role: str, held_duty: str) -> str:
    return _("三员分立:该账号已是%(held)s,不能再授予%(new)s。") % {
        "held": DUTY_LABELS[held_duty],
        "new": DUTY_LABELS[DUTY_OF_ROLE[role]],
    }


def duties_combined_message(duties: set[str]) -> str:
    """The refusal for a save that would leave one account holding several duties at once."""
    return _(
        "三员分立:系统管理员、安全管理员、审计员须由不同的人担任,这次保存会使该账号同时是%(duties)s。"
    ) % {"duties": "、".join(DUTY_LABELS[d] for d in sorted(duties))}


def superuser_conflict_message(held_duty: str) -> str:
    return _("三员分立:该账号是%(held)s,不能设为超级用户(超级用户视同系统管理员)。") % {
        "held": DUTY_LABELS[held_duty]
    }


@dataclass(frozen=True)
class DutyViolation:
    user_id: int
    username: str
    duties: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.username} (id {self.user_id}): " + "、".join(DUTY_LABELS[d] for d in self.duties)


def duty_violations() -> list[DutyViolation]:
    """Every account holding two or more of the three duties, in username order."""
    from linli.accounts.models import Membership, User

    duties: dict[int, set[str]] = defaultdict(set)
    for user_id, role in Membership.objects.filter(is_active=True, role__in=list(DUTY_OF_ROLE)).values_list(
        "user_id", "role"
    ):
        duties[user_id].add(DUTY_OF_ROLE[role])
    for user_id in User.objects.filter(is_superuser=True).values_list("id", flat=True):
        duties[user_id].add(SYSTEM)
    clashing = {uid: held for uid, held in duties.items() if len(held) > 1}
    names = dict(User.objects.filter(id__in=clashing).values_list("id", "username"))
    return sorted(
        (DutyViolation(uid, names.get(uid, "?"), tuple(sorted(held))) for uid, held in clashing.items()),
        key=lambda v: v.username,
    )


@register(Tags.database)
def duties_check(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """``manage.py check --database default`` names every account that breaks the separation of duties."""
    if not databases:
        return []
    try:
        violations = duty_violations()
    except DatabaseError:  # not migrated yet: nothing to check
        return []
    return [
        CheckError(
            f"三员分立被破坏:{v}",
            hint="撤销多余的角色或超级用户标志(manage.py linli_check_duties 列出全部)。",
            id="linli_security.E101",
        )
        for v in violations
    ]
