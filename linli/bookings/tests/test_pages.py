"""The pages end to end: the resident booking flow and my appointments, 代办 for residents and staff,
the window desk with htmx check-in and recording, rooms and tools; masked names on staff screens, no
inline scripts or styles (strict CSP), an audited CSV export."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client

from linli.bookings.models import Appointment, RoomBooking, ServiceRecord, ToolLoan
from linli.bookings.services import appointment_book, resource_create
from linli.bookings.tests.factories import MONDAY, BookingWorld, at
from linli.cases.tests.factories import case_rules_ensure
from linli.core.tests.test_pages import scan
from linli.security.models import AuditEvent

pytestmark = pytest.mark.django_db


def _clean(html: str) -> None:
    found = scan(html)
    assert found.inline_scripts == 0 and not found.style_attrs and not found.handlers
    assert not [a for a in found.assets if a.startswith(("http:", "https:", "//"))]


def test_the_resident_books_in_five_steps_and_cancels(client: Client, bw: BookingWorld) -> None:
    slot = bw.slot(hour=10, capacity=2)
    page = client.get("/bookings/")
    assert page.status_code == 200 and bw.station0.name in page.content.decode()
    _clean(page.content.decode())
    page = client.get("/bookings/", {"station": bw.station0.pk})
    assert bw.item.name in page.content.decode() and bw.not_offered.name not in page.content.decode()
    page = client.get("/bookings/", {"station": bw.station0.pk, "item": bw.item.pk})
    assert "03月02日 周一(今天)" in page.content.decode() and "余 2 个名额" in page.content.decode()
    page = client.get("/bookings/", {"station": bw.station0.pk, "item": bw.item.pk, "day": "2026-03-02"})
    assert "10:00–10:30" in page.content.decode()
    page = client.get(
        "/bookings/", {"station": bw.station0.pk, "item": bw.item.pk, "day": "2026-03-02", "slot": slot.pk}
    )
    html = page.content.decode()
    assert "确认预约" in html and "登录后预约" in html
    assert "/accounts/login/phone/?next=/bookings/%3Fstation%3D" in html  # back to this step after signing in
    # anonymous: the confirmation asks for the phone sign-in first
    r = client.post("/bookings/confirm/", {"slot_id": slot.pk})
    assert r.status_code == 302 and "/accounts/login/phone/" in r["Location"]
    client.force_login(bw.resident)
    r = client.post("/bookings/confirm/", {"slot_id": slot.pk, "note": "带户口簿"})
    assert r.status_code == 302 and r["Location"] == "/bookings/mine/"
    appointment = Appointment.objects.get(resident=bw.resident)
    mine = client.get("/bookings/mine/").content.decode()
    assert "居住证办理" in mine and "取消预约" in mine and "改约" in mine
    _clean(mine)
    assert client.post(f"/bookings/mine/{appointment.pk}/cancel/").status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    client.force_login(bw.resident2)  # someone else's appointment does not exist for them
    assert client.post(f"/bookings/mine/{appointment.pk}/cancel/").status_code == 404
    assert client.get(f"/bookings/mine/{appointment.pk}/reschedule/").status_code == 404


def test_a_full_slot_on_confirm_sends_the_resident_back_with_a_message(
    client: Client, bw: BookingWorld
) -> None:
    slot = bw.slot(hour=10, capacity=1)
    appointment_book(resident=bw.resident2, slot_id=slot.pk)
    client.force_login(bw.resident)
    r = client.post("/bookings/confirm/", {"slot_id": slot.pk}, follow=True)
    assert "该时段已约满" in r.content.decode()
    assert not Appointment.objects.filter(resident=bw.resident).exists()


def test_reschedule_page_moves_the_appointment(client: Client, bw: BookingWorld) -> None:
    nine, eleven = bw.slot(hour=9), bw.slot(hour=11)
    appointment = appointment_book(resident=bw.resident, slot_id=nine.pk)
    client.force_login(bw.resident)
    page = client.get(f"/bookings/mine/{appointment.pk}/reschedule/", {"day": "2026-03-02"}).content.decode()
    assert "11:00–11:30" in page and page.count("09:00–09:30") == 1  # only as the original time
    r = client.post(f"/bookings/mine/{appointment.pk}/reschedule/", {"slot_id": eleven.pk})
    assert r.status_code == 302
    appointment.refresh_from_db()
    assert appointment.slot_id == eleven.pk


def test_the_desk_shows_the_queue_masked_and_checks_in_and_records_with_htmx(
    client: Client, bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    appointment = appointment_book(resident=bw.resident, slot_id=bw.slot(hour=9).pk)
    clock.move_to(at(MONDAY, 8, 45))
    client.force_login(bw.window0)
    r = client.get("/bookings/desk/")
    assert r.status_code == 302 and r["Location"] == f"/bookings/desk/{bw.station0.pk}/"
    html = client.get(f"/bookings/desk/{bw.station0.pk}/").content.decode()
    _clean(html)
    assert "张**" in html and "张三丰" not in html and bw.resident.phone not in html
    hx = {"HTTP_HX_REQUEST": "true"}
    r = client.post(f"/bookings/desk/{bw.station0.pk}/check-in/{appointment.pk}/", **hx)
    assert r.status_code == 200 and 'id="work"' in r.content.decode() and "A001" in r.content.decode()
    assert "<html" not in r.content.decode()  # only the partial
    r = client.post(
        f"/bookings/desk/{bw.station0.pk}/record/",
        {"appointment_id": appointment.pk, "outcome": "completed", "minutes": 12},
        **hx,
    )
    assert r.status_code == 200 and "办结" in r.content.decode()
    appointment.refresh_from_db()
    assert appointment.status == "done"
    r = client.post(
        f"/bookings/desk/{bw.station0.pk}/record/",
        {"item": bw.item2.pk, "outcome": "consulted", "minutes": 0},
        **hx,
    )
    assert r.status_code == 422 and "请检查填写" in r.content.decode()
    r = client.post(
        f"/bookings/desk/{bw.station0.pk}/record/",
        {"item": bw.item2.pk, "outcome": "consulted", "minutes": 4, "visitor_name": "赵六"},
        **hx,
    )
    assert "赵*" in r.content.decode() and "赵六" not in r.content.decode()
    assert ServiceRecord.objects.count() == 2
    r = client.post(
        f"/bookings/desk/{bw.station0.pk}/slots/",
        {
            "item": bw.item2.pk,
            "first_day": "2026-03-03",
            "last_day": "2026-03-03",
            "length_minutes": 60,
            "capacity": 4,
        },
        follow=True,
    )
    assert "已生成 7 个时段" in r.content.decode()


def test_residents_and_other_communities_get_404_on_staff_pages(client: Client, bw: BookingWorld) -> None:
    client.force_login(bw.resident)
    for url in [
        "/bookings/desk/",
        f"/bookings/desk/{bw.station0.pk}/",
        "/bookings/agency/desk/",
        "/bookings/resources/",
        f"/bookings/desk/{bw.station0.pk}/export.csv",
    ]:
        assert client.get(url).status_code == 404, url
    client.force_login(bw.window2)
    assert client.get(f"/bookings/desk/{bw.station0.pk}/").status_code == 404
    assert client.get(f"/bookings/desk/{bw.station0.pk}/export.csv").status_code == 404


def test_the_csv_export_is_masked_escaped_and_audited(client: Client, bw: BookingWorld) -> None:
    client.force_login(bw.window0)
    client.post(
        f"/bookings/desk/{bw.station0.pk}/record/",
        {"item": bw.item.pk, "outcome": "consulted", "minutes": 4, "resident_phone": bw.resident.phone},
    )
    before = AuditEvent.objects.filter(action="data.export").count()
    r = client.get(f"/bookings/desk/{bw.station0.pk}/export.csv")
    body = r.content.decode("utf-8-sig")
    assert r["Cache-Control"] == "no-store" and "张**" in body and bw.resident.phone not in body
    assert re.search(r"139\*{4}\d{4}", body)
    assert AuditEvent.objects.filter(action="data.export").count() == before + 1


def test_agency_pages_for_the_resident_and_the_staff(client: Client, bw: BookingWorld) -> None:
    case_rules_ensure()
    client.force_login(bw.resident)
    page = client.get("/bookings/agency/new/").content.decode()
    _clean(page)
    assert bw.agency_item.name in page and bw.item.name not in page  # only items that allow 代办
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page)
    assert key is not None
    form = {
        "item": bw.agency_item.pk,
        "station": bw.station0.pk,
        "text": "行动不便,请帮忙",
        "idempotency_key": key.group(1),
    }
    assert client.post("/bookings/agency/new/", form).status_code == 302
    assert client.post("/bookings/agency/new/", form).status_code == 302  # a double tap files one request
    mine = client.get("/bookings/agency/").content.decode()
    assert mine.count("高龄津贴申领") == 1 and "已申请" in mine
    client.force_login(bw.window0)
    desk = client.get("/bookings/agency/desk/").content.decode()
    _clean(desk)
    assert "张**" in desk and "已收取材料" in desk
    detail_id = int(re.search(r"/bookings/agency/desk/(\d+)/step/", desk).group(1))  # type: ignore[union-attr]
    client.post(f"/bookings/agency/desk/{detail_id}/step/", {"action": "collect", "note": "已上门收取"})
    client.force_login(bw.resident)
    assert "已上门收取" in client.get("/bookings/agency/").content.decode()


def test_rooms_and_tools_pages(client: Client, bw: BookingWorld) -> None:
    room = resource_create(
        actor=None,
        station_id=bw.station0.pk,
        kind="room",
        name="多功能活动室",
        capacity=30,
        needs_approval=True,
    )
    tool = resource_create(actor=None, station_id=bw.station0.pk, kind="tool", name="人字梯", quantity=2)
    page = client.get(f"/bookings/stations/{bw.station0.pk}/rooms/").content.decode()
    _clean(page)
    assert "多功能活动室" in page and "人字梯" in page
    client.force_login(bw.resident)
    r = client.post(
        f"/bookings/stations/{bw.station0.pk}/rooms/",
        {
            "room": room.pk,
            "day": "2026-03-02",
            "start": "14:00",
            "end": "15:00",
            "purpose": "读书会",
            "attendees": 8,
        },
    )
    assert r.status_code == 302 and r["Location"] == "/bookings/rooms/mine/"
    assert "待审批" in client.get("/bookings/rooms/mine/").content.decode()
    client.force_login(bw.window0)
    desk = client.get("/bookings/resources/").content.decode()
    _clean(desk)
    assert "读书会" in desk and "张**" in desk
    booking = RoomBooking.objects.get()
    client.post(f"/bookings/resources/bookings/{booking.pk}/decide/", {"decision": "approve"})
    booking.refresh_from_db()
    assert booking.status == "confirmed"
    client.post(
        f"/bookings/resources/tools/{tool.pk}/lend/", {"borrower_phone": bw.resident2.phone, "quantity": 1}
    )
    loan = ToolLoan.objects.get()
    client.post(f"/bookings/resources/loans/{loan.pk}/return/")
    loan.refresh_from_db()
    assert loan.status == "returned"


def test_the_menus_link_the_pages(client: Client, bw: BookingWorld) -> None:
    home = client.get("/").content.decode()
    assert 'href="/bookings/"' in home and 'href="/bookings/agency/new/"' in home
    client.force_login(bw.window0)
    workbench = client.get("/").content.decode()
    assert 'href="/bookings/desk/"' in workbench and 'href="/bookings/resources/"' in workbench


def test_the_desk_page_costs_the_same_queries_for_one_or_many_rows(
    client: Client, bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from linli.accounts.tests.factories import ResidentFactory
    from linli.bookings.services import appointment_check_in, service_record_create

    def add(n: int, hour: int) -> None:
        slot = bw.slot(hour=hour, capacity=10)
        for _ in range(n):
            a = appointment_book(resident=ResidentFactory(), slot_id=slot.pk)
            with time_machine.travel(at(MONDAY, hour - 1, 30), tick=False):
                appointment_check_in(appointment_id=a.pk, actor=bw.window0)
            service_record_create(
                actor=bw.window0,
                station_id=bw.station0.pk,
                item_id=bw.item2.pk,
                outcome="consulted",
                minutes=2,
                visitor_name="访客",
            )

    client.force_login(bw.window0)
    add(1, 9)
    url = f"/bookings/desk/{bw.station0.pk}/"
    client.get(url)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add(4, 15)
    with CaptureQueriesContext(connection) as five:
        assert client.get(url).status_code == 200
    assert len(five.captured_queries) == len(one.captured_queries)
