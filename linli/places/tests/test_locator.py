"""The grid locator agrees with a brute-force check on generated points, one by one and in bulk, and its
index is rebuilt exactly when the geometry changes.

The oracle below is written from the rule, not from the locator: every grid in id order is asked
``polygon.intersects(point)`` (covers, so shared edges count); the first yes wins. Otherwise every grid's
distance is measured in metres in a transverse Mercator centred on the lattice's corner (the locator centres
its own on the grids' middle) and the nearest within 200 m wins, smaller id on a tie, ``snapped=True``.
Otherwise the point is outside the jurisdiction. Where the oracle's answer depends on less than a centimetre
(a distance at the tolerance, two grids equally near) the example is skipped.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import shapely
from django.db import transaction
from django.db.models import F
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from shapely.geometry import Point, shape

from linli.places import locator as locator_module
from linli.places.geometry import CHINA_BOUNDS, to_metric
from linli.places.locator import LocateError, LocatorIndex, PlaceRef, get_locator
from linli.places.models import GeometryVersion, Grid
from linli.places.services import grid_set_boundary
from linli.places.tests.factories import LAT0, LNG0, STEP, SmallDistrict, square

TOLERANCE_M = 200.0
AMBIGUOUS_M = 0.01
EXAMPLES = hyp_settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- the oracle ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    grid_id: int | None = None
    snapped: bool = False
    error: str | None = None
    ambiguous: bool = False


class BruteForce:
    def __init__(self, grids: list[Grid]) -> None:
        self.ids = [g.id for g in sorted(grids, key=lambda g: g.id)]
        by_id = {g.id: g for g in grids}
        self.polygons = [shape(by_id[i].boundary) for i in self.ids]
        self.metric = [to_metric(p, LNG0, LAT0) for p in self.polygons]

    def expect(self, lat: float, lng: float) -> Expected:
        if not (math.isfinite(lat) and math.isfinite(lng)):
            return Expected(error="invalid_coordinates")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            return Expected(error="invalid_coordinates")
        lo_x, lo_y, hi_x, hi_y = CHINA_BOUNDS
        if not (lo_x <= lng <= hi_x and lo_y <= lat <= hi_y):
            return Expected(error="outside_china")
        point = Point(lng, lat)
        for grid_id, polygon in zip(self.ids, self.polygons, strict=True):
            if polygon.intersects(point):
                return Expected(grid_id=grid_id)
        here = to_metric(point, LNG0, LAT0)
        distances = sorted((m.distance(here), i) for m, i in zip(self.metric, self.ids, strict=True))
        near = distances[0][0]
        # An exact tie is decided by the rule (smallest id); a near tie depends on the projection.
        ambiguous = abs(near - TOLERANCE_M) < AMBIGUOUS_M or (
            len(distances) > 1 and 0 < distances[1][0] - near < AMBIGUOUS_M and near <= TOLERANCE_M
        )
        if near <= TOLERANCE_M:
            return Expected(grid_id=distances[0][1], snapped=True, ambiguous=ambiguous)
        return Expected(error="outside_jurisdiction", ambiguous=ambiguous)


def actual(lat: float, lng: float) -> Expected:
    try:
        loc = get_locator().locate(lat, lng)
    except LocateError as exc:
        return Expected(error=exc.code)
    return Expected(grid_id=loc.grid.id, snapped=loc.snapped)


# --- generated points ---------------------------------------------------------------------------
# The lattice as stored (the services round coordinates to 1e-6°): read it back, don't recompute it.
def lattice_lines(district: SmallDistrict) -> tuple[list[float], list[float]]:
    xs: set[float] = set()
    ys: set[float] = set()
    for grid in district.grids:
        for x, y in grid.boundary["coordinates"][0]:
            xs.add(x)
            ys.add(y)
    return sorted(xs), sorted(ys)


XS_GUESS = [round(LNG0 + k * STEP, 6) for k in range(9)]
YS_GUESS = [LAT0, round(LAT0 + STEP, 6)]
west, east, south, north = XS_GUESS[0], XS_GUESS[-1], YS_GUESS[0], YS_GUESS[-1]
MARGIN = 0.01  # ≈ 950 m east-west, 1,110 m north-south: beyond the 200 m tolerance on every side

uniform_points = st.tuples(st.floats(south - MARGIN, north + MARGIN), st.floats(west - MARGIN, east + MARGIN))
on_vertical_edges = st.tuples(st.floats(south, north), st.sampled_from(XS_GUESS))
on_horizontal_edges = st.tuples(st.sampled_from(YS_GUESS), st.floats(west, east))
on_vertices = st.tuples(st.sampled_from(YS_GUESS), st.sampled_from(XS_GUESS))
# Just outside, from touching to twice the tolerance away: the snapping band and its far edge.
below_the_district = st.tuples(st.floats(south - 0.0036, south), st.floats(west - 0.004, east + 0.004))
far_away_in_china = st.tuples(st.floats(20.0, 50.0), st.floats(80.0, 130.0))
invalid_points = st.sampled_from(
    [
        (math.nan, LNG0),
        (LAT0, math.nan),
        (math.nan, math.nan),
        (math.inf, LNG0),
        (LAT0, -math.inf),
        (95.0, LNG0),
        (-91.0, LNG0),
        (LAT0, 181.0),
        (LNG0 + 0.005, LAT0 + 0.005),  # swapped: "latitude" 104.6
        (48.8566, 2.3522),  # Paris
        (-33.87, 151.21),  # Sydney
        (0.0, 0.0),
        (40.7, -74.0),  # New York
    ]
)
any_point = st.one_of(
    uniform_points,
    on_vertical_edges,
    on_horizontal_edges,
    on_vertices,
    below_the_district,
    far_away_in_china,
    invalid_points,
)


@pytest.fixture
def oracle(small_district: SmallDistrict) -> BruteForce:
    xs, ys = lattice_lines(small_district)
    assert xs == XS_GUESS and ys == YS_GUESS, "the factory's lattice moved: update the strategies"
    return BruteForce(small_district.grids)


# --- agreement with the oracle ------------------------------------------------------------------


@EXAMPLES
@given(point=any_point)
def test_locate_agrees_with_brute_force_on_generated_points(oracle: BruteForce, point: Any) -> None:
    lat, lng = point
    expected = oracle.expect(lat, lng)
    assume(not expected.ambiguous)
    assert actual(lat, lng) == expected


@EXAMPLES
@given(points=st.lists(any_point, min_size=1, max_size=40))
def test_locate_many_equals_locate_for_every_point(oracle: BruteForce, points: list[Any]) -> None:
    lats = [p[0] for p in points]
    lngs = [p[1] for p in points]
    bulk = get_locator().locate_many(lats, lngs)
    one_by_one = [actual(lat, lng) for lat, lng in points]
    assert bulk.grid_ids() == [e.grid_id for e in one_by_one]
    assert bulk.snapped.tolist() == [e.snapped for e in one_by_one]


def test_bulk_and_single_agree_with_brute_force_on_ten_thousand_points(oracle: BruteForce) -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    lat = rng.uniform(south - MARGIN, north + MARGIN, n)
    lng = rng.uniform(west - MARGIN, east + MARGIN, n)
    # A fifth of them exactly on the lattice's lines.
    lng[: n // 10] = rng.choice(XS_GUESS, n // 10)
    lat[n // 10 : n // 5] = rng.choice(YS_GUESS, n // 10)
    index = get_locator()
    from_coords = index.locate_many(lat, lng)
    from_points = index.locate_points(shapely.points(lng, lat))  # reads the coordinates back itself
    assert np.array_equal(from_coords.grid_index, from_points.grid_index)
    assert np.array_equal(from_coords.snapped, from_points.snapped)
    ids = from_coords.grid_ids()
    checked = 0
    for k in range(n):
        expected = oracle.expect(float(lat[k]), float(lng[k]))
        if expected.ambiguous:
            continue
        checked += 1
        assert (ids[k], bool(from_coords.snapped[k])) == (expected.grid_id, expected.snapped), (
            lat[k],
            lng[k],
        )
        if k % 10 == 0:  # single calls are slower; every tenth is plenty next to the bulk check
            assert actual(float(lat[k]), float(lng[k])) == expected
    assert checked > n * 0.99


# --- the rules, one example each ----------------------------------------------------------------


def test_point_on_an_edge_shared_by_two_grids_goes_to_the_smaller_id(small_district: SmallDistrict) -> None:
    left, right = small_district.grids[0], small_district.grids[1]
    loc = get_locator().locate(LAT0 + STEP / 2, XS_GUESS[1])
    assert loc.grid.id == min(left.id, right.id)
    assert not loc.snapped


def test_point_inside_a_grid_gives_its_whole_chain_and_estate(small_district: SmallDistrict) -> None:
    grid = small_district.grids[5]
    loc = get_locator().locate(LAT0 + 0.005, XS_GUESS[5] + 0.005)
    assert (loc.grid.id, loc.grid.name) == (grid.id, "测试网格101")
    assert (loc.community.id, loc.community.name) == (grid.community_id, "测试社区10")
    assert loc.street.name == "测试街道1"
    assert loc.district.name == "测试区"
    assert loc.estate is not None and loc.estate.id == small_district.estates[5].id
    assert (loc.snapped, loc.distance_m) == (False, 0.0)


def test_point_in_the_gap_between_estates_has_no_estate(small_district: SmallDistrict) -> None:
    loc = get_locator().locate(LAT0 + 0.001, XS_GUESS[2] + 0.001)
    assert loc.grid.id == small_district.grids[2].id
    assert loc.estate is None


def test_point_just_outside_is_snapped_to_the_nearest_grid_with_its_distance(
    small_district: SmallDistrict,
) -> None:
    # 0.001° south of the district's edge ≈ 111 m, under the middle of grid 3.
    loc = get_locator().locate(LAT0 - 0.001, XS_GUESS[3] + 0.005)
    assert loc.grid.id == small_district.grids[3].id
    assert loc.snapped
    assert 105 < loc.distance_m < 117


def test_point_beyond_the_tolerance_is_outside_the_jurisdiction(small_district: SmallDistrict) -> None:
    with pytest.raises(LocateError) as err:
        get_locator().locate(LAT0 - 0.003, XS_GUESS[3] + 0.005)  # ≈ 333 m south
    assert err.value.code == "outside_jurisdiction"


@pytest.mark.parametrize(
    ("lat", "lng", "code"),
    [
        (math.nan, LNG0, "invalid_coordinates"),
        (LAT0, math.inf, "invalid_coordinates"),
        (95.0, LNG0, "invalid_coordinates"),
        (LNG0, LAT0, "invalid_coordinates"),  # swapped: a latitude of 104.6 does not exist
        (LAT0, 200.0, "invalid_coordinates"),
        (48.8566, 2.3522, "outside_china"),
        (0.0, 0.0, "outside_china"),
    ],
)
def test_invalid_coordinates_get_a_clear_code(
    small_district: SmallDistrict, lat: float, lng: float, code: str
) -> None:
    with pytest.raises(LocateError) as err:
        get_locator().locate(lat, lng)
    assert err.value.code == code
    assert err.value.message
    assert get_locator().locate_many([lat], [lng]).grid_ids() == [None]


def test_ties_go_to_the_smallest_id_inside_and_when_snapping() -> None:
    """Two grids with the same polygon tie everywhere: inside, on the edge, and at any distance outside."""
    cell = square(LNG0, LAT0, LNG0 + STEP, LAT0 + STEP)
    chain = (PlaceRef(1, "社区", "C"), PlaceRef(2, "街道", "S"), PlaceRef(3, "区", "D"))
    index = LocatorIndex(
        version="t",
        grids=[(9, "九", "G9", 1, cell), (4, "四", "G4", 1, cell), (7, "七", "G7", 1, cell)],
        estates=[],
        chains={1: chain},
        tolerance_m=TOLERANCE_M,
    )
    points = [(LAT0 + 0.005, LNG0 + 0.005), (LAT0, LNG0 + 0.005), (LAT0 - 0.001, LNG0 - 0.001)]
    assert [index.locate(lat, lng).grid.id for lat, lng in points] == [4, 4, 4]
    assert index.locate(*points[2]).snapped
    bulk = index.locate_many([p[0] for p in points], [p[1] for p in points])
    assert bulk.grid_ids() == [4, 4, 4]
    assert bulk.snapped.tolist() == [False, False, True]


def test_an_index_without_grids_says_so() -> None:
    index = LocatorIndex(version="0:", grids=[], estates=[], chains={}, tolerance_m=TOLERANCE_M)
    with pytest.raises(LocateError) as err:
        index.locate(LAT0, LNG0)
    assert err.value.code == "no_grids"
    assert index.locate_many([LAT0, math.nan], [LNG0, LNG0]).grid_ids() == [None, None]


def test_metric_distances_agree_with_geodesic_ones(small_district: SmallDistrict) -> None:
    """The local projection is a fair stand-in for the ground: within 0.05% over the district."""
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    a, b = (LNG0 - 0.002, LAT0 - 0.003), (east + 0.003, north + 0.002)
    _, _, ground = geod.inv(a[0], a[1], b[0], b[1])
    projected = to_metric(Point(a), LNG0 + 0.04, LAT0 + 0.005).distance(
        to_metric(Point(b), LNG0 + 0.04, LAT0 + 0.005)
    )
    assert abs(projected - ground) / ground < 5e-4


# --- the process-wide index: rebuilt when the stamp moves, not on every call ----------------------

INSIDE_GRID0 = (LAT0 + 0.005, LNG0 + 0.005)


def test_repeated_locate_within_the_recheck_window_makes_no_queries(
    small_district: SmallDistrict, django_assert_num_queries: Any
) -> None:
    get_locator().locate(*INSIDE_GRID0)
    with django_assert_num_queries(0):
        for _ in range(50):
            get_locator().locate(*INSIDE_GRID0)


def test_after_the_window_the_stamp_is_reread_but_the_index_is_kept(
    small_district: SmallDistrict, django_assert_num_queries: Any, settings: Any
) -> None:
    first = get_locator()
    settings.LINLI_GEOMETRY_RECHECK_SECONDS = 0
    with django_assert_num_queries(3):  # one small read of the stamp per call, no rebuild
        for _ in range(3):
            assert get_locator() is first


def test_a_boundary_change_rebuilds_the_index_once(small_district: SmallDistrict) -> None:
    grid0 = small_district.grids[0]
    before = get_locator()
    assert before.locate(*INSIDE_GRID0).grid.id == grid0.id
    # Shrink grid 0 to its eastern fifth: the point is now ≈ 290 m west of every grid.
    grid_set_boundary(grid=grid0, boundary=square(LNG0 + 0.008, LAT0, LNG0 + STEP, LAT0 + STEP))
    after = get_locator()
    assert after is not before
    version, token = GeometryVersion.objects.values_list("version", "token").get()
    assert after.version == f"{version}:{token}"
    with pytest.raises(LocateError) as err:
        after.locate(*INSIDE_GRID0)
    assert err.value.code == "outside_jurisdiction"
    assert get_locator() is after


def test_another_process_change_is_seen_after_the_recheck_window(
    small_district: SmallDistrict, settings: Any
) -> None:
    grid0 = small_district.grids[0]
    before = get_locator()
    # Another process moves the boundary and bumps the stamp; this process is not told.
    Grid.objects.filter(pk=grid0.pk).update(boundary=square(LNG0 + 0.008, LAT0, LNG0 + STEP, LAT0 + STEP))
    GeometryVersion.objects.filter(pk=1).update(version=F("version") + 1, token="other-process")
    locator_module._state["checked_at"] = time.monotonic()
    settings.LINLI_GEOMETRY_RECHECK_SECONDS = 3600
    assert get_locator() is before  # within the window: the old answer, no query
    settings.LINLI_GEOMETRY_RECHECK_SECONDS = 0
    after = get_locator()
    assert after is not before
    assert after.version.endswith(":other-process")
    with pytest.raises(LocateError):
        after.locate(*INSIDE_GRID0)


class Abort(Exception):
    pass


def test_a_rolled_back_change_does_not_leave_a_stale_index(small_district: SmallDistrict) -> None:
    grid0 = small_district.grids[0]
    assert get_locator().locate(*INSIDE_GRID0).grid.id == grid0.id
    with pytest.raises(Abort), transaction.atomic():
        grid_set_boundary(grid=grid0, boundary=square(LNG0 + 0.008, LAT0, LNG0 + STEP, LAT0 + STEP))
        # Inside the transaction the change is visible, and the index is rebuilt from it ...
        with pytest.raises(LocateError):
            get_locator().locate(*INSIDE_GRID0)
        raise Abort
    # ... and after the rollback, at once (no waiting for the recheck window), it is gone again.
    loc = get_locator().locate(*INSIDE_GRID0)
    assert (loc.grid.id, loc.snapped) == (grid0.id, False)


def test_a_committed_change_stays_after_its_on_commit_hooks_run(
    small_district: SmallDistrict, django_capture_on_commit_callbacks: Any
) -> None:
    grid0 = small_district.grids[0]
    with django_capture_on_commit_callbacks(execute=True):
        grid_set_boundary(grid=grid0, boundary=square(LNG0 + 0.008, LAT0, LNG0 + STEP, LAT0 + STEP))
    index = get_locator()
    with pytest.raises(LocateError):
        index.locate(*INSIDE_GRID0)
    assert get_locator() is index
