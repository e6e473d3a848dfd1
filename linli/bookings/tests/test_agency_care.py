"""代办 and the care registry (分类分色): door-to-door eligibility is looked up in ``linli.people`` within the
requester's care scope (a manual override stays for staff, with a note); door steps by staff who may edit
the record are recorded as care visits through the people service, and nothing else is."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.bookings.errors import BookingError
from linli.bookings.models import AgencyDetail, AgencyEvent
from linli.bookings.services import agency_request, agency_step
from linli.bookings.tests.factories import BookingWorld
from linli.cases.models import Case
from linli.cases.tests.factories import case_rules_ensure
from linli.people.models import CareCategory, CareRecord, CareVisit, Resident
from linli.people.selectors.care import care_record_for_person
from linli.people.services import (
    care_record_close,
    care_record_open,
    household_get_or_create,
    resident_move_in,
)
from linli.people.tests.factories import care_config_ensure

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _case_rules(bw: BookingWorld) -> None:
    case_rules_ensure()


@pytest.fixture
def record(bw: BookingWorld) -> CareRecord:
    """王奶奶, registered in a building of grid 0 (community 0) with her phone, on the red visit plan."""
    care_config_ensure()
    building = next(b for b in bw.d.buildings if b.grid_id == bw.d.grids[0].pk)
    household, _ = household_get_or_create(building=building, unit_no="1", room="101")
    resident = resident_move_in(
        actor=None, household=household, name="王奶奶", phone=PHONE, moved_on=dt.date(2020, 1, 1)
    )
    categories = CareCategory.objects.filter(code="alone-elderly").values_list("pk", flat=True)
    return care_record_open(
        actor=None, resident=resident, category_ids=list(categories), level_code="red", worker=bw.grid0
    )


def _ask(bw: BookingWorld, requester: Any, **kw: Any) -> AgencyDetail:
    args: dict[str, Any] = {
        "requester": requester,
        "item_id": bw.agency_item.pk,
        "text": "腿脚不便,请上门代办",
    }
    return agency_request(**(args | kw))


def test_a_door_to_door_request_finds_the_person_in_the_care_registry_by_phone(
    bw: BookingWorld, record: CareRecord
) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE, door_to_door=True)  # no manual flag
    assert (detail.door_to_door, detail.in_care_registry, detail.care_record_id) == (True, True, record.pk)
    assert AgencyEvent.objects.get(detail=detail).data["care"] == "registry"


def test_the_lookup_stays_inside_the_requesters_care_scope(bw: BookingWorld, record: CareRecord) -> None:
    window = bw.window0  # community 0, but window staff hold no care.view (PI-3)
    other_grid = staff_with_role(Role.GRID_WORKER, district=bw.d, index=2)  # community 1
    for requester in (window, other_grid):
        assert care_record_for_person(requester, phone=PHONE) is None
        with pytest.raises(BookingError) as info:
            _ask(bw, requester, beneficiary_phone=PHONE, door_to_door=True)
        assert info.value.code == "door_to_door_not_allowed"
    assert care_record_for_person(bw.grid0, phone=PHONE) == record
    assert care_record_for_person(bw.secretary0, phone=PHONE) == record
    assert not Case.objects.exists()


def test_a_manual_override_needs_a_note_and_is_marked_as_such(bw: BookingWorld, record: CareRecord) -> None:
    kw: dict[str, Any] = {"beneficiary_phone": PHONE, "door_to_door": True, "in_care_registry": True}
    with pytest.raises(BookingError) as info:
        _ask(bw, bw.window0, **kw)
    assert info.value.code == "care_note_required" and not Case.objects.exists()
    detail = _ask(bw, bw.window0, care_note="已电话向社区核实:红色关爱对象", **kw)
    assert (detail.in_care_registry, detail.care_record_id) == (True, None)
    assert AgencyEvent.objects.get(detail=detail).data["care"] == "manual"


def test_a_record_chosen_from_the_own_care_list_is_linked_and_others_are_404(
    bw: BookingWorld, record: CareRecord
) -> None:
    detail = _ask(bw, bw.grid0, care_record_id=record.pk, door_to_door=True)
    assert (detail.care_record_id, detail.beneficiary_name) == (record.pk, "王奶奶")
    other_grid = staff_with_role(Role.GRID_WORKER, district=bw.d, index=2)
    with pytest.raises(BookingError) as info:
        _ask(bw, other_grid, care_record_id=record.pk, door_to_door=True)
    assert (info.value.code, info.value.status) == ("care_record_not_found", 404)
    with pytest.raises(BookingError) as info:  # residents cannot point at the registry at all
        _ask(bw, bw.resident, care_record_id=record.pk)
    assert (info.value.code, info.value.status) == ("door_to_door_not_allowed", 403)
    assert AgencyDetail.objects.count() == 1


def test_door_steps_by_the_grid_worker_are_recorded_as_care_visits(
    bw: BookingWorld, record: CareRecord, clock: time_machine.Coordinates
) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE, door_to_door=True)
    due_before = CareRecord.objects.get(pk=record.pk).next_visit_due
    clock.shift(dt.timedelta(days=2))
    agency_step(detail_id=detail.pk, actor=bw.grid0, action="collect", note="身份证、户口簿已收")

    visit = CareVisit.objects.get(record=record)
    assert (visit.kind, visit.worker, visit.grid_id) == ("door", bw.grid0, record.grid_id)
    assert "高龄津贴申领" in visit.notes and "收取材料" in visit.notes and "户口簿已收" in visit.notes
    after = CareRecord.objects.get(pk=record.pk)
    assert after.last_visit_at == visit.visited_at and after.next_visit_due is not None
    assert due_before is not None and after.next_visit_due > due_before  # the plan moved on
    event = AgencyEvent.objects.filter(detail=detail, action="collect").get()
    assert event.data == {"care_visit": visit.pk}

    agency_step(detail_id=detail.pk, actor=bw.grid0, action="submit")  # at the office: no visit
    assert CareVisit.objects.filter(record=record).count() == 1
    agency_step(detail_id=detail.pk, actor=bw.grid0, action="return_result")
    assert CareVisit.objects.filter(record=record).count() == 2


def test_staff_without_care_scope_advance_the_errand_but_record_no_visit(
    bw: BookingWorld, record: CareRecord
) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE, door_to_door=True)
    detail = agency_step(detail_id=detail.pk, actor=bw.window0, action="collect")
    assert detail.step == "materials_collected" and not CareVisit.objects.exists()
    event = AgencyEvent.objects.filter(detail=detail, action="collect").get()
    assert event.data == {"care_visit_skipped": "no_care_scope"}


def test_a_closed_care_record_does_not_block_the_errand(bw: BookingWorld, record: CareRecord) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE, door_to_door=True)
    care_record_close(actor=None, record_id=record.pk, reason="迁往子女家")
    detail = agency_step(detail_id=detail.pk, actor=bw.grid0, action="collect")
    assert detail.step == "materials_collected" and not CareVisit.objects.exists()
    assert AgencyEvent.objects.get(detail=detail, action="collect").data == {
        "care_visit_skipped": "care_closed"
    }


def test_a_window_errand_for_a_person_in_the_registry_is_not_a_visit(
    bw: BookingWorld, record: CareRecord
) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE)  # not door-to-door: materials come to the window
    assert detail.care_record_id == record.pk
    agency_step(detail_id=detail.pk, actor=bw.grid0, action="collect")
    assert not CareVisit.objects.exists()
    assert AgencyEvent.objects.get(detail=detail, action="collect").data == {}


def test_the_retention_job_deleting_a_record_keeps_the_errand(bw: BookingWorld, record: CareRecord) -> None:
    detail = _ask(bw, bw.grid0, beneficiary_phone=PHONE, door_to_door=True)
    CareRecord.objects.filter(pk=record.pk).delete()  # as the sweep does once retention has passed
    detail.refresh_from_db()
    assert (detail.care_record_id, detail.in_care_registry, detail.door_to_door) == (None, True, True)
    assert Resident.objects.filter(name="王奶奶").exists()


def test_the_api_links_the_registry_and_reports_where_membership_came_from(
    client: Client, bw: BookingWorld, record: CareRecord
) -> None:
    client.force_login(bw.grid0)
    body = {
        "item": bw.agency_item.code,
        "text": "请上门代办",
        "beneficiary_phone": PHONE,
        "door_to_door": True,
    }
    r = client.post("/api/bookings/agency", body, content_type="application/json")
    assert r.status_code == 201, r.content
    assert (r.json()["in_care_registry"], r.json()["care_source"]) == (True, "registry")
    client.force_login(staff_with_role(Role.GRID_WORKER, district=bw.d, index=2))
    body = {"item": bw.agency_item.code, "text": "x", "care_record_id": record.pk, "door_to_door": True}
    r = client.post("/api/bookings/agency", body, content_type="application/json")
    assert (r.status_code, r.json()["code"]) == (404, "care_record_not_found")
    assert AgencyDetail.objects.count() == 1
