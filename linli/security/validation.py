"""Validation of identity-document and phone numbers, with the formats a district actually meets.

Identity documents (``id_number_validate``), each handled explicitly:

| kind | shape | check |
|---|---|---|
| 居民身份证 (mainland) | 18: 6 area + 8 birth date + 3 sequence + check | GB 11643 MOD 11-2 check character, real birth date, known province code |
| 港澳台居民居住证 | 18, area 810000 / 820000 / 830000 | the same as above |
| 外国人永久居留身份证 2023 | 18, first digit 9 | MOD 11-2 (same algorithm), real birth date |
| 第一代身份证 (legacy) | 15: 6 area + 6 birth date (YYMMDD) + 3 sequence | no check digit exists; refused unless ``allow_legacy`` (historic imports), then converted to 18 |
| 外国人永久居留证 2004/2017 | 15: 3 letters (nationality) + 12 digits | shape only (no public check digit) |
| 港澳居民来往内地通行证 | H or M + 8 digits (+ 2-digit issue count on older cards) | shape only |
| 台湾居民来往大陆通行证 | 8 digits (older: 10 digits, optionally "(A)") | shape only |

The area code is checked at province level only: county codes are renumbered over time while a person
keeps their number, so a county table would reject real people.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import phonenumbers
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.cn import ric


class IdentifierError(ValueError):
    """A refusal with a machine-readable code and a Chinese message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class IdKind:
    MAINLAND = "mainland_id"  # 居民身份证
    RESIDENCE_PERMIT_HMT = "hmt_residence_permit"  # 港澳台居民居住证
    FOREIGNER_PR = "foreigner_permanent_residence"  # 外国人永久居留身份证 (2023, 18 digits)
    FOREIGNER_PR_OLD = "foreigner_permanent_residence_old"  # 外国人永久居留证 (15 characters)
    HK_MACAU_PERMIT = "hk_macau_permit"  # 港澳居民来往内地通行证
    TAIWAN_PERMIT = "taiwan_permit"  # 台湾居民来往大陆通行证


@dataclass(frozen=True)
class NormalisedId:
    value: str  # upper-case, no separators; legacy 15-digit numbers converted to 18
    kind: str
    birth_date: dt.date | None = None
    converted_from_legacy: bool = False


# Province-level codes of GB/T 2260 (first two digits), plus 81/82/83 for the residence permits.
PROVINCE_CODES = frozenset(
    {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
        "65", "71", "81", "82", "83",
    }
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-()()]")
_HK_MACAU = re.compile(r"^[HM][0-9]{8}([0-9]{2})?$")
_TAIWAN = re.compile(r"^[0-9]{8}$|^[0-9]{10}[A-Z]?$")
_FOREIGNER_OLD = re.compile(r"^[A-Z]{3}[0-9]{12}$")
_ASCII_DIGITS = re.compile(r"^[0-9]+$")


def id_check_character(first17: str) -> str:
    """GB 11643-1999 ISO 7064 MOD 11-2 check character for 17 digits."""
    return ric.calc_check_digit(first17 + "0")


def _birth_date(text: str) -> dt.date:
    try:
        born = dt.date(int(text[0:4]), int(text[4:6]), int(text[6:8]))
    except ValueError as exc:
        raise IdentifierError("id_birth_date_invalid", _("证件号码中的出生日期不存在")) from exc
    if born > timezone.localdate() or born.year < 1880:
        raise IdentifierError("id_birth_date_invalid", _("证件号码中的出生日期不合理"))
    return born


def _validate_18(number: str) -> NormalisedId:
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise IdentifierError("id_format", _("18位证件号码应为17位数字加1位数字或X"))
    if number[17] != id_check_character(number[:17]):
        raise IdentifierError("id_checksum", _("证件号码校验位不正确,请核对是否有输错的数字"))
    born = _birth_date(number[6:14])
    if number[0] == "9":
        return NormalisedId(number, IdKind.FOREIGNER_PR, born)
    if number[:2] not in PROVINCE_CODES:
        raise IdentifierError("id_area_invalid", _("证件号码的地区码不存在"))
    kind = IdKind.RESIDENCE_PERMIT_HMT if number[:2] in {"81", "82", "83"} else IdKind.MAINLAND
    return NormalisedId(number, kind, born)


def id_number_validate(value: str, *, allow_legacy: bool = False) -> NormalisedId:
    """Validate and normalise an identity-document number, or raise ``IdentifierError`` (Chinese message)."""
    number = _SEPARATORS.sub("", value or "").upper()
    if not number:
        raise IdentifierError("id_empty", _("请填写证件号码"))
    # ASCII digits only: str.isdigit() and \d also accept other scripts' digits (e.g. "٠").
    if len(number) == 18 and _ASCII_DIGITS.match(number[:17]):
        return _validate_18(number)
    if len(number) == 15 and _ASCII_DIGITS.match(number):
        if not allow_legacy:
            raise IdentifierError(
                "id_legacy_15", _("15位第一代身份证已于2013年停止使用,请填写18位公民身份号码")
            )
        if number[:2] not in PROVINCE_CODES:
            raise IdentifierError("id_area_invalid", _("证件号码的地区码不存在"))
        first17 = number[:6] + "19" + number[6:]
        born = _birth_date(first17[6:14])
        return NormalisedId(first17 + id_check_character(first17), IdKind.MAINLAND, born, True)
    if _FOREIGNER_OLD.match(number):
        return NormalisedId(number, IdKind.FOREIGNER_PR_OLD)
    if _HK_MACAU.match(number):
        return NormalisedId(number, IdKind.HK_MACAU_PERMIT)
    if _TAIWAN.match(number):
        return NormalisedId(number, IdKind.TAIWAN_PERMIT)
    raise IdentifierError(
        "id_format",
        _(
            "无法识别的证件号码:请填写18位身份证号、港澳台居民居住证、港澳/台湾通行证或外国人永久居留身份证号码"
        ),
    )


def is_valid_id_number(value: str) -> bool:
    try:
        id_number_validate(value)
    except IdentifierError:
        return False
    return True


_MAINLAND_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")


def phone_validate(value: str, *, default_region: str = "CN") -> str:
    """A mainland mobile as 11 digits; any other number as E.164 (``+852...``) checked by phonenumbers."""
    raw = re.sub(r"[\s\-()]", "", value or "")
    if not raw:
        raise IdentifierError("phone_empty", _("请填写电话号码"))
    digits = raw.lstrip("+")
    if raw.startswith("00"):
        raw, digits = "+" + raw[2:], raw[2:]
    if (
        digits.startswith("86")
        and _MAINLAND_MOBILE.match(digits[2:])
        and (raw.startswith("+") or len(digits) == 13)
    ):
        return digits[2:]
    if _MAINLAND_MOBILE.match(raw):
        return raw
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise IdentifierError("phone_invalid", _("电话号码格式不正确")) from exc
    if not phonenumbers.is_valid_number(parsed):
        raise IdentifierError("phone_invalid", _("电话号码格式不正确"))
    if parsed.country_code == 86 and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE:
        return str(parsed.national_number)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
