"""Phone callers following a case (``CaseCaller``): 代客 intake, and duplicates merged into the original.

A caller without an account, told at the window or on the hotline that their problem is already filed,
can ask to hear of it instead of filing it again. The clerk adds their mobile to the case (the
``caller_follow`` step, an event in the history, the number masked there); the mobile gets an SMS with the
case number at once (``notify.case_caller_confirm``) and, when the case is settled, the outcome that
followers with an account read in-app (``notify.RULES[...].caller``). An anonymous hotline reporter whose
case is merged as a duplicate follows the original the same way. A mobile that hears of a case already (one
of its callers, or its own anonymous reporter's) is not added twice.

The only writer of ``CaseCaller.phone`` (encrypted, blind index; PI-1): screens show
``phone_masked``; the full numbers are read for an SMS only (``contact.caller_phones_reveal``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F

from linli.accounts.services import AccountError, phone_normalize
from linli.cases.contact import caller_phones_reveal, phone_mask
from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseCaller
from linli.cases.notify import case_caller_confirm
from linli.cases.transitions import case_transition

if TYPE_CHECKING:
    from linli.accounts.models import User


@dataclass(frozen=True)
class CallerResult:
    case: Case
    phone_masked: str
    created: bool  # False: this number already follows the case


class _AlreadyFollowing(Exception):
    """This number already follows the case: the step (event, count) is rolled back; the answer says so."""


def _mobile(raw: str) -> str | None:
    try:
        return phone_normalize(raw)
    except AccountError:
        return None  # a landline (or nothing): no SMS can reach it


def _mobile_or_error(raw: str) -> str:
    mobile = _mobile(raw)
    if mobile is None:
        # Only a mobile can be told by SMS; a landline caller is given the case number to call back with.
        raise CaseError("invalid_mobile", "请填写来电人的手机号码(办理结果以短信告知)")
    return mobile


def _listening(case: Case, callers: list[str]) -> set[str]:
    """The mobiles that hear of ``case`` by SMS already: its callers and its anonymous reporter's."""
    heard = set(callers)
    if case.reporter_id is None and (mobile := _mobile(case.contact_phone)) is not None:
        heard.add(mobile)
    return heard


def case_caller_add(*, case_id: int, phone: str, actor: User) -> CallerResult:
    """代客: the caller's mobile follows an open case this clerk may see (cases.intake). Idempotent: a number
    that hears of the case already is not added again (``created`` False, no second event or SMS)."""
    mobile = _mobile_or_error(phone)
    masked = phone_mask(mobile)
    try:
        with transaction.atomic():
            result = case_transition(
                case_id=case_id,
                action="caller_follow",
                actor=actor,
                effect=lambda c: {"follower_count": c.follower_count + 1},
                data={"phone": masked},
            )
            # The case row is locked by the transition: the check and the insert are one at a time.
            callers = caller_phones_reveal([case_id]).get(case_id, [])
            if mobile in _listening(result.case, callers):
                raise _AlreadyFollowing
            try:
                with transaction.atomic():
                    CaseCaller.objects.create(
                        case_id=case_id, phone=mobile, phone_masked=masked, added_by=actor
                    )
            except IntegrityError as exc:  # the unique index: the backstop of the check above
                raise _AlreadyFollowing from exc
            case_caller_confirm(case=result.case, phone=mobile, event_id=result.event.pk)
    except _AlreadyFollowing:
        return CallerResult(case=Case.objects.get(pk=case_id), phone_masked=masked, created=False)
    return CallerResult(case=result.case, phone_masked=masked, created=True)


def case_callers_merge(*, duplicate: Case, original: Case) -> int:
    """Inside the merge's transaction: the mobiles that heard of the duplicate (its callers, its anonymous
    reporter's) follow the original, except those that hear of it already. Returns how many were added."""
    callers = caller_phones_reveal([duplicate.pk, original.pk])
    heard = _listening(original, callers.get(original.pk, []))
    new = sorted(_listening(duplicate, callers.get(duplicate.pk, [])) - heard)
    CaseCaller.objects.bulk_create(
        [CaseCaller(case=original, phone=phone, phone_masked=phone_mask(phone)) for phone in new]
    )
    if new:
        Case.objects.filter(pk=original.pk).update(follower_count=F("follower_count") + len(new))
    return len(new)
