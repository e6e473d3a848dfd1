"""Scoped station administration: staff edit only stations in their region; everyone else gets 404."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, staff_with_role
from linli.core.scoping import may_view
from linli.places.tests.factories import SmallDistrict
from linli.stations.models import Station, StationKind
from linli.stations.selectors import station_may_edit, stations_editable_for_user
from linli.stations.tests.factories import make_station


@pytest.fixture
def stations(small_district: SmallDistrict) -> list[Station]:
    """One center per community (c0, c1 in street 0; c2, c3 in street 1) and the district center."""
    out = [make_station(region=c) for c in small_district.communities]
    out.append(make_station(region=small_district.district, kind=StationKind.DISTRICT_CENTER))
    return out


def login(client: Client, user: Any) -> Client:
    assert client.login(username=user.username, password=PASSWORD)
    return client


# (role, index of the anchor, stations 0..4 it may edit)
CASES = [
    (Role.COMMUNITY_SECRETARY, 0, {0}),
    (Role.BACK_OFFICE, 2, {2}),
    (Role.STREET_STAFF, 0, {0, 1}),
    (Role.STREET_STAFF, 1, {2, 3}),
    (Role.DISTRICT_STAFF, 0, {0, 1, 2, 3, 4}),
    (Role.WINDOW_STAFF, 0, set()),  # sees its stations, edits none
    (Role.GRID_WORKER, 0, set()),
    (Role.UNIT_HANDLER, 0, set()),
    (Role.AUDITOR, 0, set()),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("role", "index", "editable"), CASES)
def test_staff_edit_exactly_the_stations_in_their_scope(
    client: Client,
    small_district: SmallDistrict,
    stations: list[Station],
    role: str,
    index: int,
    editable: set[int],
) -> None:
    user = staff_with_role(role, district=small_district, index=index)
    login(client, user)
    for i, station in enumerate(stations):
        r = client.patch(
            f"/api/stations/{station.id}", {"phone": "0816-2000000"}, content_type="application/json"
        )
        assert r.status_code == (200 if i in editable else 404), (role, i)
        page = client.get(f"/stations/manage/{station.id}/")
        assert page.status_code == (200 if i in editable else 404), (role, i)
        assert station_may_edit(user=user, station=station) == (i in editable)
    assert set(stations_editable_for_user(user=user).values_list("id", flat=True)) == {
        stations[i].id for i in editable
    }
    changed = set(Station.objects.filter(phone="0816-2000000").values_list("id", flat=True))
    assert changed == {stations[i].id for i in editable}  # the 404s changed nothing


@pytest.mark.django_db
def test_anonymous_and_residents_cannot_edit(client: Client, stations: list[Station]) -> None:
    r = client.patch(f"/api/stations/{stations[0].id}", {"name": "x"}, content_type="application/json")
    assert r.status_code == 401
    assert client.get(f"/stations/manage/{stations[0].id}/").status_code == 302  # to the login page
    resident = ResidentFactory()
    client.force_login(resident)
    r = client.patch(f"/api/stations/{stations[0].id}", {"name": "x"}, content_type="application/json")
    assert r.status_code == 404
    assert client.get("/stations/manage/").status_code == 404
    assert client.get("/stations/coverage/").status_code == 404
    assert client.get("/api/stations/planning/coverage").status_code == 404
    assert Station.objects.get(pk=stations[0].pk).name != "x"


@pytest.mark.django_db
def test_view_scope_matches_may_view(small_district: SmallDistrict, stations: list[Station]) -> None:
    """AC-2 for stations: "may view" ⇔ "is in for_user" for every role and station."""
    for n, (role, index, _) in enumerate(CASES):
        user = staff_with_role(role, district=small_district, index=index, username=f"v{n}")
        visible = set(Station.objects.for_user(user).values_list("id", flat=True))
        assert visible == {s.id for s in stations if may_view(user, s)}, role


@pytest.mark.django_db
def test_a_secretary_edits_hours_menu_and_checklist_of_their_station(
    client: Client, small_district: SmallDistrict, stations: list[Station]
) -> None:
    login(client, staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=1))
    sid = stations[1].id
    r = client.put(
        f"/api/stations/{sid}/hours",
        {"periods": [{"weekday": 5, "opens": "09:00", "closes": "12:00"}], "open_on_holidays": True},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["periods"][0]["weekday"] == 5 and r.json()["open_on_holidays"]
    r = client.put(
        f"/api/stations/{sid}/menu/GY-004",
        {"tier": "featured", "note": "每月15日"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["menu"][0]["note"] == "每月15日"
    r = client.put(f"/api/stations/{sid}/menu/NO-SUCH", {}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "unknown_service"
    r = client.put(f"/api/stations/{sid}/checklist/sign", {"met": True}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "evidence_required"
    r = client.put(
        f"/api/stations/{sid}/checklist/sign",
        {"met": True, "evidence": "门头已换"},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["checklist"][0]["met"] is True
    assert client.delete(f"/api/stations/{sid}/menu/GY-004").status_code == 204
    # The neighbouring community's station stays out of reach for every one of these.
    other = stations[0].id
    assert (
        client.put(f"/api/stations/{other}/menu/GY-004", {}, content_type="application/json").status_code
        == 404
    )


@pytest.mark.django_db
def test_the_edit_page_saves_hours_and_reports_overlaps(
    client: Client, small_district: SmallDistrict, stations: list[Station]
) -> None:
    login(client, staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0))
    url = f"/stations/manage/{stations[0].id}/"
    base = {"section": "hours", **{f"hours-day_{d}": "" for d in range(8)}}
    r = client.post(url, {**base, "hours-day_0": "09:00-12:00, 11:00-13:00"})
    assert r.status_code == 400 and "开放时段重叠" in r.content.decode()
    assert Station.objects.get(pk=stations[0].pk).periods.count() == 10  # nothing lost
    r = client.post(url, {**base, "hours-day_0": "9点"})
    assert r.status_code == 400 and "格式不对" in r.content.decode()
    r = client.post(url, {**base, "hours-day_5": "08:30-20:00", "hours-is_24h": ""})
    assert r.status_code == 302
    assert list(Station.objects.get(pk=stations[0].pk).periods.values_list("weekday", flat=True)) == [5]
    assert client.get("/stations/manage/").status_code == 200
