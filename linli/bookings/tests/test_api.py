"""The JSON API under /api/bookings/: each use case end to end through the client, errors as
``{code, message}`` with the right status, and nothing saved on a refusal."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client

from linli.bookings.models import Appointment, Resource, RoomBooking, ServiceRecord, ToolLoan
from linli.bookings.services import resource_create
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.cases.tests.factories import case_rules_ensure

pytestmark = pytest.mark.django_db
API = "/api/bookings"


def post(client: Client, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{API}{url}", body or {}, content_type="application/json")


def test_the_public_calendar_lists_open_slots_with_places_left(client: Client, bw: BookingWorld) -> None:
    bw.generate(days=2, capacity=3)
    r = client.get(
        f"{API}/slots",
        {"station": bw.station0.pk, "item": bw.item.code, "from": "2026-03-02", "to": "2026-03-03"},
    )
    assert r.status_code == 200
    rows = r.json()
    assert len(rows) == 28 and rows[0]["remaining"] == 3
    assert rows[0]["starts_at"].startswith("2026-03-02T09:00:00")
    # bad input: clear codes
    assert (
        client.get(f"{API}/slots", {"station": 999999, "item": bw.item.code}).json()["code"]
        == "unknown_station"
    )
    assert (
        client.get(f"{API}/slots", {"station": bw.station0.pk, "item": "NOPE"}).json()["code"]
        == "unknown_service"
    )
    r = client.get(f"{API}/slots", {"station": bw.station0.pk, "item": bw.not_offered.pk})
    assert (r.status_code, r.json()["code"]) == (400, "item_not_offered")


def test_a_resident_books_sees_cancels_and_reschedules_through_the_api(
    client: Client, bw: BookingWorld
) -> None:
    nine, ten = bw.slot(hour=9), bw.slot(hour=10)
    assert post(client, "/appointments", {"slot_id": nine.pk}).status_code == 401
    client.force_login(bw.resident)
    r = post(client, "/appointments", {"slot_id": nine.pk, "note": "带孩子"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["item_name"], set(body["actions"])) == (
        "booked",
        "居住证办理",
        {"cancel", "reschedule"},
    )
    assert "resident" not in body or body["resident"] is None
    mine = client.get(f"{API}/appointments/mine").json()
    assert mine["count"] == 1
    r = post(client, f"/appointments/{body['id']}/reschedule", {"slot_id": ten.pk})
    assert r.json()["starts_at"].startswith("2026-03-02T10:00") and len(r.json()["events"]) == 2
    r = post(client, f"/appointments/{body['id']}/check-in")
    assert (r.status_code, r.json()["code"]) == (403, "forbidden")
    r = post(client, f"/appointments/{body['id']}/cancel", {"note": "改天"})
    assert (r.json()["status"], r.json()["actions"]) == ("cancelled", [])


@pytest.mark.parametrize(
    ("setup", "code", "status"),
    [("past", "slot_in_past", 400), ("full", "slot_full", 409), ("unknown", "unknown_slot", 404)],
    ids=["slot_in_past", "slot_full", "unknown_slot"],
)
def test_refused_bookings_answer_a_code_and_save_nothing(
    client: Client, bw: BookingWorld, clock: time_machine.Coordinates, setup: str, code: str, status: int
) -> None:
    slot = bw.slot(hour=9, capacity=1)
    if setup == "full":
        client.force_login(bw.resident2)
        assert post(client, "/appointments", {"slot_id": slot.pk}).status_code == 201
    if setup == "past":
        clock.move_to(at(MONDAY, 9, 5))
    client.force_login(bw.resident)
    r = post(client, "/appointments", {"slot_id": slot.pk if setup != "unknown" else 999999})
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert r.json()["message"]
    assert not Appointment.objects.filter(resident=bw.resident).exists()


def test_staff_generate_slots_check_in_record_and_read_the_workload(
    client: Client, bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    client.force_login(bw.window0)
    r = post(
        client,
        "/slots/generate",
        {
            "station_id": bw.station0.pk,
            "item": bw.item.code,
            "first_day": "2026-03-02",
            "last_day": "2026-03-03",
            "length_minutes": 60,
            "capacity": 2,
        },
    )
    assert r.json() == {"created": 14, "existing": 0, "days": 2}
    r = post(
        client,
        "/slots",
        {
            "station_id": bw.station0.pk,
            "item": bw.item2.pk,
            "starts_at": "2026-03-02T12:30:00+08:00",
            "ends_at": "2026-03-02T13:00:00+08:00",
            "capacity": 2,
        },
    )
    assert (r.status_code, r.json()["code"]) == (400, "outside_opening_hours")
    client.force_login(bw.resident)
    slot_id = client.get(f"{API}/slots", {"station": bw.station0.pk, "item": bw.item.pk}).json()[0]["id"]
    appointment_id = post(client, "/appointments", {"slot_id": slot_id}).json()["id"]
    clock.move_to(at(MONDAY, 8, 30))
    client.force_login(bw.window0)
    queue = client.get(f"{API}/stations/{bw.station0.pk}/queue").json()
    assert [a["id"] for a in queue["expected"]] == [appointment_id]
    assert queue["expected"][0]["resident"] == {
        "name": "张**",
        "phone": bw.resident.phone[:3] + "****" + bw.resident.phone[-4:],
    }
    r = post(client, f"/appointments/{appointment_id}/check-in")
    assert r.json()["queue_number"] == "A001"
    r = post(
        client,
        "/records",
        {
            "station_id": bw.station0.pk,
            "appointment_id": appointment_id,
            "outcome": "completed",
            "minutes": 9,
        },
    )
    assert r.status_code == 201 and r.json()["queue_number"] == "A001"
    r = post(
        client,
        "/records",
        {
            "station_id": bw.station0.pk,
            "item": bw.item2.code,
            "outcome": "consulted",
            "minutes": 3,
            "visitor_name": "王小五",
        },
    )
    assert r.json()["resident"] == {"name": "王**", "phone": ""}
    r = post(
        client,
        "/records",
        {"station_id": bw.station0.pk, "item": bw.item2.code, "outcome": "nonsense", "minutes": 3},
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_outcome")
    assert ServiceRecord.objects.count() == 2
    w = client.get(f"{API}/workload").json()
    assert w["total"] == 2 and w["by_staff"][0]["count"] == 2 and w["by_staff"][0]["minutes"] == 12
    assert client.get(f"{API}/records").json()["count"] == 2
    client.force_login(bw.resident)
    assert client.get(f"{API}/records").status_code == 404
    assert client.get(f"{API}/workload").status_code == 404


def test_agency_through_the_api(client: Client, bw: BookingWorld) -> None:
    case_rules_ensure()
    client.force_login(bw.resident)
    r = post(
        client, "/agency", {"item": bw.agency_item.code, "text": "请帮我办理", "station_id": bw.station0.pk}
    )
    assert r.status_code == 201, r.content
    detail = r.json()
    assert (detail["step"], detail["actions"], detail["case_number"] != "") == ("requested", [], True)
    r = post(client, "/agency", {"item": bw.item.code, "text": "x"})
    assert (r.status_code, r.json()["code"]) == (400, "agency_not_allowed")
    assert client.get(f"{API}/agency/mine").json()["count"] == 1
    assert client.get(f"{API}/agency").status_code == 404  # the staff list
    client.force_login(bw.window0)
    rows = client.get(f"{API}/agency").json()["items"]
    assert [row["actions"] for row in rows] == [["collect"]]
    r = post(client, f"/agency/{detail['id']}/steps", {"action": "collect", "note": "已收材料"})
    assert (r.json()["step"], r.json()["events"][-1]["note"]) == ("materials_collected", "已收材料")
    r = post(client, f"/agency/{detail['id']}/steps", {"action": "return_result"})
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")


def test_rooms_and_tools_through_the_api(client: Client, bw: BookingWorld) -> None:
    room = resource_create(
        actor=None, station_id=bw.station0.pk, kind="room", name="议事厅", capacity=20, needs_approval=True
    )
    tool = resource_create(actor=None, station_id=bw.station0.pk, kind="tool", name="工具箱", quantity=1)
    listed = client.get(f"{API}/stations/{bw.station0.pk}/resources").json()
    assert {(r["name"], r["available"]) for r in listed} == {("议事厅", 1), ("工具箱", 1)}
    client.force_login(bw.resident)
    body = {
        "starts_at": "2026-03-02T14:00:00+08:00",
        "ends_at": "2026-03-02T15:00:00+08:00",
        "purpose": "楼栋议事",
    }
    r = post(client, f"/rooms/{room.pk}/bookings", body)
    assert (r.status_code, r.json()["status"]) == (201, "pending")
    r = post(client, f"/rooms/{room.pk}/bookings", body | {"starts_at": "2026-03-02T14:30:00+08:00"})
    assert (r.status_code, r.json()["code"]) == (409, "room_taken")
    busy = client.get(f"{API}/rooms/{room.pk}/busy", {"day": "2026-03-02"}).json()
    assert len(busy) == 1 and set(busy[0]) == {"starts_at", "ends_at"}  # times only, nobody's name
    booking_id = RoomBooking.objects.get().pk
    client.force_login(bw.window0)
    assert client.get(f"{API}/room-bookings/pending").json()["count"] == 1
    r = post(client, f"/room-bookings/{booking_id}/approve")
    assert r.json()["status"] == "confirmed"
    r = post(client, f"/tools/{tool.pk}/loans", {"borrower_phone": bw.resident.phone})
    assert r.status_code == 201 and r.json()["borrower"]["name"] == "张**"
    r = post(client, f"/tools/{tool.pk}/loans", {"borrower_phone": bw.resident2.phone})
    assert (r.status_code, r.json()["code"]) == (409, "tool_unavailable")
    loan_id = ToolLoan.objects.get().pk
    assert post(client, f"/loans/{loan_id}/return").json()["status"] == "returned"
    client.force_login(bw.window2)
    assert post(client, f"/room-bookings/{booking_id}/cancel").status_code == 404


def test_times_without_a_zone_are_refused(client: Client, bw: BookingWorld) -> None:
    room = resource_create(actor=None, station_id=bw.station0.pk, kind="room", name="活动室", capacity=20)
    client.force_login(bw.resident)
    r = post(
        client,
        f"/rooms/{room.pk}/bookings",
        {"starts_at": "2026-03-02T14:00:00", "ends_at": "2026-03-02T15:00:00", "purpose": "x"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "invalid_time")
    assert not RoomBooking.objects.exists()
    assert dt.date(2026, 3, 2) == MONDAY


def test_staff_add_rooms_and_tools_only_at_their_own_stations(client: Client, bw: BookingWorld) -> None:
    client.force_login(bw.window0)
    r = post(
        client,
        f"/stations/{bw.station0.pk}/resources",
        {"kind": "room", "name": "会议室", "capacity": 12, "needs_approval": True},
    )
    assert r.status_code == 201 and r.json()["needs_approval"] is True
    r = post(client, f"/stations/{bw.station0.pk}/resources", {"kind": "room", "name": "没写人数"})
    assert (r.status_code, r.json()["code"]) == (400, "invalid_capacity")
    assert (
        post(client, f"/stations/{bw.station2.pk}/resources", {"kind": "tool", "name": "梯子"}).status_code
        == 404
    )
    client.post(
        "/bookings/resources/add/",
        {
            "station": bw.station0.pk,
            "kind": "tool",
            "name": "电钻",
            "quantity": 2,
            "min_minutes": 30,
            "max_minutes": 240,
            "advance_days": 14,
            "per_person_limit": 1,
            "loan_days": 3,
        },
    )
    client.force_login(bw.resident)
    assert (
        post(client, f"/stations/{bw.station0.pk}/resources", {"kind": "tool", "name": "锤子"}).status_code
        == 404
    )
    assert client.post("/bookings/resources/add/", {"station": bw.station0.pk}).status_code == 404
    assert sorted(Resource.objects.values_list("name", "kind")) == [("会议室", "room"), ("电钻", "tool")]
