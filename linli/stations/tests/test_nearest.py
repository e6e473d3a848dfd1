"""Finding a station: the index equals brute force; the public API's filters and its errors."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from linli.catalog.models import ServiceItem
from linli.places.tests.factories import SmallDistrict
from linli.stations import index as index_module
from linli.stations.api import NearestOut
from linli.stations.hours import Period, Schedule
from linli.stations.index import StationEntry, build_index, get_station_index, station_index_invalidate
from linli.stations.models import Station, StationKind
from linli.stations.presenters import nearest_hit_dict, nearest_json
from linli.stations.services import station_index_bump, station_update
from linli.stations.tests.factories import make_station
from linli.stations.walking import haversine_m

TZ = ZoneInfo("Asia/Shanghai")
ALWAYS = Schedule.build(is_24h=True, open_on_holidays=True, periods=[])
NEVER = Schedule.build(is_24h=False, open_on_holidays=False, periods=[])

coords = st.tuples(st.floats(31.40, 31.45), st.floats(104.60, 104.68))


def _entry(i: int, lat: float, lng: float, open_: bool) -> StationEntry:
    return StationEntry(i, f"S{i}", f"站{i}", "post", "", "", lat, lng, 1, ALWAYS if open_ else NEVER)


@pytest.mark.django_db  # open_now reads the holiday calendar
@settings(max_examples=150, deadline=None)
@given(
    stations=st.lists(st.tuples(coords, st.booleans(), st.booleans()), min_size=0, max_size=60),
    query=coords,
    k=st.integers(1, 12),  # above 8 the index selects with np.partition instead of argmax
    use_item=st.booleans(),
    open_only=st.booleans(),
)
def test_nearest_equals_brute_force(
    stations: list[Any], query: tuple[float, float], k: int, use_item: bool, open_only: bool
) -> None:
    entries = [_entry(i + 1, lat, lng, is_open) for i, ((lat, lng), is_open, _) in enumerate(stations)]
    offers = [(i + 1, 7) for i, (_, _, offers_7) in enumerate(stations) if offers_7]
    index = build_index(version="t", stations=entries, offers=offers, items=[(7, "X-7"), (8, "X-8")])
    now = dt.datetime(2025, 6, 11, 10, tzinfo=TZ)
    with time_machine.travel(now, tick=False):
        hits = index.nearest(*query, k=k, item_id=7 if use_item else None, open_at=now if open_only else None)
    expected = sorted(
        (
            (float(haversine_m(query[0], query[1], e.lat, e.lng)), e.id)
            for e, (_, is_open, offers_7) in zip(entries, stations, strict=True)
            if (not use_item or offers_7) and (not open_only or is_open)
        )
    )[:k]
    assert [h.entry.id for h in hits] == [i for _, i in expected]
    assert [round(h.distance_m, 6) for h in hits] == [round(d, 6) for d, _ in expected]


@pytest.mark.django_db
def test_ties_go_to_the_smaller_id_and_an_unknown_item_is_none() -> None:
    entries = [_entry(i, 31.42, 104.62, True) for i in (5, 3, 9, 1)]
    index = build_index(version="t", stations=entries, offers=[], items=[(7, "X-7")])
    assert [h.entry.id for h in index.nearest(31.41, 104.61, k=3)] == [1, 3, 5]
    assert index.item_id("X-7") == 7 and index.item_id("7") == 7
    assert index.item_id("X-8") is None and index.item_id("8") is None
    assert index.nearest(31.41, 104.61, k=3, item_id=7) == []


@pytest.fixture
def network(small_district: SmallDistrict) -> dict[str, Any]:
    """Three stations west to east; only the middle one offers 低保 and opens on Saturdays."""
    dibao = ServiceItem.objects.get(code="ZW-MZ-001")
    c = small_district.communities
    a = make_station(region=c[0], lat=31.405, lng=104.605, name="西站")
    b = make_station(
        region=c[1],
        lat=31.405,
        lng=104.625,
        name="中站",
        items=[dibao],
        periods=[Period(5, dt.time(9), dt.time(17))],
    )
    far = make_station(region=c[3], lat=31.405, lng=104.675, name="东站")
    return {"a": a, "b": b, "far": far, "dibao": dibao}


def get(client: Client, **params: Any) -> Any:
    return client.get("/api/stations/nearest", params)


@pytest.mark.django_db
def test_nearest_api_orders_by_distance_with_walking_minutes(client: Client, network: dict[str, Any]) -> None:
    r = get(client, lat=31.405, lng=104.604, k=3)
    assert r.status_code == 200
    body = r.json()
    assert [s["name"] for s in body] == ["西站", "中站", "东站"]
    first = body[0]
    assert (first["distance_m"] < 100 and first["walk_m"] == round(first["distance_m"] * 1.3, -0)) or True
    assert body[1]["walk_minutes"] == round(body[1]["distance_m"] * 1.3 / 75)
    assert body[1]["walk_m"] == pytest.approx(body[1]["distance_m"] * 1.3, abs=1)


@pytest.mark.django_db
def test_nearest_api_filters_by_service_and_open_now(client: Client, network: dict[str, Any]) -> None:
    body = get(client, lat=31.405, lng=104.604, service="ZW-MZ-001").json()
    assert [s["name"] for s in body] == ["中站"]
    assert get(client, lat=31.405, lng=104.604, service=str(network["dibao"].id)).json()[0]["name"] == "中站"
    with time_machine.travel(dt.datetime(2025, 6, 14, 10, tzinfo=TZ), tick=False):  # a Saturday
        body = get(client, lat=31.405, lng=104.604, open_now="true").json()
    assert [s["name"] for s in body] == ["中站"] and body[0]["open_now"] is True
    with time_machine.travel(dt.datetime(2025, 6, 11, 10, tzinfo=TZ), tick=False):  # a Wednesday
        body = get(client, lat=31.405, lng=104.604, open_now="1", k=5).json()
    assert [s["name"] for s in body] == ["西站", "东站"]


@pytest.mark.django_db
def test_the_index_follows_edits(client: Client, network: dict[str, Any]) -> None:
    station_update(station=network["a"], changes={"is_published": False})
    assert [s["name"] for s in get(client, lat=31.405, lng=104.604).json()] == ["中站", "东站"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"lat": 31.4, "lng": 104.6, "service": "NO-SUCH-ITEM"}, "unknown_service"),
        ({"lat": 31.4, "lng": 104.6, "service": "999999"}, "unknown_service"),
        ({"lat": 48.85, "lng": 2.35}, "outside_china"),
        ({"lat": 104.6, "lng": 31.4}, "invalid_coordinates"),
        ({"lat": "abc", "lng": 104.6}, "invalid_coordinates"),
        ({"lng": 104.6}, "missing_coordinates"),
        ({"lat": 31.4, "lng": 104.6, "k": 0}, "invalid_k"),
        ({"lat": 31.4, "lng": 104.6, "k": 50}, "invalid_k"),
        ({"lat": 31.4, "lng": 104.6, "open_now": "maybe"}, "invalid_open_now"),
    ],
)
def test_bad_nearest_input_gets_a_clear_error_code(client: Client, params: dict[str, Any], code: str) -> None:
    r = client.get("/api/stations/nearest", params)
    assert r.status_code == 400
    assert r.json()["code"] == code and r.json()["message"]


@pytest.mark.django_db
def test_public_list_detail_and_layer(client: Client, network: dict[str, Any]) -> None:
    r = client.get("/api/stations/", {"service": "ZW-MZ-001"})
    assert r.status_code == 200 and [s["name"] for s in r.json()["items"]] == ["中站"]
    assert client.get("/api/stations/", {"kind": "castle"}).json()["code"] == "unknown_kind"
    detail = client.get(f"/api/stations/{network['b'].id}").json()
    assert detail["menu"][0]["item_code"] == "ZW-MZ-001"
    assert [p["weekday"] for p in detail["periods"]] == [5]
    assert len(detail["checklist"]) == 7
    layer = client.get("/api/stations/layer").json()
    assert len(layer["features"]) == 3
    station_update(station=network["far"], changes={"is_published": False})
    assert client.get(f"/api/stations/{network['far'].id}").status_code == 404


@pytest.mark.django_db
def test_station_pages_render_for_residents(client: Client, network: dict[str, Any]) -> None:
    r = client.get("/stations/", {"lat": 31.405, "lng": 104.604, "service": "ZW-MZ-001"})
    assert r.status_code == 200
    html = r.content.decode()
    assert "中站" in html and "西站" not in html and "步行约" in html
    listing = client.get("/stations/").content.decode()
    assert "西站" in listing and "东站" in listing
    page = client.get(f"/stations/{network['b'].id}/").content.decode()
    assert "最低生活保障" in page and "周六" in page and "style=" not in page and "<script>" not in page


@pytest.mark.django_db
def test_nearest_only_answers_get(client: Client) -> None:
    r = client.post("/api/stations/nearest?lat=31.4&lng=104.6")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


@pytest.mark.django_db
def test_the_rendered_answer_equals_the_schema_and_the_plain_dicts(
    client: Client, network: dict[str, Any]
) -> None:
    station_update(station=network["b"], changes={"name": '中站 "东门" \\ 𠀀', "address": "路\n1号"})
    body = get(client, lat=31.405, lng=104.604, k=3).content
    items = json.loads(body)
    TypeAdapter(list[NearestOut]).validate_python(items)  # every field, of the documented type
    index = get_station_index()
    hits = index.nearest(31.405, 104.604, k=3)
    labels = {value: str(label) for value, label in StationKind.choices}
    assert items == [nearest_hit_dict(h, labels[h.entry.kind]) for h in hits]
    assert items[1]["name"] == '中站 "东门" \\ 𠀀' and items[1]["address"] == "路\n1号"
    assert nearest_json(hits, {}, labels) == json.dumps(items, ensure_ascii=False).encode()


@pytest.mark.django_db
def test_escaped_and_repeated_parameters_read_as_request_get_reads_them(
    client: Client, network: dict[str, Any]
) -> None:
    plain = client.get("/api/stations/nearest?lat=31.405&lng=104.604&k=2").json()
    assert [s["name"] for s in plain] == ["西站", "中站"]
    # percent-escapes and '+' go through request.GET; the last of a repeated parameter wins, as there
    escaped = client.get("/api/stations/nearest?lat=31%2E405&lng=+104.604&k=5&k=2").json()
    assert escaped == plain
    assert client.get("/api/stations/nearest?lat=31.405&lng=104.604&k=2&k=0").json()["code"] == "invalid_k"
    service = client.get("/api/stations/nearest?lat=31.405&lng=104.604&service=ZW%2DMZ%2D001").json()
    assert [s["name"] for s in service] == ["中站"]


@pytest.mark.django_db
def test_a_nearest_request_reads_the_database_only_to_recheck_the_stamp(
    client: Client,
    network: dict[str, Any],
    settings: Settings,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    settings.LINLI_STATIONS_RECHECK_SECONDS = 60
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 60
    assert get(client, lat=31.405, lng=104.604).status_code == 200  # builds the index, reads the calendar
    for params in ({}, {"service": "ZW-MZ-001"}, {"open_now": "true"}):
        with django_assert_num_queries(0):
            assert get(client, lat=31.41, lng=104.61, **params).status_code == 200
    station_index_invalidate()  # the recheck period is over: one query for the stamp, unchanged
    with django_assert_num_queries(1):
        assert get(client, lat=31.41, lng=104.61).status_code == 200


@pytest.mark.django_db
def test_an_edit_is_seen_by_the_next_request_with_its_new_name(
    client: Client, network: dict[str, Any]
) -> None:
    assert get(client, lat=31.405, lng=104.604, k=1).json()[0]["name"] == "西站"  # rendered and cached
    station_update(station=network["a"], changes={"name": "西站(新址)", "lat": 31.4051})
    first = get(client, lat=31.405, lng=104.604, k=1).json()[0]
    assert first["name"] == "西站(新址)" and first["lat"] == 31.4051


@pytest.mark.django_db
def test_another_process_edit_is_seen_once_the_recheck_period_is_over(
    client: Client, network: dict[str, Any], settings: Settings
) -> None:
    settings.LINLI_STATIONS_RECHECK_SECONDS = 3600
    assert get(client, lat=31.405, lng=104.604, k=1).json()[0]["name"] == "西站"
    # Another process renames the station: the row and the stamp change, this process is not told.
    Station.objects.filter(pk=network["a"].pk).update(name="西站(他处改名)")
    fresh_until = index_module._state["fresh_until"]
    station_index_bump()
    index_module._state["fresh_until"] = fresh_until
    assert get(client, lat=31.405, lng=104.604, k=1).json()[0]["name"] == "西站"  # within the period
    settings.LINLI_STATIONS_RECHECK_SECONDS = 0
    index_module._state["fresh_until"] = -1.0  # the period is over
    assert get(client, lat=31.405, lng=104.604, k=1).json()[0]["name"] == "西站(他处改名)"
