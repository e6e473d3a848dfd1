"""Writes to the household register: households, residents, and moves in and out (each move one history
row). The caller has checked scope (``people.edit`` on the building or household); these check state."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from linli.accounts.models import User
from linli.people.errors import PeopleError
from linli.people.identity import clean_choice, clean_identity
from linli.people.models import (
    Household,
    MoveKind,
    Registration,
    Relation,
    Resident,
    ResidentMove,
    ResidentStatus,
    tags_join,
)
from linli.places.models import Level, Region

UNIT_MAX, ROOM_MAX = 10, 20


def household_clean_address(*, unit_no: str, room: str) -> tuple[str, str]:
    unit_no, room = (unit_no or "").strip(), (room or "").strip()
    # "2单元" and "2" are the same 单元; "302室" and "302" the same room.
    unit_no = unit_no.removesuffix("单元")
    room = room.removesuffix("室")
    if not room:
        raise PeopleError("room_required", _("请填写房号"))
    if len(unit_no) > UNIT_MAX or len(room) > ROOM_MAX:
        raise PeopleError("address_too_long", _("单元不超过10个字,房号不超过20个字"))
    return unit_no, room


def household_get_or_create(
    *, building: Region, unit_no: str, room: str, note: str = ""
) -> tuple[Household, bool]:
    """The household at building / 单元 / room, created when new (its grid and path copied from the building)."""
    if building.level != Level.BUILDING:
        raise PeopleError("not_a_building", _("住户只能登记在楼栋下"))
    unit_no, room = household_clean_address(unit_no=unit_no, room=room)
    existing = Household.objects.filter(building=building, unit_no=unit_no, room=room).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            household = Household.objects.create(
                building=building,
                unit_no=unit_no,
                room=room,
                grid_id=building.grid_id,
                region_path=building.path,
                note=note[:200],
            )
    except IntegrityError:  # a concurrent request made the same household
        return Household.objects.get(building=building, unit_no=unit_no, room=room), False
    return household, True


def _present_elsewhere(id_number: str, exclude_id: int | None = None) -> Resident | None:
    if not id_number:
        return None
    qs = Resident.objects.filter(id_number_index__matches=id_number, status=ResidentStatus.PRESENT)
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.select_related("household__building").first()


def resident_move_in(
    *,
    actor: User | None,
    household: Household,
    name: str,
    gender: str = "",
    birth_date: dt.date | None = None,
    id_number: str = "",
    phone: str = "",
    relation: str = Relation.HEAD,
    registration: str = Registration.HUKOU,
    tags: Sequence[str] = (),
    moved_on: dt.date | None = None,
    reason: str = "",
) -> Resident:
    """Register a person as living in ``household`` from ``moved_on``, with a move-in history row.

    A person already in the register who moved out earlier (same ID number) moves in as the same row, so
    their history stays one; a person still living elsewhere must move out there first."""
    ident = clean_identity(name=name, gender=gender, birth_date=birth_date, id_number=id_number, phone=phone)
    relation = clean_choice(relation, Relation, field="relation")
    registration = clean_choice(registration, Registration, field="registration")
    moved_on = moved_on or timezone.localdate()
    if moved_on > timezone.localdate():
        raise PeopleError("date_in_future", _("迁入日期不能晚于今天"))
    with transaction.atomic():
        elsewhere = _present_elsewhere(ident.id_number)
        if elsewhere is not None:
            raise PeopleError(
                "resident_present_elsewhere",
                _("该证件号码的居民仍登记在住(%(where)s),请先办理迁出")
                % {"where": elsewhere.household.address_label},
                status=409,
            )
        previous = None
        if ident.id_number:
            previous = (
                Resident.objects.select_for_update()
                .filter(id_number_index__matches=ident.id_number, status=ResidentStatus.MOVED_OUT)
                .first()
            )
        resident = previous or Resident()
        resident.household = household
        resident.name = ident.name
        resident.gender = ident.gender
        resident.birth_date = ident.birth_date
        resident.id_kind = ident.id_kind
        resident.id_number = ident.id_number
        if ident.phone or previous is None:
            resident.phone = ident.phone
        resident.relation = relation
        resident.registration = registration
        resident.tags = tags_join(list(tags))
        resident.status = ResidentStatus.PRESENT
        resident.moved_in_on = moved_on
        resident.moved_out_on = None
        resident.grid_id = household.grid_id
        resident.region_path = household.region_path
        try:
            with transaction.atomic():
                resident.save()
        except IntegrityError as exc:  # resident_present_once: a concurrent move-in of the same person
            raise PeopleError(
                "resident_present_elsewhere", _("该证件号码的居民已登记在住"), status=409
            ) from exc
        ResidentMove.objects.create(
            resident=resident,
            household=household,
            kind=MoveKind.IN,
            moved_on=moved_on,
            reason=reason[:200],
            actor=actor,
            grid_id=household.grid_id,
            region_path=household.region_path,
        )
    return resident


def resident_move_out(
    *, actor: User | None, resident_id: int, moved_on: dt.date | None = None, reason: str = ""
) -> Resident:
    """Mark a present resident as moved out (kept for the history until the retention job), one history row."""
    moved_on = moved_on or timezone.localdate()
    if moved_on > timezone.localdate():
        raise PeopleError("date_in_future", _("迁出日期不能晚于今天"))
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(pk=resident_id).first()
        if resident is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        if resident.status != ResidentStatus.PRESENT:
            raise PeopleError("already_moved_out", _("该居民已迁出"), status=409)
        if moved_on < resident.moved_in_on:
            raise PeopleError("date_before_move_in", _("迁出日期不能早于迁入日期"))
        resident.status = ResidentStatus.MOVED_OUT
        resident.moved_out_on = moved_on
        resident.save(update_fields=["status", "moved_out_on", "updated_at"])
        ResidentMove.objects.create(
            resident=resident,
            household_id=resident.household_id,
            kind=MoveKind.OUT,
            moved_on=moved_on,
            reason=reason[:200],
            actor=actor,
            grid_id=resident.grid_id,
            region_path=resident.region_path,
        )
    return resident


EDITABLE = {"name", "gender", "birth_date", "id_number", "phone", "relation", "registration", "tags"}


def resident_update(*, actor: User | None, resident_id: int, changes: dict[str, Any]) -> Resident:
    """Correct a resident's registered details (not a move). Unknown fields are refused."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise PeopleError(
            "field_not_editable", _("不能修改这些字段:%(f)s") % {"f": "、".join(sorted(unknown))}
        )
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(pk=resident_id).first()
        if resident is None:
            raise PeopleError("not_found", _("对象不存在或无权访问"), status=404)
        merged = {
            "name": changes.get("name", resident.name),
            "id_number": changes.get("id_number", resident.id_number),
            "phone": changes.get("phone", resident.phone),
            # Gender and birth date follow a new ID number unless given with it.
            "gender": changes.get("gender", "" if "id_number" in changes else resident.gender),
            "birth_date": changes.get("birth_date", None if "id_number" in changes else resident.birth_date),
        }
        ident = clean_identity(**merged)
        if ident.id_number and _present_elsewhere(ident.id_number, exclude_id=resident.pk):
            raise PeopleError("resident_present_elsewhere", _("该证件号码的居民已登记在住"), status=409)
        resident.name, resident.gender, resident.birth_date = ident.name, ident.gender, ident.birth_date
        resident.id_kind, resident.id_number, resident.phone = ident.id_kind, ident.id_number, ident.phone
        if "relation" in changes:
            resident.relation = clean_choice(changes["relation"], Relation, field="relation")
        if "registration" in changes:
            resident.registration = clean_choice(changes["registration"], Registration, field="registration")
        if "tags" in changes:
            resident.tags = tags_join(list(changes["tags"]))
        try:
            with transaction.atomic():
                resident.save()
        except IntegrityError as exc:
            raise PeopleError(
                "resident_present_elsewhere", _("该证件号码的居民已登记在住"), status=409
            ) from exc
    return resident


def people_grids_sync() -> int:
    """Bring the copied ``grid`` of households, residents, moves and care rows back in step with their
    building's grid (after the places app re-assigned buildings). Idempotent; returns households fixed."""
    from linli.people.models import CareRecord, CareVisit

    # One narrow scan (id, grid, building's grid); NULL-safe comparison in Python, not in SQL dialects.
    rows = Household.objects.values_list("id", "grid_id", "building__grid_id").iterator(chunk_size=5000)
    stale = [
        (household_id, building_grid) for household_id, grid, building_grid in rows if grid != building_grid
    ]
    seen: set[int] = set()
    for household_id, grid_id in stale:
        if household_id in seen:
            continue
        seen.add(household_id)
        with transaction.atomic():
            Household.objects.filter(pk=household_id).update(grid_id=grid_id)
            Resident.objects.filter(household_id=household_id).update(grid_id=grid_id)
            ResidentMove.objects.filter(household_id=household_id).update(grid_id=grid_id)
            CareRecord.objects.filter(resident__household_id=household_id).update(grid_id=grid_id)
            CareVisit.objects.filter(record__resident__household_id=household_id).update(grid_id=grid_id)
    return len(seen)
