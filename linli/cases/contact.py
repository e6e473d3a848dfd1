"""The one accessor for an anonymous reporter's contact phone.

``Case.contact_phone`` is an encrypted field with a blind index (``contact_phone_index``, PI-1). Nothing else
reads it: screens and the API show ``contact_phone_masked``; the few callers that need the full number (an
SMS to a hotline caller) go through ``contact_phone_reveal``; a staff member sees it only through
``linli.security.reveal.pii_reveal`` (capability, scope, reason, one audit row — the workbench reveal view).
Lookups by number go through the blind index (``cases_with_contact_phone``), never the ciphertext column.
The mobiles of callers following a case (``CaseCaller``, written by ``services.callers``) are read here too,
for an SMS only (``caller_phones_reveal``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db.models import QuerySet

from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseCaller

_DIGITS = re.compile(r"^\+?[0-9][0-9\- ]{4,19}$")


def phone_mask(raw: str) -> str:
    digits = re.sub(r"\D", "", raw)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "****" if digits else ""


def contact_phone_set(case: Case, raw: str) -> None:
    """Store a contact phone on an unsaved (or locked) case; mobile or landline, as given."""
    raw = (raw or "").strip()
    if raw and not _DIGITS.match(raw):
        raise CaseError("invalid_phone", "联系电话格式不正确")
    case.contact_phone = re.sub(r"[\s\-]", "", raw)
    case.contact_phone_masked = phone_mask(raw)


def contact_phone_reveal(case: Case) -> str:
    """The full (decrypted) number, for sending a message to the reporter. Never log it; for a person
    looking at it, use ``pii_reveal`` (reason + audit) instead."""
    return case.contact_phone


def cases_with_contact_phone(phone: str) -> QuerySet[Case]:
    """The cases a phone number was left on (a person's request to see or erase their data), by the blind
    index under the current and the previous key. Unscoped: callers scope it (``for_user``)."""
    if not (phone or "").strip():
        return Case.objects.none()
    return Case.objects.filter(contact_phone_index__matches=phone)


def contact_phones_reveal(case_ids: Iterable[int]) -> dict[int, str]:
    """``contact_phone_reveal`` for many cases in one query (the sweep telling anonymous reporters)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    rows = Case.objects.filter(pk__in=ids).exclude(contact_phone="").values_list("pk", "contact_phone")
    return dict(rows)


def caller_phones_reveal(case_ids: Iterable[int]) -> dict[int, list[str]]:
    """The full mobiles of the callers following each case, for an SMS only (never shown or logged)."""
    out: dict[int, list[str]] = {}
    rows = CaseCaller.objects.filter(case_id__in=set(case_ids)).order_by("pk").values_list("case_id", "phone")
    for case_id, phone in rows:
        out.setdefault(case_id, []).append(phone)
    return out
