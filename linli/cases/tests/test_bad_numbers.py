"""Numbers from the address bar and forms that are not row ids (superscripts, 25 digits) are ignored or
refused, never a 500."""

from __future__ import annotations

from django.test import Client

from linli.cases.tests.factories import World, grid_point, submit

HUGE = "9" * 25


def test_bad_numbers_in_queries_and_forms(world: World) -> None:
    submit(world, grid=0)
    anyone = Client()
    for url in (f"/cases/public/?category={HUGE}", "/cases/public/?category=²"):
        assert anyone.get(url).status_code == 200, url
    lat, lng = grid_point(world.d, 0)
    for bad in (HUGE, "²"):
        r = anyone.get("/cases/report/nearby/", {"lat": lat, "lng": lng, "category": bad})
        assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    staff = Client()
    staff.force_login(world.secretary0)
    r = staff.post(
        "/cases/wb/bulk-assign/", {"ids": [HUGE, "²"], "unit": world.unit0.pk, "back": "/cases/wb/"}
    )
    assert r.status_code in (302, 400)


def test_huge_ids_in_paths(world: World) -> None:
    staff = Client()
    staff.force_login(world.secretary0)
    for url in (f"/cases/wb/{HUGE}/", f"/cases/public/{HUGE}/", f"/api/cases/{HUGE}"):
        assert staff.get(url).status_code == 404, url
