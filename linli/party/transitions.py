"""The check-in (我是党员我报到) transition table and the one function that applies it.

| action   | from                              | to        | by                          |
|----------|-----------------------------------|-----------|-----------------------------|
| confirm  | registered                        | confirmed | the community (party.manage) |
| reject   | registered                        | rejected  | the community (note needed) |
| activate | confirmed                         | active    | the community               |
| withdraw | registered, confirmed, active     | withdrawn | the member or the community |

Registering is the one write outside the table (no row to lock yet); ``checkin_register`` writes the
first event. Who the actor is relative to the check-in (``member`` / ``manager``) is decided by the
service through the scoping helper; this module checks state and the table's ``by`` column only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.party.errors import CheckInTransitionError, PartyError
from linli.party.models import CheckIn, CheckInEvent, CheckInStatus

if TYPE_CHECKING:
    from linli.accounts.models import User

MEMBER = "member"
MANAGER = "manager"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    by: frozenset[str]
    label: Any
    needs_note: bool = False


S = CheckInStatus
TRANSITIONS: dict[str, Transition] = {
    "confirm": Transition(frozenset({S.REGISTERED}), S.CONFIRMED, frozenset({MANAGER}), _("确认报到")),
    "reject": Transition(
        frozenset({S.REGISTERED}), S.REJECTED, frozenset({MANAGER}), _("退回报到"), needs_note=True
    ),
    "activate": Transition(frozenset({S.CONFIRMED}), S.ACTIVE, frozenset({MANAGER}), _("上岗服务")),
    "withdraw": Transition(
        frozenset({S.REGISTERED, S.CONFIRMED, S.ACTIVE}),
        S.WITHDRAWN,
        frozenset({MEMBER, MANAGER}),
        _("撤回报到"),
    ),
}


@dataclass(frozen=True)
class Applied:
    check_in: CheckIn
    event: CheckInEvent
    from_status: str


def checkin_transition(
    *,
    check_in_id: int,
    action: str,
    actor: User,
    relation: frozenset[str],
    note: str = "",
    effect: Callable[[CheckIn], dict[str, Any]] | None = None,
) -> Applied:
    """Lock the check-in, check the table (state and who may act), apply ``effect``'s fields, write the
    event. ``relation`` is what the actor is to this check-in: {"member"}, {"manager"} or both."""
    rule = TRANSITIONS.get(action)
    if rule is None:
        raise PartyError("unknown_action", f"未知的报到操作: {action}")
    note = (note or "").strip()
    if rule.needs_note and not note:
        raise PartyError("note_required", f"{rule.label}须填写说明")
    with transaction.atomic():
        check_in = CheckIn.objects.select_for_update().filter(pk=check_in_id).first()
        if check_in is None:
            raise PartyError("not_found", "报到记录不存在", status=404)
        if not (rule.by & relation):
            raise CheckInTransitionError(
                "not_allowed_for_actor", f"您不能{rule.label}", status=403, details={"action": action}
            )
        if check_in.status not in rule.sources:
            raise CheckInTransitionError(
                "transition_not_allowed",
                f"报到当前为“{check_in.get_status_display()}”,不能{rule.label}",
                details={"status": check_in.status, "action": action},
            )
        before = check_in.status
        fields = effect(check_in) if effect is not None else {}
        for name, value in fields.items():
            setattr(check_in, name, value)
        check_in.status = rule.target
        if rule.target in {S.REJECTED, S.WITHDRAWN}:
            check_in.closed_at = timezone.now()
            fields["closed_at"] = check_in.closed_at
        check_in.save(update_fields=[*fields, "status", "updated_at"])
        event = CheckInEvent.objects.create(
            check_in=check_in,
            actor=actor,
            action=action,
            from_status=before,
            to_status=rule.target,
            note=note[:200],
        )
    return Applied(check_in=check_in, event=event, from_status=before)
