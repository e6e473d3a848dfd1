"""Cleaning a person's identifying fields before they reach a model: the one place the register, the
forms, the API and the Excel import validate ID numbers, phones, names and dates.

ID numbers go through ``linli.security.validation.id_number_validate``: 18-character numbers are checked
(GB 11643 check character, real birth date, province), 港澳台居民居住证 and the 2023 外国人永久居留身份证
share that check, 港澳/台湾通行证 and the old 15-character 永居证 are accepted by shape. For 18-character
numbers the birth date and gender are read from the number: when the form or the sheet also gives them and
they disagree, that is an error (one of them is mistyped), not something to silently pick.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from linli.people.errors import PeopleError
from linli.people.models import Gender, Registration, Relation
from linli.security.validation import IdentifierError, IdKind, id_number_validate, phone_validate

NAME_MAX = 50
_18_KINDS = {IdKind.MAINLAND, IdKind.RESIDENCE_PERMIT_HMT, IdKind.FOREIGNER_PR}


@dataclass(frozen=True)
class CleanIdentity:
    name: str
    gender: str
    birth_date: dt.date | None
    id_kind: str
    id_number: str
    phone: str


def clean_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise PeopleError("name_required", _("请填写姓名"))
    if len(name) > NAME_MAX:
        raise PeopleError("name_too_long", _("姓名不能超过50个字"))
    if any(ch.isdigit() for ch in name):
        # A number in the name column is almost always a shifted column (an ID or a phone).
        raise PeopleError("name_has_digits", _("姓名中不能有数字,请检查是否填错了列"))
    return name


def clean_identity(
    *,
    name: str,
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
) -> CleanIdentity:
    """Validated and normalised identity fields, or ``PeopleError`` with the first problem."""
    clean = clean_name(name)
    if gender and gender not in Gender.values:
        raise PeopleError("gender_invalid", _("性别只能是“男”或“女”"))
    id_kind, number = "", ""
    if id_number and id_number.strip():
        try:
            normalised = id_number_validate(id_number)
        except IdentifierError as exc:
            raise PeopleError(exc.code, exc.message) from exc
        id_kind, number = normalised.kind, normalised.value
        if normalised.kind in _18_KINDS and normalised.birth_date is not None:
            from_id = Gender.MALE if int(number[16]) % 2 else Gender.FEMALE
            if gender and gender != from_id:
                raise PeopleError("gender_mismatch", _("性别与证件号码不一致"))
            if birth_date and birth_date != normalised.birth_date:
                raise PeopleError("birth_date_mismatch", _("出生日期与证件号码不一致"))
            gender, birth_date = from_id, normalised.birth_date
    if birth_date is not None and (birth_date > timezone.localdate() or birth_date.year < 1880):
        raise PeopleError("birth_date_invalid", _("出生日期不合理"))
    clean_phone = ""
    if phone and phone.strip():
        try:
            clean_phone = phone_validate(phone)
        except IdentifierError as exc:
            raise PeopleError(exc.code, exc.message) from exc
    return CleanIdentity(clean, gender, birth_date, id_kind, number, clean_phone)


@functools.lru_cache(maxsize=32)
def _choice_map(choices: type[Relation] | type[Registration], language: str | None) -> dict[str, str]:
    """Code, label and the label's short form (before "(") → code, per language: an import of 10,000
    rows looks these up 20,000 times."""
    found: dict[str, str] = {}
    for code, label in choices.choices:
        for key in (str(code), str(label), str(label).split("(")[0]):
            found.setdefault(key, str(code))
    return found


def clean_choice(value: str, choices: type[Relation] | type[Registration], *, field: str) -> str:
    """A code or its Chinese label (as typed in a sheet) → the code."""
    text = (value or "").strip()
    code = _choice_map(choices, get_language()).get(text) if text else None
    if code is not None:
        return code
    raise PeopleError(
        f"{field}_invalid",
        _("“%(value)s”不是有效的选项,可填:%(options)s")
        % {"value": text[:20], "options": "、".join(str(label) for _code, label in choices.choices)},
    )
