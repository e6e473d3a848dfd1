"""The /api/cases/ endpoints end to end through the test client: status codes, machine codes, scoping."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.test import Client
from django.utils import timezone

from linli.accounts.models import User
from linli.cases.models import Case, Status
from linli.cases.schemas import CaseOut
from linli.cases.services import case_answer
from linli.cases.tests.factories import World, category, grid_point, submit
from linli.cases.tests.test_attachments import jpeg_with_gps
from linli.core.api import LocalTimeJSONEncoder


def client_for(user: User) -> Client:
    c = Client()
    c.force_login(user)
    return c


def post_report(c: Client, world: World, **extra: object) -> object:
    lat, lng = grid_point(world.d, 1)
    data = {
        "text": "路灯不亮,晚上很黑",
        "category_id": category("road.streetlight").pk,
        "lat": lat,
        "lng": lng,
    }
    data.update(extra)  # type: ignore[arg-type]
    return c.post("/api/cases/", data=data, **{"HTTP_IDEMPOTENCY_KEY": "app-7f3a9c21-0001"})


def test_a_resident_reports_with_a_photo_and_a_retry_returns_the_same_case(world: World) -> None:
    c = client_for(world.resident)
    photo = jpeg_with_gps()
    from django.core.files.uploadedfile import SimpleUploadedFile

    first = post_report(c, world, photos=SimpleUploadedFile("IMG_0001.jpg", photo, content_type="image/jpeg"))
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["created"] is True and body["case"]["status"] == "submitted"
    assert body["case"]["grid"] == world.d.grids[1].name
    again = post_report(c, world)
    assert again.status_code == 200 and again.json()["case"]["id"] == body["case"]["id"]
    assert Case.objects.count() == 1


def test_the_submission_answer_equals_the_case_read_back_through_its_schema(world: World) -> None:
    # given a resident's located, categorised report with a contact name (masked in answers, PI-2)
    answer = post_report(client_for(world.resident), world, contact_name="王小明", title="路灯")
    assert answer.status_code == 201, answer.content
    # then the answer built from the new case's values is what ninja's schema makes of the stored row
    stored = Case.objects.select_related("category", "community", "grid", "unit", "assignee").get(
        pk=answer.json()["case"]["id"]
    )
    expected = json.loads(json.dumps(CaseOut.model_validate(stored).model_dump(), cls=LocalTimeJSONEncoder))
    got = answer.json()["case"]
    # (the new case's deadlines are computed in local time, the stored ones read back in UTC: the API
    # writes every time in local time with its offset, so both read the same, to the character)
    assert got == expected
    assert got["resolve_due_at"].endswith("+08:00") and got["created_at"].endswith("+08:00")
    assert (
        expected["contact_name"] == "王**"
        and expected["grid"]
        and expected["community"]
        and expected["category"]
    )


def test_bad_reports_get_specific_codes(world: World) -> None:
    c = client_for(world.resident)
    outside = c.post("/api/cases/", data={"text": "x", "lat": 39.9, "lng": 116.4})
    assert outside.status_code == 400 and outside.json()["code"] == "outside_jurisdiction"
    empty = c.post("/api/cases/", data={"text": "   ", "community_id": world.d.communities[0].pk})
    assert empty.status_code == 400 and empty.json()["code"] == "text_required"
    staff_channel = c.post("/api/cases/", data={"text": "x", "channel": "window"})
    assert staff_channel.status_code == 403 and staff_channel.json()["code"] == "intake_not_allowed"
    bad_photo = c.post(
        "/api/cases/",
        data={"text": "x", "community_id": world.d.communities[0].pk, "photos": _upload(b"GIF89a....")},
    )
    assert bad_photo.status_code == 400 and bad_photo.json()["code"] == "image_type_not_allowed"
    anonymous = Client().post("/api/cases/", data={"text": "x"})
    assert anonymous.status_code == 401


def test_a_form_field_out_of_range_is_named_in_a_422_and_the_body_is_documented(world: World) -> None:
    # The endpoint reads its form itself (linli.core.api.form_input): same answer as ninja's Form[...].
    bad = post_report(client_for(world.resident), world, lat="999", category_id="路灯")
    assert bad.status_code == 422
    body = bad.json()
    assert body["code"] == "invalid_input"
    assert {tuple(e["loc"]) for e in body["details"]["errors"]} == {("form", "lat"), ("form", "category_id")}
    assert all("input" not in e for e in body["details"]["errors"])  # what was sent is not echoed
    assert not Case.objects.exists()
    from linli.api import api

    operation = api.get_openapi_schema()["paths"]["/api/cases/"]["post"]
    form = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["required"] == ["text"]
    assert form["properties"]["photos"]["items"]["format"] == "binary"
    assert {"lat", "category_id", "idempotency_key", "with_similar"} <= set(form["properties"])


def _upload(data: bytes) -> object:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("x.gif", data, content_type="image/jpeg")


def test_window_staff_file_for_a_caller_with_a_masked_phone(world: World) -> None:
    c = client_for(world.window0)
    r = c.post(
        "/api/cases/",
        data={
            "text": "老人家里水管爆了",
            "channel": "window",
            "community_id": world.d.communities[0].pk,
            "contact_phone": "13912345678",
            "contact_name": "王大爷",
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["case"]["contact_phone_masked"] == "139****5678"
    assert "13912345678" not in r.content.decode()


def test_detail_timeline_and_actions_follow_the_viewer(world: World) -> None:
    case = submit(world, grid=0)
    mine = client_for(world.resident).get(f"/api/cases/{case.pk}")
    assert mine.status_code == 200
    assert set(mine.json()["actions"]) == {"withdraw", "comment"}
    assert [e["action"] for e in mine.json()["timeline"]] == ["submit"]
    assert client_for(world.resident2).get(f"/api/cases/{case.pk}").status_code == 404
    assert client_for(world.grid2).get(f"/api/cases/{case.pk}").status_code == 404
    staff = client_for(world.secretary0).get(f"/api/cases/{case.pk}").json()
    assert {"triage", "assign", "reject", "merge", "answer", "supervise", "escalate"} <= set(staff["actions"])


def test_actions_through_the_api(world: World) -> None:
    case = submit(world, grid=0)
    sec = client_for(world.secretary0)
    r = sec.post(
        f"/api/cases/{case.pk}/actions/assign", data={"unit_id": world.unit0.pk, "note": "请物业处理"}
    )
    assert r.status_code == 200, r.content
    assert r.json()["case"]["status"] == "assigned" and r.json()["case"]["unit"] == world.unit0.name
    refused = client_for(world.resident).post(f"/api/cases/{case.pk}/actions/accept")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    hidden = client_for(world.handler1).post(f"/api/cases/{case.pk}/actions/accept")
    assert hidden.status_code == 404 and hidden.json()["code"] == "not_found"
    again = sec.post(f"/api/cases/{case.pk}/actions/triage")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    unknown = sec.post(f"/api/cases/{case.pk}/actions/teleport")
    assert unknown.status_code == 400 and unknown.json()["code"] == "unknown_action"
    returned = client_for(world.handler0).post(
        f"/api/cases/{case.pk}/actions/return", data={"note": "非物业职责"}
    )
    assert returned.status_code == 200 and returned.json()["case"] is None  # out of the unit's scope now
    assert Case.objects.get(pk=case.pk).status == Status.TRIAGED


def test_rating_through_the_api(world: World) -> None:
    case = submit(world, grid=0, kind="inquiry")
    case_answer(case_id=case.pk, actor=world.secretary0, result_text="已答复")
    r = client_for(world.resident).post(
        f"/api/cases/{case.pk}/actions/rate", data={"rating": "basic", "note": "还行"}
    )
    assert r.status_code == 200 and r.json()["case"]["status"] == "closed"
    assert r.json()["case"]["rating"] == "basic"


def test_queues_and_my_cases(world: World) -> None:
    case = submit(world, grid=0)
    submit(world, grid=4, reporter=world.resident2)
    q = client_for(world.secretary0).get("/api/cases/queue", {"queue": "dispatch"}).json()
    assert [i["id"] for i in q["items"]] == [case.pk]
    assert [i["id"] for i in client_for(world.resident).get("/api/cases/queue").json()["items"]] == [case.pk]
    resident_queue = client_for(world.resident2).get("/api/cases/queue", {"queue": "dispatch"}).json()
    assert resident_queue["count"] == 0
    mine = client_for(world.resident).get("/api/cases/mine").json()
    assert [i["id"] for i in mine["items"]] == [case.pk]
    capped = client_for(world.resident).get("/api/cases/mine", {"page_size": 1000})
    assert capped.status_code == 422


def test_public_list_shows_no_personal_data(world: World) -> None:
    case = submit(world, grid=0, kind="inquiry", contact_name="李四", text="李四 13800001111 反映噪音")
    case_answer(case_id=case.pk, actor=world.secretary0, result_text="已协调")
    hidden = submit(world, grid=0, kind="tip_off")
    case_answer(case_id=hidden.pk, actor=world.secretary0, result_text="已查处")
    r = Client().get("/api/cases/public")
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["id"] for i in items] == [case.pk]  # tip-offs are never public
    raw = json.dumps(items, ensure_ascii=False)
    assert "13800001111" not in raw and "李四" not in raw and "text" not in items[0]
    assert items[0]["lat"] == round(case.lat, 3)


def test_categories_follow_and_nearby(world: World) -> None:
    tree = Client().get("/api/cases/categories").json()
    road = next(g for g in tree if g["code"] == "road")
    assert {c["code"] for c in road["children"]} >= {"road.manhole", "road.streetlight"}
    case = submit(world, grid=0)
    lat, lng = grid_point(world.d, 0)
    c2 = client_for(world.resident2)
    near = c2.get(
        "/api/cases/nearby", {"lat": lat, "lng": lng, "category_id": category("city.litter").pk}
    ).json()
    assert [n["id"] for n in near] == [case.pk]
    followed = c2.post(f"/api/cases/{case.pk}/follow")
    assert followed.status_code == 200 and followed.json()["follower_count"] == 1
    assert "text" not in followed.json()


def test_photos_are_served_only_after_the_scope_check(world: World) -> None:
    case = submit(world, grid=0, photos=[jpeg_with_gps()])
    att = case.attachments.get()
    url = f"/api/cases/{case.pk}/attachments/{att.pk}"
    ok = client_for(world.resident).get(url)
    assert ok.status_code == 200 and ok["Content-Type"] == "image/jpeg" and "no-store" in ok["Cache-Control"]
    assert client_for(world.resident2).get(url).status_code == 404
    assert client_for(world.grid2).get(url).status_code == 404


def test_the_721_figure_for_a_region_in_scope(world: World) -> None:
    for grid in (0, 1, 2):
        case = submit(world, grid=grid, kind="inquiry")
        case_answer(
            case_id=case.pk, actor=world.secretary0 if grid < 2 else world.secretary1, result_text="已答复"
        )
    start = (timezone.now() - dt.timedelta(days=1)).isoformat()
    end = (timezone.now() + dt.timedelta(days=1)).isoformat()
    r = client_for(world.district_staff).get(
        "/api/cases/stats/resolution-levels", {"region_id": world.d.district.pk, "start": start, "end": end}
    )
    assert r.status_code == 200, r.content
    assert r.json()["total"] == 3 and r.json()["shares_721"]["community"] == 1.0
    other = client_for(world.secretary2).get(
        "/api/cases/stats/resolution-levels",
        {"region_id": world.d.communities[0].pk, "start": start, "end": end},
    )
    assert other.status_code == 404


def test_submissions_over_the_per_account_limit_get_429_and_save_nothing(world: World, settings: Any) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "case_submit": "2/h"}
    c = client_for(world.resident)
    codes = [
        c.post(
            "/api/cases/", data={"text": f"路灯不亮{i}", "community_id": world.d.communities[0].pk}
        ).status_code
        for i in range(3)
    ]
    over = c.post("/api/cases/", data={"text": "再报一次", "community_id": world.d.communities[0].pk})

    assert codes == [201, 201, 429]
    assert over.status_code == 429 and over.json()["code"] == "rate_limited" and int(over["Retry-After"]) >= 1
    assert Case.objects.count() == 2


def test_a_key_reused_for_a_different_report_is_refused_and_files_nothing(world: World) -> None:
    c = client_for(world.resident)
    first = post_report(c, world)
    assert first.status_code == 201  # type: ignore[attr-defined]
    number = first.json()["case"]["number"]  # type: ignore[attr-defined]
    # Same key, same words (whitespace aside): a retry, the first case.
    again = post_report(c, world, text="  路灯不亮,晚上很黑 \n")
    assert again.status_code == 200  # type: ignore[attr-defined]
    other = post_report(c, world, text="楼道里堆满了杂物")
    assert other.status_code == 422, other.content  # type: ignore[attr-defined]
    body = other.json()  # type: ignore[attr-defined]
    assert body["code"] == "idempotency_key_reused" and number in body["message"]
    assert Case.objects.count() == 1 and Case.objects.get().text == "路灯不亮,晚上很黑"


def test_supervision_counts_in_the_statistics_and_on_the_overdue_board(world: World) -> None:
    from linli.cases.models import Case as CaseModel
    from linli.cases.services import case_accept, case_assign, case_resolve, case_supervise

    solved, waiting, other_unit, elsewhere = (submit(world, grid=g) for g in (0, 0, 1, 2))
    for case, unit in ((solved, world.unit0), (waiting, world.unit0), (other_unit, world.unit1)):
        case_assign(case_id=case.pk, actor=world.street0, unit_id=unit.pk)
    case_supervise(case_id=solved.pk, actor=world.street0, note="请加快", urgency="urgent")
    case_supervise(case_id=solved.pk, actor=world.street0, note="再次督办", urgency="critical")
    case_supervise(case_id=waiting.pk, actor=world.street0, note="请加快", urgency="normal")
    case_supervise(case_id=other_unit.pk, actor=world.street0, note="请加快", urgency="normal")
    case_supervise(case_id=elsewhere.pk, actor=world.district_staff, note="区级督办", urgency="normal")
    case_accept(case_id=solved.pk, actor=world.handler0)
    case_resolve(case_id=solved.pk, actor=world.handler0, result_text="已处理")
    start = (timezone.now() - dt.timedelta(days=1)).isoformat()
    end = (timezone.now() + dt.timedelta(days=1)).isoformat()
    street = world.d.streets[0]
    inside = [
        c.pk
        for c in (solved, waiting, other_unit, elsewhere)
        if CaseModel.objects.get(pk=c.pk).region_path.startswith(street.path)
    ]
    assert len(inside) >= 3 and solved.pk in inside and other_unit.pk in inside
    r = client_for(world.street0).get(
        "/api/cases/stats/supervision", {"region_id": street.pk, "start": start, "end": end}
    )
    assert r.status_code == 200, r.content
    body = r.json()
    flags = {solved.pk: 2, waiting.pk: 1, other_unit.pk: 1, elsewhere.pk: 1}
    assert body["supervisions"] == sum(flags[pk] for pk in inside)
    assert body["cases"] == len(inside) and body["cases_solved"] == 1
    assert body["cases_open"] == len(inside) - 1
    assert body["by_urgency"]["urgent"] == 1 and body["by_urgency"]["critical"] == 1
    assert body["by_unit"][0] == {"unit": world.unit0.name, "supervisions": 3, "cases": 2}
    # Outside the period: nothing; outside the user's scope: 404.
    later = (timezone.now() + dt.timedelta(days=2)).isoformat()
    empty = client_for(world.street0).get(
        "/api/cases/stats/supervision", {"region_id": street.pk, "start": end, "end": later}
    )
    assert empty.json()["supervisions"] == 0 and empty.json()["cases"] == 0
    refused = client_for(world.secretary2).get(
        "/api/cases/stats/supervision", {"region_id": street.pk, "start": start, "end": end}
    )
    assert refused.status_code == 404
