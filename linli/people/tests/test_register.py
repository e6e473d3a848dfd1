"""The household register: moves in and out with their history, one person one row, identity checks
(IO-3: every valid ID number accepted, every single-digit error rejected; HK/Macau/Taiwan and foreigner
documents handled explicitly)."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from linli.people.errors import PeopleError
from linli.people.identity import clean_identity
from linli.people.models import Gender, MoveKind, Resident, ResidentMove, ResidentStatus
from linli.people.services import (
    household_get_or_create,
    resident_move_in,
    resident_move_out,
    resident_update,
)
from linli.people.tests.factories import synthetic_id, synthetic_ids
from linli.places.tests.factories import SmallDistrict
from linli.security.validation import IdKind


def test_every_valid_generated_id_number_is_accepted_and_every_single_digit_error_rejected() -> None:
    numbers = synthetic_ids(200, seed=99)
    rejected = accepted = 0
    for number in numbers:
        assert clean_identity(name="张三", id_number=number).id_number == number
        accepted += 1
        for position in range(17):
            for digit in "0123456789":
                if digit == number[position]:
                    continue
                typo = number[:position] + digit + number[position + 1 :]
                with pytest.raises(PeopleError):
                    clean_identity(name="张三", id_number=typo)
                rejected += 1
    assert (accepted, rejected) == (200, 200 * 17 * 9)


@pytest.mark.parametrize(
    ("number", "kind"),
    [
        ("810000199001010014", IdKind.RESIDENCE_PERMIT_HMT),  # 港澳台居民居住证 (checked like an ID card)
        ("H12345678", IdKind.HK_MACAU_PERMIT),  # 港澳居民来往内地通行证
        ("M1234567801", IdKind.HK_MACAU_PERMIT),  # older card with the issue count
        ("12345678", IdKind.TAIWAN_PERMIT),  # 台湾居民来往大陆通行证
        ("USA123456789012", IdKind.FOREIGNER_PR_OLD),  # 外国人永久居留证 (2004/2017)
    ],
)
def test_other_documents_are_recognised_explicitly(number: str, kind: str) -> None:
    if len(number) == 18:  # give the residence permit its real check character
        from linli.security.validation import id_check_character

        number = number[:17] + id_check_character(number[:17])
    assert clean_identity(name="陈大文", id_number=number).id_kind == kind


def test_a_2023_foreigner_permanent_residence_card_is_checked_like_an_id_card() -> None:
    from linli.security.validation import id_check_character

    first17 = "93" + "0156" + "19850412" + "001"  # starts with 9, 2023 format
    number = first17 + id_check_character(first17)
    assert clean_identity(name="JOHN SMITH", id_number=number).id_kind == IdKind.FOREIGNER_PR
    wrong = first17 + ("0" if number[-1] != "0" else "1")
    with pytest.raises(PeopleError) as exc:
        clean_identity(name="JOHN SMITH", id_number=wrong)
    assert exc.value.code == "id_checksum"


def test_gender_and_birth_date_come_from_the_id_number_and_must_agree_with_what_is_typed() -> None:
    rng = random.Random(1)
    number = synthetic_id(rng, born=dt.date(1950, 3, 4), male=False)
    ident = clean_identity(name="王芳", id_number=number)
    assert (ident.gender, ident.birth_date) == (Gender.FEMALE, dt.date(1950, 3, 4))
    with pytest.raises(PeopleError) as exc:
        clean_identity(name="王芳", id_number=number, gender=Gender.MALE)
    assert exc.value.code == "gender_mismatch"
    with pytest.raises(PeopleError) as exc:
        clean_identity(name="王芳", id_number=number, birth_date=dt.date(1950, 3, 5))
    assert exc.value.code == "birth_date_mismatch"


@pytest.mark.django_db
def test_a_move_in_and_a_move_out_each_leave_one_history_row(small_district: SmallDistrict) -> None:
    household, created = household_get_or_create(
        building=small_district.buildings[0], unit_no="2单元", room="302室"
    )
    assert created and (household.unit_no, household.room) == ("2", "302")
    assert household.grid_id == small_district.buildings[0].grid_id
    number = synthetic_ids(1)[0]

    resident = resident_move_in(
        actor=None, household=household, name="李建国", id_number=number, phone="13912345678"
    )
    resident_move_out(actor=None, resident_id=resident.pk, reason="搬往外地")

    resident.refresh_from_db()
    assert resident.status == ResidentStatus.MOVED_OUT
    assert list(
        ResidentMove.objects.filter(resident=resident).order_by("id").values_list("kind", flat=True)
    ) == [
        MoveKind.IN,
        MoveKind.OUT,
    ]
    with pytest.raises(PeopleError) as exc:
        resident_move_out(actor=None, resident_id=resident.pk)
    assert exc.value.code == "already_moved_out"


@pytest.mark.django_db
def test_a_person_who_comes_back_keeps_one_row_and_one_history(small_district: SmallDistrict) -> None:
    first, _ = household_get_or_create(building=small_district.buildings[0], unit_no="1", room="101")
    second, _ = household_get_or_create(building=small_district.buildings[5], unit_no="1", room="501")
    number = synthetic_ids(1)[0]
    resident = resident_move_in(actor=None, household=first, name="赵敏", id_number=number)
    resident_move_out(actor=None, resident_id=resident.pk)

    again = resident_move_in(actor=None, household=second, name="赵敏", id_number=number)

    assert again.pk == resident.pk
    assert (again.household_id, again.grid_id, again.status) == (
        second.pk,
        second.grid_id,
        ResidentStatus.PRESENT,
    )
    assert ResidentMove.objects.filter(resident=resident).count() == 3
    assert Resident.objects.count() == 1


@pytest.mark.django_db
def test_a_person_still_living_elsewhere_cannot_move_in_twice(small_district: SmallDistrict) -> None:
    first, _ = household_get_or_create(building=small_district.buildings[0], unit_no="1", room="101")
    second, _ = household_get_or_create(building=small_district.buildings[1], unit_no="1", room="102")
    number = synthetic_ids(1)[0]
    resident_move_in(actor=None, household=first, name="周杰", id_number=number)

    with pytest.raises(PeopleError) as exc:
        resident_move_in(actor=None, household=second, name="周杰", id_number=number)

    assert exc.value.code == "resident_present_elsewhere"
    assert Resident.objects.count() == 1


@pytest.mark.django_db
def test_a_correction_reindexes_the_encrypted_fields(small_district: SmallDistrict) -> None:
    household, _ = household_get_or_create(building=small_district.buildings[0], unit_no="", room="8")
    old, new = synthetic_ids(2, seed=5)
    resident = resident_move_in(
        actor=None, household=household, name="孙丽", id_number=old, phone="13800001111"
    )

    resident_update(
        actor=None, resident_id=resident.pk, changes={"id_number": new, "phone": "+86 139 0000 2222"}
    )

    assert Resident.objects.filter(id_number_index__matches=new).get().pk == resident.pk
    assert not Resident.objects.filter(id_number_index__matches=old).exists()
    assert Resident.objects.get(phone_index__matches="13900002222").phone == "13900002222"
    with pytest.raises(PeopleError):
        resident_update(actor=None, resident_id=resident.pk, changes={"status": "moved_out"})
