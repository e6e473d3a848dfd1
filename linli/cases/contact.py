"""The one accessor for an anonymous reporter's contact phone.

Nothing else reads ``Case.contact_phone``: screens show ``contact_phone_masked``; the few callers that need
the full number (an SMS to a hotline caller) go through ``contact_phone_reveal``. The security work replaces
the storage here with an encrypted field and an audited reveal without touching callers.
"""

from __future__ import annotations

import re

from linli.cases.errors import CaseError
from linli.cases.models import Case

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
    """The full number, for sending a message or a call-back (callers are authorised already)."""
    return case.contact_phone
