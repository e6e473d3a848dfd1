"""Coverage planning: figures equal brute force; the CP-SAT siting is optimal on small instances."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st

from linli.accounts.roles import Role
from linli.accounts.tests.factories import PASSWORD, staff_with_role
from linli.places.models import Region
from linli.places.tests.factories import SmallDistrict
from linli.stations.coverage import Point, coverage_compute, max_coverage_solve, reach_sets, siting_suggest
from linli.stations.tests.factories import make_station
from linli.stations.walking import haversine_m, radius_for_minutes

lat_s = st.floats(31.400, 31.420)
lng_s = st.floats(104.600, 104.620)


def points(draw: st.DrawFn, n_min: int, n_max: int, *, population: bool) -> list[Point]:
    n = draw(st.integers(n_min, n_max))
    return [
        Point(i + 1, f"p{i}", draw(lat_s), draw(lng_s), draw(st.integers(0, 900)) if population else 0)
        for i in range(n)
    ]


@st.composite
def instances(draw: st.DrawFn) -> tuple[list[Point], list[Point]]:
    return points(draw, 0, 25, population=True), points(draw, 0, 12, population=False)


@settings(max_examples=200, deadline=None)
@given(instances())
def test_coverage_equals_brute_force(instance: tuple[list[Point], list[Point]]) -> None:
    estates, stations = instance
    report = coverage_compute(estates=estates, stations=stations, area_km2=4.0)
    for minutes in (5, 15):
        radius = radius_for_minutes(minutes)
        covered = 0
        for e, row in zip(estates, report.rows, strict=True):
            dists = [float(haversine_m(e.lat, e.lng, s.lat, s.lng)) for s in stations]
            nearest = min(dists, default=float("inf"))
            inside = nearest <= radius
            assert row.within[minutes] == inside
            assert row.distance_m == pytest.approx(nearest)
            if stations:
                assert row.station_id == stations[dists.index(nearest)].id
            covered += e.population if inside else 0
        assert report.covered_population[minutes] == covered
        total = sum(e.population for e in estates)
        assert report.share(minutes) == pytest.approx(covered / total if total else 0.0)
    assert report.stations_per_km2 == pytest.approx(len(stations) / 4.0)
    assert report.stations_needed_for_target == 10  # 4 km² at one per 0.4 km²


def brute_best(weights: list[int], reach: list[list[int]], n: int, k: int) -> int:
    best = 0
    for size in range(min(k, n) + 1):
        for combo in itertools.combinations(range(n), size):
            chosen = set(combo)
            best = max(best, sum(w for w, js in zip(weights, reach, strict=True) if chosen.intersection(js)))
    return best


@st.composite
def siting_instances(draw: st.DrawFn) -> tuple[list[int], list[list[int]], int, int]:
    n = draw(st.integers(1, 7))
    m = draw(st.integers(0, 12))
    weights = [draw(st.integers(0, 500)) for _ in range(m)]
    reach = [sorted(draw(st.sets(st.integers(0, n - 1), max_size=3))) for _ in range(m)]
    return weights, reach, n, draw(st.integers(1, 3))


@settings(max_examples=100, deadline=None)
@given(siting_instances())
def test_cp_sat_siting_is_optimal_on_tiny_instances(
    instance: tuple[list[int], list[list[int]], int, int],
) -> None:
    weights, reach, n, k = instance
    chosen, value, optimal = max_coverage_solve(
        weights=weights, reach=reach, n_candidates=n, k=k, seed=1, workers=1
    )
    assert optimal and len(chosen) <= k
    assert value == brute_best(weights, reach, n, k)
    assert value == sum(w for w, js in zip(weights, reach, strict=True) if set(chosen).intersection(js))


@settings(max_examples=30, deadline=None)
@given(instances(), st.integers(1, 3))
def test_siting_gain_is_the_newly_covered_population(
    instance: tuple[list[Point], list[Point]], k: int
) -> None:
    estates, stations = instance
    candidates = estates[:8]
    result = siting_suggest(
        estates=estates, stations=stations, candidates=candidates, k=k, minutes=5, workers=1
    )
    before = coverage_compute(estates=estates, stations=stations, area_km2=None).covered_population[5]
    after = coverage_compute(
        estates=estates, stations=[*stations, *result.chosen], area_km2=None
    ).covered_population[5]
    assert result.optimal and after - before == result.gain
    radius = radius_for_minutes(5)
    uncovered = [
        e
        for e in estates
        if e.population > 0 and all(float(haversine_m(e.lat, e.lng, s.lat, s.lng)) > radius for s in stations)
    ]
    reach = reach_sets(uncovered, candidates, radius)
    assert result.gain == brute_best([e.population for e in uncovered], reach, len(candidates), k)


@pytest.mark.django_db
def test_planning_api_and_page_for_staff_in_scope(client: Client, small_district: SmallDistrict) -> None:
    # The small district's 8 estates are ~1 km apart; one station at the first estate covers it alone.
    first = small_district.estates[0]
    make_station(region=small_district.communities[0], lat=first.lat, lng=first.lng)
    Region.objects.filter(level="estate").update(population=100)
    user = staff_with_role(Role.STREET_STAFF, district=small_district, index=0)
    assert client.login(username=user.username, password=PASSWORD)
    body: dict[str, Any] = client.get("/api/stations/planning/coverage").json()
    assert body["population"] == 400  # the street's 4 estates only
    assert body["covered_5"] == 100 and body["share_5"] == 0.25
    assert {e["id"] for e in body["estates"] if e["within_5"]} == {first.id}
    r = client.post("/api/stations/planning/siting", {"k": 2, "minutes": 5}, content_type="application/json")
    assert r.status_code == 200 and r.json()["gain_population"] == 200 and len(r.json()["sites"]) == 2
    bad = client.post(
        "/api/stations/planning/siting", {"k": 2, "minutes": 7}, content_type="application/json"
    )
    assert bad.json()["code"] == "invalid_minutes"
    page = client.post("/stations/coverage/", {"k": 3, "minutes": 5})
    assert page.status_code == 200 and "新增3处可使约300人进入步行圈" in page.content.decode()
