"""What anyone may learn of a case stays what the public page shows (PI): the category, never the words; the
point rounded to ~100 m however the questions are asked; the handler's result with numbers masked."""

from __future__ import annotations

import json

from django.test import Client

from linli.accounts.models import User
from linli.cases.models import Case
from linli.cases.services import case_answer
from linli.cases.tests.factories import World, category, grid_point, submit

WORDS = "楼上张伟(13812345678)住5栋301天天半夜装修"


def client_for(user: User | None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def placed(world: World, lat: float, lng: float, **kw: object) -> Case:
    case = submit(world, grid=1, text=WORDS, category_id=category("city.litter").pk, **kw)
    Case.objects.filter(pk=case.pk).update(lat=lat, lng=lng)
    return Case.objects.get(pk=case.pk)


def test_me_too_answers_name_the_category_and_depend_only_on_the_rounded_point(world: World) -> None:
    lat0, lng0 = grid_point(world.d, 1)
    cell_lat, cell_lng = round(lat0, 3), round(lng0, 3)
    a = placed(world, cell_lat + 0.0004, cell_lng - 0.0004)  # two points in one public cell
    other = client_for(world.resident2)
    params = {"lat": cell_lat + 0.0003, "lng": cell_lng, "category_id": category("city.litter").pk}
    first = other.get("/api/cases/nearby", params)
    assert first.status_code == 200, first.content
    raw = first.content.decode()
    assert "13812345678" not in raw and "张伟" not in raw and WORDS not in raw
    [row] = first.json()
    assert row["title"] == category("city.litter").name and row["distance_m"] % 10 == 0
    # The same case moved inside its cell: every answer is the same.
    Case.objects.filter(pk=a.pk).update(lat=cell_lat - 0.0004, lng=cell_lng + 0.0004)
    assert other.get("/api/cases/nearby", params).json() == first.json()
    page = other.get("/cases/report/nearby/", {"lat": params["lat"], "lng": params["lng"]}).json()
    assert WORDS not in json.dumps(page, ensure_ascii=False)
    assert {r["distance_m"] for r in page["nearby"]} == {row["distance_m"]}


def test_the_public_map_cannot_be_bisected_to_the_exact_point(world: World) -> None:
    lat0, lng0 = grid_point(world.d, 1)
    cell_lat, cell_lng = round(lat0, 3), round(lng0, 3)
    case = placed(world, cell_lat + 0.0003, cell_lng + 0.0001)
    case_answer(case_id=case.pk, actor=world.secretary0, result_text="已清运")
    anyone = Client()

    def found(max_lat: float) -> bool:
        bbox = f"{cell_lng - 0.01},{cell_lat - 0.01},{cell_lng + 0.01},{max_lat}"
        pins = anyone.get("/cases/public/pins/", {"bbox": bbox}).json()["pins"]
        return any(p["id"] == case.pk for p in pins)

    # Boxes ending just above and just below the exact latitude (same cell) answer alike.
    assert found(cell_lat + 0.00031) is found(cell_lat + 0.00029) is True
    assert found(cell_lat - 0.0006) is False  # the next cell down: not there


def test_the_published_result_masks_numbers(world: World) -> None:
    case = submit(world, grid=0, kind="inquiry")
    case_answer(
        case_id=case.pk,
        actor=world.secretary0,
        result_text="已联系13912345678,身份证110101199003078515的业主,3栋2单元已清理",
    )
    for url in (
        "/api/cases/public",
        f"/cases/public/{case.pk}/",
        "/cases/public/",
        "/open311/v2/requests.json",
    ):
        body = Client().get(url).content.decode()
        assert "13912345678" not in body and "110101199003078515" not in body, url
        assert "139****5678" in body, url


def test_a_public_photo_is_public_only_while_its_case_is_on_the_public_page(world: World) -> None:
    from linli.cases.models import CaseAttachment
    from linli.cases.services import case_close_unresolved
    from linli.cases.tests.test_attachments import jpeg_with_gps

    solved = submit(world, grid=0, kind="inquiry", photos=[jpeg_with_gps()])
    unresolved = submit(world, grid=0, kind="inquiry", photos=[jpeg_with_gps()])
    case_answer(case_id=solved.pk, actor=world.secretary0, result_text="已答复")
    case_close_unresolved(case_id=unresolved.pk, actor=world.secretary0, note="历史遗留")
    CaseAttachment.objects.update(is_public=True)
    Case.objects.update(is_public=True)
    stranger = client_for(world.resident2)
    for case, expected in ((solved, 200), (unresolved, 404)):
        att = CaseAttachment.objects.get(case=case)
        assert stranger.get(f"/api/cases/{case.pk}/attachments/{att.pk}").status_code == expected
        page = Client().get(f"/cases/public/{case.pk}/photos/{att.pk}/")
        assert page.status_code in ((200, 302) if expected == 200 else (404,))
