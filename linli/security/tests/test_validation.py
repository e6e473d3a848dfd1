"""Identity-document and phone validation (IO-3): every valid ID accepted, every single-digit error refused."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.security.validation import (
    PROVINCE_CODES,
    IdentifierError,
    IdKind,
    id_check_character,
    id_number_validate,
    phone_validate,
)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    """18-character numbers with a correct check character: mainland, residence permits, 2023 永居证."""
    if draw(st.booleans()):
        area = draw(st.sampled_from(sorted(PROVINCE_CODES))) + f"{draw(st.integers(0, 9999)):04d}"
    else:
        area = f"9{draw(st.integers(0, 99999)):05d}"  # foreigner permanent residence (2023)
    born = draw(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)))
    first17 = area + born.strftime("%Y%m%d") + f"{draw(st.integers(0, 999)):03d}"
    return first17 + id_check_character(first17)


@settings(max_examples=200, deadline=None)
@given(valid_ids())
def test_every_valid_id_number_is_accepted(number: str) -> None:
    result = id_number_validate(number)
    assert result.value == number
    assert result.kind in {IdKind.MAINLAND, IdKind.RESIDENCE_PERMIT_HMT, IdKind.FOREIGNER_PR}


@settings(max_examples=100, deadline=None)
@given(valid_ids())
def test_every_single_character_error_is_rejected(number: str) -> None:
    mutations = 0
    for position in range(18):
        alphabet = "0123456789X" if position == 17 else "0123456789"
        for replacement in alphabet:
            if replacement == number[position]:
                continue
            mutated = number[:position] + replacement + number[position + 1 :]
            with pytest.raises(IdentifierError):
                id_number_validate(mutated)
            mutations += 1
    assert mutations == 17 * 9 + 10


def test_digits_of_other_scripts_are_refused() -> None:
    with pytest.raises(IdentifierError):
        id_number_validate("11010519900307123\u0669")  # ARABIC-INDIC DIGIT NINE
    with pytest.raises(IdentifierError):
        id_number_validate("\u0661" + "10105199003071239"[0:17])


def test_lower_case_x_and_separators_are_normalised() -> None:
    assert id_number_validate("11010519900307128x").value == "11010519900307128X"
    assert id_number_validate("110105 19900307 1239").value == "110105199003071239"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("110105199003071238", "id_checksum"),
        ("110105199002301232", "id_checksum"),  # would be 30 Feb, but the checksum fails first
        ("00010519900307123X", "id_checksum"),
        ("", "id_empty"),
        ("ABC", "id_format"),
    ],
)
def test_invalid_numbers_get_a_specific_code(number: str, code: str) -> None:
    with pytest.raises(IdentifierError) as info:
        id_number_validate(number)
    assert info.value.code == code
    assert info.value.message  # Chinese message for the form


def test_impossible_birth_date_with_a_correct_check_character_is_refused() -> None:
    first17 = "11010519900230123"  # 30 February
    with pytest.raises(IdentifierError) as info:
        id_number_validate(first17 + id_check_character(first17))
    assert info.value.code == "id_birth_date_invalid"


def test_unknown_province_is_refused() -> None:
    first17 = "00010519900307123"
    with pytest.raises(IdentifierError) as info:
        id_number_validate(first17 + id_check_character(first17))
    assert info.value.code == "id_area_invalid"


def test_residence_permit_and_foreigner_ids_are_classified() -> None:
    hk = "81000019900307123"
    foreigner = "91584019900307123"
    assert id_number_validate(hk + id_check_character(hk)).kind == IdKind.RESIDENCE_PERMIT_HMT
    assert id_number_validate(foreigner + id_check_character(foreigner)).kind == IdKind.FOREIGNER_PR


def test_legacy_15_digit_id_is_refused_unless_importing_history() -> None:
    with pytest.raises(IdentifierError) as info:
        id_number_validate("110105900307123")
    assert info.value.code == "id_legacy_15"
    converted = id_number_validate("110105900307123", allow_legacy=True)
    assert converted.value == "11010519900307123" + id_check_character("11010519900307123")
    assert converted.converted_from_legacy and converted.birth_date == dt.date(1990, 3, 7)


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("USA110900307123", IdKind.FOREIGNER_PR_OLD),
        ("H12345678", IdKind.HK_MACAU_PERMIT),
        ("M1234567801", IdKind.HK_MACAU_PERMIT),
        ("12345678", IdKind.TAIWAN_PERMIT),
        ("1234567890(B)", IdKind.TAIWAN_PERMIT),
    ],
)
def test_permits_and_old_foreigner_cards_are_recognised(number: str, kind: str) -> None:
    assert id_number_validate(number).kind == kind


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("13812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("0086-138-1234-5678", "13812345678"),
        ("+852 9123 4567", "+85291234567"),
        ("+853 6612 3456", "+85366123456"),
        ("+886 912 345 678", "+886912345678"),
        ("010-6512 3456", "+861065123456"),
    ],
)
def test_phones_are_normalised(raw: str, normalised: str) -> None:
    assert phone_validate(raw) == normalised


@pytest.mark.parametrize("raw", ["", "12345", "+852 1234", "abc", "1381234567"])
def test_invalid_phones_are_refused(raw: str) -> None:
    with pytest.raises(IdentifierError):
        phone_validate(raw)
