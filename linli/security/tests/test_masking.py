"""Masking helpers, the template filters and the JSON schema types (PI-2)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from ninja import Schema

from linli.security.masking import (
    MaskedIdNumber,
    MaskedName,
    MaskedPhone,
    mask,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
    masked_dict,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("110105199003071234", "110***********1234"),  # 居民身份证
        ("11010519900307123x", "110***********123X"),  # lower-case check character
        ("110105 1990 0307 1234", "110***********1234"),  # separators
        ("810000199003071234", "810***********1234"),  # 港澳台居民居住证
        ("915156199003071234", "915***********1234"),  # 外国人永久居留身份证 (2023)
        ("110105900307123", "110********7123"),  # 15-digit legacy 身份证
        ("USA110900307123", "USA********7123"),  # 外国人永久居留证 (old, 15 characters)
        ("H12345678", "H******78"),  # 港澳居民来往内地通行证
        ("H1234567801", "H********01"),  # older card with issue count
        ("12345678", "1*****78"),  # 台湾居民来往大陆通行证
        ("12345", "******"),  # too short to show anything
        ("", ""),
    ],
)
def test_id_numbers_mask_to_the_specified_forms(value: str, masked: str) -> None:
    assert mask_id_number(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138-1234-5678", "138****5678"),
        ("8613812345678", "138****5678"),
        ("+852 9123 4567", "852****4567"),
        ("010-12345678", "010****5678"),
        ("91234567", "****4567"),
        ("12345", "****"),
        ("", ""),
    ],
)
def test_phones_mask_to_the_specified_forms(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("张三", "张*"),
        ("欧阳娜娜", "欧***"),
        ("李小明", "李**"),
        ("李", "*"),
        ("John Smith", "J*** *****"),
        ("", ""),
    ],
)
def test_names_keep_only_the_first_character(value: str, masked: str) -> None:
    assert mask_name(value) == masked


def test_unknown_category_hides_everything() -> None:
    assert mask("health", "高血压") == "***"
    assert mask("phone", "13812345678") == "138****5678"


def test_free_text_masks_valid_ids_and_mobiles_but_not_other_numbers() -> None:
    text = "居民 110105199003071239 电话13812345678,+86 139-0000-0001;订单号 110105199003071234;时间戳 1732262400000"
    masked = mask_text(text)
    assert "110***********1239" in masked
    assert "138****5678" in masked and "139****0001" in masked
    assert "110105199003071234" in masked  # invalid check character: not an ID, left alone
    assert "1732262400000" in masked  # longer digit runs are not phones


def test_template_filters_render_masked_values_only() -> None:
    html = Template(
        "{% load masking %}{{ phone|mask_phone }} {{ id|mask_id_number }} {{ name|mask_name }}"
    ).render(Context({"phone": "13812345678", "id": "110105199003071239", "name": "张三"}))
    assert html == "138****5678 110***********1239 张*"
    assert "13812345678" not in html and "110105199003071239" not in html


def test_json_schema_types_never_carry_the_full_value() -> None:
    class PersonOut(Schema):
        name: MaskedName
        phone: MaskedPhone
        id_number: MaskedIdNumber

    person = PersonOut(name="欧阳娜娜", phone="13812345678", id_number="110105199003071239")
    body = person.model_dump_json()
    assert person.phone == "138****5678"
    assert "13812345678" not in body and "110105199003071239" not in body and "娜娜" not in body
    assert '"id_number":"110***********1239"' in body


def test_masked_dict_masks_named_keys() -> None:
    row = {"phone": "13812345678", "note": "ok", "id_number": None}
    assert masked_dict(row, {"phone": "phone", "id_number": "id_number"}) == {
        "phone": "138****5678",
        "note": "ok",
        "id_number": None,
    }
