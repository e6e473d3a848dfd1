"""Server-side masking of personal data for every HTML, JSON, Excel and PDF output (PI-2).

The forms, fixed here and tested byte for byte:

| value | masked | rule |
|---|---|---|
| 18-character ID (居民身份证, 居住证, 2023 永居证) | ``110***********1234`` | first 3, 11 ``*``, last 4 |
| 15-digit legacy ID / old 永居证 (``USA...``) | ``110********1234`` | first 3, 8 ``*``, last 4 |
| 港澳通行证 ``H12345678``, 台胞证 ``12345678`` and other 8–11 character documents | ``H******78`` | first 1, ``*``, last 2 |
| anything shorter or unrecognised | ``******`` | nothing shown |
| mainland mobile (with or without +86) | ``138****5678`` | first 3, 4 ``*``, last 4 |
| other phone numbers with ≥ 7 digits | ``852****4567`` / ``****5678`` | first 3 (if ≥ 11 digits), last 4 |
| name | ``张*``, ``欧***``, ``J***`` | the first character, then one ``*`` per further character |

Masking never fails and never returns the input unchanged when it holds something maskable. Pure Python
(no Django models) so the logging filter can import it while logging is being configured.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator
from stdnum.cn import ric

_SEPARATORS = re.compile(r"[\s\-()()]")


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    number = _SEPARATORS.sub("", str(value)).upper()
    n = len(number)
    if n == 18:
        return number[:3] + "*" * 11 + number[-4:]
    if n == 15:
        return number[:3] + "*" * 8 + number[-4:]
    if 8 <= n <= 14 or 16 <= n <= 17:
        return number[0] + "*" * (n - 3) + number[-2:]
    return "*" * 6


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    digits = re.sub(r"[^0-9]", "", str(value))
    if len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    n = len(digits)
    if n >= 11:
        return digits[:3] + "*" * (n - 7) + digits[-4:]
    if n >= 7:
        return "*" * (n - 4) + digits[-4:]
    return "*" * 4


def mask_name(value: str | None) -> str:
    if not value:
        return ""
    text = str(value).strip()
    if len(text) <= 1:
        return "*"  # a one-character name shown whole would not be masked at all
    return text[0] + "".join(" " if ch.isspace() else "*" for ch in text[1:])


MASKERS: dict[str, Callable[[str | None], str]] = {
    "phone": mask_phone,
    "id_number": mask_id_number,
    "name": mask_name,
}


def mask(category: str, value: str | None) -> str:
    """Mask by PI category (``linli.security.pii.PiiTag.category``); unknown categories hide everything."""
    masker = MASKERS.get(category)
    if masker is not None:
        return masker(value)
    return "" if not value else "***"


# --- free text (log lines, exported notes) ------------------------------------------------------
# 17 digits and a check character, not inside a longer run of digits.
_ID_IN_TEXT = re.compile(r"(?<![0-9])([0-9]{17}[0-9Xx])(?![0-9])")
# A mainland mobile, optionally with +86 / 86 and single spaces or hyphens between its groups.
_PHONE_IN_TEXT = re.compile(r"(?<![0-9+])(?:\+?86[ -]?)?(1[3-9][0-9])[ -]?([0-9]{4})[ -]?([0-9]{4})(?![0-9])")


def _mask_id_match(match: re.Match[str]) -> str:
    number = match.group(1).upper()
    if ric.calc_check_digit(number) == number[-1]:
        return mask_id_number(number)
    return match.group(0)  # 18 digits without a valid check character: an order number, not an ID


def mask_text(text: str) -> str:
    """Replace every valid ID number and mainland mobile number in free text with its masked form."""
    if not text or not any(ch.isdigit() for ch in text):
        return text
    text = _ID_IN_TEXT.sub(_mask_id_match, text)
    return _PHONE_IN_TEXT.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


# --- pydantic / django-ninja --------------------------------------------------------------------
# Output schemas declare the masked type; the schema object never holds the full value, so it cannot
# reach the response bytes even if a later step serialises the object differently.
MaskedPhone = Annotated[str, AfterValidator(mask_phone)]
MaskedIdNumber = Annotated[str, AfterValidator(mask_id_number)]
MaskedName = Annotated[str, AfterValidator(mask_name)]


def masked_dict(data: dict[str, Any], categories: dict[str, str]) -> dict[str, Any]:
    """A copy of ``data`` with each key named in ``categories`` (key -> PI category) masked."""
    out = dict(data)
    for key, category in categories.items():
        if key in out and out[key] is not None:
            out[key] = mask(category, str(out[key]))
    return out
