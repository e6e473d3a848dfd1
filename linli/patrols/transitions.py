"""The patrol's transition table and the one function that applies it (lock, check, event, save).

Starting is the one write outside the table (there is no row to lock yet): ``services.patrol_start``
writes the first event itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from linli.patrols.errors import PatrolError, PatrolTransitionError
from linli.patrols.models import Patrol, PatrolEvent, PatrolStatus

if TYPE_CHECKING:
    from linli.accounts.models import User


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: Any


TRANSITIONS: dict[str, Transition] = {
    # The worker taps 结束巡查 (or the phone replays it after being offline).
    "end": Transition(frozenset({PatrolStatus.ACTIVE}), PatrolStatus.ENDED, _("结束巡查")),
    # The stale-patrol sweep, or starting a new patrol while an abandoned one is still open.
    "auto_end": Transition(frozenset({PatrolStatus.ACTIVE}), PatrolStatus.ENDED, _("自动结束")),
}


def patrol_transition(
    *, patrol_id: int, action: str, actor: User | None, fields: dict[str, Any], note: str = ""
) -> Patrol:
    """Apply ``action`` to the patrol: lock the row, check the table, save ``fields``, write the event."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise PatrolError("unknown_action", f"未知的巡查操作: {action}")
    with transaction.atomic():
        patrol = Patrol.objects.select_for_update().filter(pk=patrol_id).first()
        if patrol is None:
            raise PatrolError("not_found", "巡查不存在", status=404)
        if patrol.status not in rule.sources:
            raise PatrolTransitionError(
                "transition_not_allowed",
                f"巡查当前为“{patrol.get_status_display()}”,不能{rule.label}",
                details={"status": patrol.status, "action": action},
            )
        before = patrol.status
        for name, value in fields.items():
            setattr(patrol, name, value)
        patrol.status = rule.target
        patrol.save(update_fields=[*fields, "status", "updated_at"])
        PatrolEvent.objects.create(
            patrol=patrol,
            actor=actor,
            action=action,
            from_status=before,
            to_status=rule.target,
            note=note[:200],
        )
    return patrol
