"""The resident's screens end to end through the client: report (plain form and the page's JSON post),
clear Chinese errors with the input kept, one case per idempotency key, "me too" before filing, my cases,
rating, and the weight of the report page on a weak network."""

from __future__ import annotations

import io
import re
from pathlib import Path

from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from linli.accounts.models import User
from linli.cases.models import Case, CaseAttachment, CaseFollower, Category, Channel, Status
from linli.cases.services import case_accept, case_assign, case_comment, case_resolve
from linli.cases.tests.factories import World, category, grid_point, submit
from linli.cases.tests.test_attachments import GPS_IFD, jpeg_with_gps

JSON = {"HTTP_ACCEPT": "application/json"}
REPORT = "/cases/report/"


def client_for(user: User | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def form_data(
    world: World, *, key: str = "page-key-0001", grid: int = 1, **extra: object
) -> dict[str, object]:
    lat, lng = grid_point(world.d, grid)
    data: dict[str, object] = {
        "category": category("road.streetlight").pk,
        "kind": "",
        "text": "3号楼门口路灯不亮,晚上很黑",
        "lat": lat,
        "lng": lng,
        "address": "3号楼门口",
        "idempotency_key": key,
    }
    data.update(extra)
    return data


def test_the_report_page_offers_the_category_tree_and_a_fresh_key_per_visit(world: World) -> None:
    c = client_for(world.resident)
    first = c.get(REPORT)
    assert first.status_code == 200
    html = first.content.decode()
    assert '<optgroup label="路灯/井盖/道路">' in html
    assert f'value="{category("road.streetlight").pk}" data-kind="complaint"' in html
    keys = {re.search(r'name="idempotency_key" value="([^"]+)"', c.get(REPORT).content.decode()).group(1)}  # type: ignore[union-attr]
    keys.add(re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert len(keys) == 2
    assert "<script>" not in html and ' style="' not in html


def test_a_resident_reports_with_a_photo_which_arrives_without_exif(world: World) -> None:
    c = client_for(world.resident)
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps((800, 600)), content_type="image/jpeg")
    answer = c.post(REPORT, {**form_data(world), "photos": [photo]}, **JSON)
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["ok"] and body["created"]
    case = Case.objects.get(number=body["number"])
    assert (case.reporter, case.channel, case.status) == (world.resident, Channel.RESIDENT, Status.SUBMITTED)
    assert case.grid_id == world.d.grids[1].pk
    stored = CaseAttachment.objects.get(case=case)
    image = Image.open(io.BytesIO(stored.file.read()))
    assert dict(image.getexif()) == {} and image.getexif().get(GPS_IFD) is None
    receipt = c.get(body["redirect"])
    assert receipt.status_code == 200 and case.number in receipt.content.decode()


def test_a_double_tap_or_a_retry_with_the_same_key_files_one_case(world: World) -> None:
    c = client_for(world.resident)
    first = c.post(REPORT, form_data(world, key="retry-key-42"), **JSON).json()
    again = c.post(REPORT, form_data(world, key="retry-key-42"), **JSON).json()
    plain = c.post(REPORT, form_data(world, key="retry-key-42"))
    assert first["created"] and not again["created"]
    assert first["number"] == again["number"]
    assert plain.status_code == 302
    assert Case.objects.filter(reporter=world.resident).count() == 1


def test_an_anonymous_report_needs_a_phone_and_keeps_what_was_typed(world: World) -> None:
    c = client_for(None)
    answer = c.post(REPORT, form_data(world, text="井盖丢了,很危险"))
    assert answer.status_code == 400
    html = answer.content.decode()
    assert "匿名反映请留下联系电话" in html
    assert "井盖丢了,很危险" in html and 'value="3号楼门口"' in html
    assert not Case.objects.exists()
    ok = c.post(REPORT, form_data(world, contact_phone="13912345678"), **JSON)
    assert ok.status_code == 200
    case = Case.objects.get()
    assert case.reporter is None and case.contact_phone_masked == "139****5678"
    assert c.get(ok.json()["redirect"]).status_code == 200  # this browser may read its receipt
    assert client_for(None).get(ok.json()["redirect"]).status_code == 404  # another browser may not


def test_a_point_outside_the_district_is_refused_in_chinese_with_the_input_kept(world: World) -> None:
    c = client_for(world.resident)
    data = form_data(world, lat=39.9, lng=116.4)
    answer = c.post(REPORT, data, **JSON)
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid" and "location" in body["errors"]
    assert re.search(r"[\u4e00-\u9fff]", body["errors"]["location"][0])
    page = c.post(REPORT, data)
    assert page.status_code == 400 and "3号楼门口路灯不亮" in page.content.decode()
    assert body["errors"]["location"][0] in page.content.decode()
    assert not Case.objects.exists()


def test_a_photo_that_is_not_an_image_is_refused_clearly(world: World) -> None:
    c = client_for(world.resident)
    fake = SimpleUploadedFile("x.jpg", b"GIF89a-not-really-a-jpeg", content_type="image/jpeg")
    body = c.post(REPORT, {**form_data(world), "photos": [fake]}, **JSON).json()
    assert body["errors"]["photos"] == ["只能上传 JPEG、PNG 或 HEIC 格式的图片"]
    assert not Case.objects.exists()


def test_a_nearby_open_case_of_the_same_category_is_offered_before_a_new_one(world: World) -> None:
    lat, lng = grid_point(world.d, 1)
    existing = submit(world, grid=1, reporter=world.resident2, category_id=category("road.streetlight").pk)
    c = client_for(world.resident)
    nearby = c.get(
        "/cases/report/nearby/", {"lat": lat, "lng": lng, "category": category("road.streetlight").pk}
    )
    rows = nearby.json()["nearby"]
    assert [r["number"] for r in rows] == [existing.number]
    assert "text" not in rows[0] and "title" not in rows[0]  # no resident's words to others

    offer = c.post(REPORT, form_data(world), **JSON)
    assert offer.status_code == 409 and offer.json()["code"] == "similar_nearby"
    assert Case.objects.count() == 1

    followed = c.post(rows[0]["follow_url"], **JSON)
    assert followed.status_code == 200 and followed.json()["followers"] == 1
    assert CaseFollower.objects.filter(case=existing, user=world.resident).exists()

    filed = c.post(REPORT, form_data(world, confirm_new="1"), **JSON)
    assert filed.status_code == 200 and filed.json()["created"]
    assert Case.objects.count() == 2


def test_the_plain_form_shows_the_nearby_cases_and_files_on_the_second_submit(world: World) -> None:
    submit(world, grid=1, reporter=world.resident2, category_id=category("road.streetlight").pk)
    c = client_for(world.resident)
    offer = c.post(REPORT, form_data(world))
    html = offer.content.decode()
    assert (
        offer.status_code == 409
        and "我也遇到" in html
        and 'name="confirm_new" id="id_confirm_new" value="1"' in html
    )
    assert c.post(REPORT, form_data(world, confirm_new="1")).status_code == 302


def test_a_building_qr_report_uses_the_building(world: World) -> None:
    from linli.cases.qr import building_qr_path

    building = world.d.buildings[2]
    c = client_for(world.resident)
    page = c.get(building_qr_path(building))
    assert page.status_code == 200 and building.name in page.content.decode()
    token = building_qr_path(building).split("/")[3]
    data = form_data(world, building_token=token)
    data.pop("lat")
    data.pop("lng")
    body = c.post(REPORT, data, **JSON).json()
    case = Case.objects.get(number=body["number"])
    assert (case.channel, case.building_id) == (Channel.BUILDING_QR, building.pk)
    assert (case.lat, case.lng) == (building.lat, building.lng)
    assert case.grid_id == building.grid_id


def test_my_cases_show_the_timeline_and_the_reporter_rates(world: World) -> None:
    case = submit(world, grid=0)
    case_comment(case_id=case.pk, actor=world.secretary0, note="内部:请物业经理处理")
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="已清运")
    c = client_for(world.resident)
    listing = c.get("/cases/mine/").content.decode()
    assert case.number in listing
    page = c.get(f"/cases/mine/{case.pk}/").content.decode()
    assert "已清运" in page and "交办" in page and "办结" in page
    assert "内部:请物业经理处理" not in page  # notes of staff steps stay internal
    assert "请您评价" in page
    refused = c.post(f"/cases/mine/{case.pk}/rate/", {"rating": "", "comment": "很好"})
    assert refused.status_code == 400 and "请选择满意、基本满意或不满意" in refused.content.decode()
    assert "很好" in refused.content.decode()
    rated = c.post(f"/cases/mine/{case.pk}/rate/", {"rating": "satisfied", "comment": "很快"})
    assert rated.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.rating) == (Status.CLOSED, "satisfied")


def test_a_resident_cannot_open_someone_elses_case(world: World) -> None:
    case = submit(world, grid=0, reporter=world.resident2)
    c = client_for(world.resident)
    assert c.get(f"/cases/mine/{case.pk}/").status_code == 404
    assert c.post(f"/cases/mine/{case.pk}/rate/", {"rating": "satisfied"}).status_code == 404
    assert c.get(f"/cases/report/done/{case.pk}/").status_code == 404


def _asset_bytes(html: str) -> dict[str, int]:
    sizes = {}
    for url in re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', html):
        found = finders.find(url.removeprefix("/static/"))
        assert found, url
        sizes[url] = Path(str(found)).stat().st_size
    return sizes


def test_the_report_page_weighs_less_than_100_kb_without_photos(world: World) -> None:
    """Weak network (QUALITY): HTML + every stylesheet and script it loads, uncompressed, with the seeded
    catalogue (≥ 40 leaves) and a district of 100 communities. Leaflet and htmx are not among them: the
    map loads only when the pin picker opens, and the page needs no htmx."""
    from linli.places.models import Level
    from linli.places.services import region_create

    street = world.d.streets[0]
    for i in range(96):
        region_create(parent=street, level=Level.COMMUNITY, code=f"W{i:03d}", name=f"幸福里第{i}社区")
    assert Category.objects.filter(is_active=True, children__isnull=True).count() >= 40
    html = client_for(world.resident).get(REPORT).content.decode()
    assets = _asset_bytes(html)
    assert not any("leaflet" in url or "htmx" in url for url in assets)
    total = len(html.encode()) + sum(assets.values())
    assert total < 100 * 1024, (total, assets)


def test_a_rewritten_form_sent_with_its_old_key_is_not_lost(world: World) -> None:
    """The resident went back after filing and rewrote the text: the page says the form was filed (naming
    the case), keeps the new words, and the next press files them as a case of their own."""
    c = client_for(world.resident)
    first = c.post(REPORT, form_data(world, key="back-key-0001"), **JSON).json()
    # (confirm_new: the resident has seen the first case offered nearby and files anyway)
    rewritten = form_data(world, key="back-key-0001", text="另外,5号楼下水道堵了", confirm_new="1")
    answer = c.post(REPORT, rewritten, **JSON)
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "idempotency_key_reused" and first["number"] in body["message"]
    assert body["idempotency_key"] != "back-key-0001"
    assert Case.objects.count() == 1
    again = c.post(REPORT, {**rewritten, "idempotency_key": body["idempotency_key"]}, **JSON).json()
    assert again["created"] and again["number"] != first["number"]
    # The plain form the same way: the page shows the message, the words and a fresh key.
    page = c.post(REPORT, form_data(world, key="back-key-0001", text="第三件事:电梯坏了", confirm_new="1"))
    html = page.content.decode()
    assert page.status_code == 400 and "这份表单已提交过" in html and "第三件事:电梯坏了" in html
    fresh = re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert fresh not in ("back-key-0001", body["idempotency_key"])
    assert Case.objects.count() == 2


def test_a_refused_note_comes_back_in_the_box(world: World) -> None:
    case = submit(world, grid=0)
    c = client_for(world.resident)
    long_note = "楼道灯还是不亮。" * 130  # over the 1,000 characters a note may have
    answer = c.post(f"/cases/mine/{case.pk}/comment/", {"note": long_note})
    html = answer.content.decode()
    assert answer.status_code == 400 and "说明不能超过" in html
    assert long_note[:1000] in html


def test_my_cases_are_paged_so_none_is_out_of_reach(world: World) -> None:
    for _ in range(23):
        submit(world, grid=0)
    c = client_for(world.resident)
    first = c.get("/cases/mine/").content.decode()
    second = c.get("/cases/mine/", {"page": 2}).content.decode()
    numbers = list(
        Case.objects.filter(reporter=world.resident)
        .order_by("-created_at", "-id")
        .values_list("number", flat=True)
    )
    assert all(n in first for n in numbers[:20]) and numbers[20] not in first
    assert all(n in second for n in numbers[20:]) and "1 / 2" not in second and "2 / 2" in second


def test_an_address_only_report_is_offered_the_same_problem_in_its_community(world: World) -> None:
    community = world.d.communities[0]
    existing = submit(world, grid=0, category_id=category("road.streetlight").pk, reporter=world.resident2)
    assert existing.community_id == community.pk and existing.is_public
    c = client_for(world.resident)
    data = form_data(world, lat="", lng="", community=community.pk, address="人民路口")
    answer = c.post(REPORT, data, **JSON)
    assert answer.status_code == 409, answer.content
    [row] = answer.json()["nearby"]
    assert row["number"] == existing.number and row["distance_m"] is None
    page = c.post(REPORT, data)
    assert page.status_code == 409 and "同社区" in page.content.decode()
    filed = c.post(REPORT, {**data, "confirm_new": "1"}, **JSON).json()
    assert filed["created"] and Case.objects.count() == 2


def test_the_plain_form_says_when_chosen_photos_must_be_chosen_again(world: World) -> None:
    c = client_for(world.resident)
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps((400, 300)), content_type="image/jpeg")
    answer = c.post(REPORT, {**form_data(world, text=""), "photos": [photo]})
    assert answer.status_code == 400 and "已选择的照片未保存,请重新选择后再提交" in answer.content.decode()
    plain = c.post(REPORT, form_data(world, text=""))
    assert "已选择的照片未保存" not in plain.content.decode()
