"""The phone's round trip through the API (start, points, problem, end) and the pages around it."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from linli.cases.models import Case, Channel
from linli.cases.tests.factories import World, category
from linli.patrols.models import Patrol, PatrolCase, PatrolStatus
from linli.patrols.tests.walks import walk


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def test_a_phone_records_a_patrol_through_the_api(world: World) -> None:
    c = client_for(world.grid0)
    t0 = timezone.now() - dt.timedelta(minutes=15)
    start = {"client_key": "phone-api-0001", "started_at_ms": ms(t0)}
    first = c.post("/api/patrols/", start, content_type="application/json")
    replay = c.post("/api/patrols/", start, content_type="application/json")
    assert (first.status_code, replay.status_code) == (201, 200)
    patrol_id = first.json()["id"]
    assert replay.json()["id"] == patrol_id and first.json()["grid_id"] == world.d.grids[0].pk
    points = [
        {"seq": p.seq, "t": ms(p.at), "lat": p.lat, "lng": p.lng, "accuracy": 6.5} for p in walk(t0, steps=80)
    ]
    up = c.post(f"/api/patrols/{patrol_id}/points", {"points": points[:50]}, content_type="application/json")
    assert up.status_code == 200 and up.json()["stored"] == 50
    again = c.post(f"/api/patrols/{patrol_id}/points", {"points": points}, content_type="application/json")
    assert again.json() | {"rejected": []} == {
        "patrol_id": patrol_id,
        "received": 80,
        "stored": 30,
        "duplicates": 50,
        "rejected": [],
    }
    live = c.get(f"/api/patrols/{patrol_id}").json()
    assert live["live"] and live["point_count"] == 80 and len(live["buildings"]) == 2
    end = c.post(
        f"/api/patrols/{patrol_id}/end", {"ended_at_ms": points[-1]["t"]}, content_type="application/json"
    )
    assert end.status_code == 200
    body = end.json()
    assert (body["status"], body["point_count"], body["building_count"]) == (PatrolStatus.ENDED, 80, 2)
    assert 540 < body["distance_m"] < 560  # 79 steps of 7 m


def test_a_problem_found_on_patrol_becomes_a_patrol_channel_case_once(world: World) -> None:
    c = client_for(world.grid0)
    patrol = c.post(
        "/api/patrols/", {"client_key": "phone-api-problem"}, content_type="application/json"
    ).json()
    lat, lng = walk(timezone.now(), steps=1)[0].lat, walk(timezone.now(), steps=1)[0].lng
    form = {
        "text": "3栋门口井盖缺失,已设置临时警示",
        "lat": str(lat),
        "lng": str(lng),
        "category_id": str(category("road.manhole").pk),
    }
    first = c.post(f"/api/patrols/{patrol['id']}/problems", form, HTTP_IDEMPOTENCY_KEY="report-000000001")
    replay = c.post(f"/api/patrols/{patrol['id']}/problems", form, HTTP_IDEMPOTENCY_KEY="report-000000001")
    assert (first.status_code, replay.status_code) == (201, 200)
    assert first.json()["case_id"] == replay.json()["case_id"]
    case = Case.objects.get(pk=first.json()["case_id"])
    assert (case.channel, case.filed_by, case.grid_id) == (
        Channel.GRID_PATROL,
        world.grid0,
        world.d.grids[0].pk,
    )
    assert PatrolCase.objects.filter(patrol_id=patrol["id"], case=case).count() == 1
    detail = client_for(world.secretary0).get(f"/api/patrols/{patrol['id']}").json()
    assert [x["number"] for x in detail["cases"]] == [case.number]
    no_place = c.post(f"/api/patrols/{patrol['id']}/problems", {"text": "路灯不亮"})
    assert (no_place.status_code, no_place.json()["code"]) == (400, "location_required")


def test_the_recorder_page_is_for_grid_workers(world: World) -> None:
    page = client_for(world.grid0).get("/patrols/record/")
    assert page.status_code == 200
    assert b'id="recorder"' in page.content and b"patrols/recorder.js" in page.content
    assert b'data-api="/api/patrols/"' in page.content
    for user in (world.resident, world.window0, world.secretary0):
        assert client_for(user).get("/patrols/record/").status_code == 404


def test_the_recorder_page_offers_to_end_a_patrol_left_open_elsewhere(world: World) -> None:
    c = client_for(world.grid0)
    patrol = c.post("/api/patrols/", {"client_key": "phone-api-open"}, content_type="application/json").json()
    page = c.get("/patrols/record/")
    assert f'data-active-id="{patrol["id"]}"'.encode() in page.content


def test_the_workbench_menu_links_patrol_pages_by_capability(world: World) -> None:
    worker = client_for(world.grid0).get("/").content.decode()
    secretary = client_for(world.secretary0).get("/").content.decode()
    window = client_for(world.window0).get("/").content.decode()
    assert "/patrols/record/" in worker and "/patrols/coverage/" in worker
    assert "/patrols/" in secretary and "/patrols/record/" not in secretary
    assert "/patrols/" not in window


def test_the_list_shows_my_patrols_to_a_grid_worker(world: World) -> None:
    c = client_for(world.grid0)
    c.post("/api/patrols/", {"client_key": "phone-api-list"}, content_type="application/json")
    page = c.get("/patrols/")
    assert page.status_code == 200 and len(page.context["page"].object_list) == 1  # type: ignore[index]
    assert Patrol.objects.count() == 1


def test_visits_made_during_the_patrol_come_from_the_registered_sources(world: World) -> None:
    from linli.patrols.visits import VisitRef, _sources, patrol_visit_source_register

    seen: list[tuple[object, int]] = []

    def source(viewer: object, worker_id: int, start: dt.datetime, end: dt.datetime) -> list[VisitRef]:
        seen.append((viewer, worker_id))
        return [VisitRef(at=start + dt.timedelta(minutes=5), label="入户走访", source="test")]

    c = client_for(world.grid0)
    patrol = c.post(
        "/api/patrols/", {"client_key": "phone-api-visits"}, content_type="application/json"
    ).json()
    patrol_visit_source_register("test", source)
    try:
        detail = client_for(world.secretary0).get(f"/api/patrols/{patrol['id']}").json()
    finally:
        _sources.pop("test")
    assert [v["label"] for v in detail["visits"]] == ["入户走访"]
    assert seen == [(world.secretary0, world.grid0.pk)]  # the source applies the viewer's own scope
