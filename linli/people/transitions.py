"""The recruitment and review of stewards as a table (the single source of truth) and the one function
that applies it: lock the row, check the table, write the event, save.

    applied ──vet (联审通过)──▶ vetted ──activate (上岗)──▶ active ──suspend──▶ suspended
       │                         │                          ▲                      │
       └──reject──▶ left ◀──leave┴──────────leave───────────┴───reinstate (恢复)◀──┘

Who may act is checked by the caller through scoping (``stewards.manage`` in scope); this module checks
state only.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from linli.accounts.models import User
from linli.people.errors import PeopleError
from linli.people.models import Steward, StewardEvent, StewardStatus

S = StewardStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: object  # lazy Chinese label for buttons


TRANSITIONS: dict[str, Transition] = {
    "vet": Transition(frozenset({S.APPLIED}), S.VETTED, gettext_lazy("联审通过")),
    "reject": Transition(frozenset({S.APPLIED, S.VETTED}), S.LEFT, gettext_lazy("不予录用")),
    "activate": Transition(frozenset({S.VETTED}), S.ACTIVE, gettext_lazy("上岗")),
    "suspend": Transition(frozenset({S.ACTIVE}), S.SUSPENDED, gettext_lazy("暂停")),
    "reinstate": Transition(frozenset({S.SUSPENDED}), S.ACTIVE, gettext_lazy("恢复在岗")),
    "leave": Transition(frozenset({S.ACTIVE, S.SUSPENDED}), S.LEFT, gettext_lazy("离任")),
}


def actions_from(status: str) -> list[str]:
    """The actions the table allows from ``status``, in table order."""
    return [action for action, t in TRANSITIONS.items() if status in t.sources]


def steward_transition(*, steward_id: int, action: str, actor: User | None, note: str = "") -> Steward:
    """Apply ``action`` to a steward, or raise ``PeopleError`` naming why not."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise PeopleError("unknown_action", _("无法识别的操作"))
    with transaction.atomic():
        steward = Steward.objects.select_for_update().filter(pk=steward_id).first()
        if steward is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        if steward.status not in rule.sources:
            raise PeopleError(
                "invalid_transition",
                _("当前状态“%(status)s”不能执行“%(action)s”")
                % {"status": steward.get_status_display(), "action": rule.label},
                status=409,
            )
        StewardEvent.objects.create(
            steward=steward,
            action=action,
            from_status=steward.status,
            to_status=rule.target,
            note=note[:200],
            actor=actor,
        )
        steward.status = rule.target
        steward.status_changed_at = timezone.now()
        steward.save(update_fields=["status", "status_changed_at", "updated_at"])
    return steward
