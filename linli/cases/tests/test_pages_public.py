"""公示 pages: solved public cases only, no personal data, photos only where marked public."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from linli.cases.models import CaseAttachment, CaseKind
from linli.cases.services import case_accept, case_assign, case_resolve
from linli.cases.tests.factories import World, submit
from linli.cases.tests.test_attachments import jpeg_with_gps
from linli.cases.tests.test_pages_workbench import BBOX


def _solved(world: World, *, photos_public: bool, reporter=None, **kw: object):  # type: ignore[no-untyped-def]
    case = submit(
        world,
        grid=0,
        reporter=reporter or world.resident,
        text="张三家门口垃圾,电话13812345678",
        contact_name="张三",
        **kw,
    )
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk, note="交物业")
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(
        case_id=case.pk,
        actor=world.handler0,
        result_text="已清运",
        photos=[jpeg_with_gps()],
        photos_public=photos_public,
    )
    return case


def test_the_public_list_shows_solved_public_cases_without_personal_data(world: World) -> None:
    shown = _solved(world, photos_public=True)
    tip = _solved(world, photos_public=True, reporter=world.resident2, kind=CaseKind.TIP_OFF)
    open_case = submit(world, grid=1, reporter=world.resident2)
    html = Client().get("/cases/public/").content.decode()
    assert shown.number in html and "已清运" in html
    assert tip.number not in html and open_case.number not in html
    for personal in ("张三", "13812345678", "138****5678", str(world.resident), "交物业"):
        assert personal not in html
    photo = CaseAttachment.objects.get(case=shown, kind="result")
    assert f"/cases/public/{shown.pk}/photos/{photo.pk}/" in html
    detail = Client().get(f"/cases/public/{shown.pk}/").content.decode()
    assert "已清运" in detail and "交物业" not in detail and "张三" not in detail
    assert Client().get(f"/cases/public/{open_case.pk}/").status_code == 404
    assert Client().get(f"/cases/public/{tip.pk}/").status_code == 404


def test_photos_are_public_only_where_marked_public(world: World) -> None:
    public = _solved(world, photos_public=True)
    private = _solved(world, photos_public=False, reporter=world.resident2)
    report_photo = CaseAttachment.objects.create(
        case=public, kind="report", file=SimpleUploadedFile("x.jpg", b"x"), content_type="image/jpeg", size=1,
        width=1, height=1, is_public=False,
    )  # fmt: skip
    ok = CaseAttachment.objects.get(case=public, kind="result")
    hidden = CaseAttachment.objects.get(case=private, kind="result")
    served = Client().get(f"/cases/public/{public.pk}/photos/{ok.pk}/")
    assert served.status_code == 200 and served["X-Content-Type-Options"] == "nosniff"
    assert (
        served["Content-Disposition"].startswith("inline; filename=")
        and "sandbox" in served["Content-Security-Policy"]
    )
    assert Client().get(f"/cases/public/{private.pk}/photos/{hidden.pk}/").status_code == 404
    assert Client().get(f"/cases/public/{public.pk}/photos/{report_photo.pk}/").status_code == 404
    assert Client().get(f"/cases/public/{public.pk}/photos/{hidden.pk}/").status_code == 404
    assert f"photos/{hidden.pk}/" not in Client().get("/cases/public/").content.decode()


def test_public_pins_are_rounded_and_carry_no_text(world: World) -> None:
    case = _solved(world, photos_public=False)
    body = Client().get(f"/cases/public/pins/?bbox={BBOX}").json()
    assert [p["id"] for p in body["pins"]] == [case.pk]
    pin = body["pins"][0]
    assert set(pin) == {"id", "n", "lat", "lng", "s", "c", "o"}
    assert pin["lat"] == round(case.lat, 3) and pin["lng"] == round(case.lng, 3)
    assert pin["c"] == "暴露垃圾"
