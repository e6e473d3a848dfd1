"""The track computation against brute force: distance in metres, buildings passed, cleaning rules."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pyproj import Geod

from linli.patrols.track import (
    IMPLAUSIBLE_SPEED,
    LOW_ACCURACY,
    BuildingPoint,
    Fix,
    TrackRules,
    buildings_passed,
    track_build,
)
from linli.places.geometry import local_transformer

T0 = datetime(2026, 5, 18, 9, 0, tzinfo=UTC)
LAT, LNG = 31.46, 104.68
GEOD = Geod(ellps="WGS84")


def random_walk(seed: int, n: int = 300) -> list[Fix]:
    """A wandering walk on foot: 3–9 m every 5 s, turning a little each step."""
    rng = random.Random(seed)
    lat, lng, heading = LAT, LNG, rng.uniform(0, 360)
    fixes = []
    for i in range(n):
        fixes.append(
            Fix(seq=i, at=T0 + timedelta(seconds=5 * i), lat=lat, lng=lng, accuracy_m=rng.uniform(3, 20))
        )
        heading += rng.uniform(-35, 35)
        lng, lat, _ = GEOD.fwd(lng, lat, heading, rng.uniform(3, 9))
    return fixes


def geodesic_length(fixes: list[Fix]) -> float:
    total = 0.0
    for a, b in itertools.pairwise(fixes):
        _, _, d = GEOD.inv(a.lng, a.lat, b.lng, b.lat)
        total += d
    return total


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_distance_equals_the_brute_force_geodesic_sum_in_metres(seed: int) -> None:
    fixes = random_walk(seed)
    track = track_build(fixes)
    assert track.flagged == {} and len(track.parts) == 1
    expected = geodesic_length(fixes)
    assert track.distance_m == pytest.approx(expected, rel=2e-4)  # the local projection's scale error
    assert 1500 < track.distance_m < 2700


def _segment_distances(px: np.ndarray, py: np.ndarray, xy: np.ndarray) -> np.ndarray:
    """Every point against every segment (no index): the minimum distance per point, in metres."""
    ax, ay, bx, by = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
    dx, dy = bx - ax, by - ay
    length2 = np.where(dx * dx + dy * dy == 0, 1.0, dx * dx + dy * dy)
    t = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / length2, 0.0, 1.0)
    return np.hypot(px[:, None] - (ax + t * dx), py[:, None] - (ay + t * dy)).min(axis=1)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_buildings_passed_equal_the_brute_force_search(seed: int) -> None:
    # Given a walk and 2,000 building points scattered over and around it
    fixes = random_walk(seed)
    rng = random.Random(100 + seed)
    lats = [f.lat for f in fixes]
    lngs = [f.lng for f in fixes]
    buildings = [
        BuildingPoint(
            id=i,
            lat=rng.uniform(min(lats) - 0.001, max(lats) + 0.001),
            lng=rng.uniform(min(lngs) - 0.001, max(lngs) + 0.001),
        )
        for i in range(2000)
    ]
    # When the STRtree finds those within 30 m
    track = track_build(fixes)
    found = {p.building_id for p in buildings_passed(track, buildings, radius_m=30)}
    # Then it equals checking every building against every segment
    transformer = local_transformer(round(track.origin[0], 6), round(track.origin[1], 6))
    xy = np.column_stack(transformer.transform([f.lng for f in fixes], [f.lat for f in fixes]))
    px, py = transformer.transform([b.lng for b in buildings], [b.lat for b in buildings])
    d = _segment_distances(np.asarray(px), np.asarray(py), xy)
    borderline = {b.id for b, di in zip(buildings, d, strict=True) if abs(di - 30) < 1e-6}
    expected = {b.id for b, di in zip(buildings, d, strict=True) if di <= 30} - borderline
    assert found - borderline == expected
    assert len(expected) > 20


def test_passed_at_is_the_time_of_the_nearest_fix() -> None:
    fixes = [Fix(i, T0 + timedelta(seconds=10 * i), LAT, LNG + i * 0.0001) for i in range(20)]
    building = BuildingPoint(id=1, lat=LAT + 0.0001, lng=LNG + 7 * 0.0001)
    (passed,) = buildings_passed(track_build(fixes), [building], radius_m=30)
    assert passed.passed_at == fixes[7].at
    assert passed.distance_m == pytest.approx(11.1, abs=0.2)


def test_a_lone_gps_spike_is_flagged_and_not_walked() -> None:
    fixes = random_walk(5, n=50)
    far_lng, far_lat, _ = GEOD.fwd(fixes[20].lng, fixes[20].lat, 45, 800)
    spiked = [*fixes[:20], Fix(20, fixes[20].at, far_lat, far_lng, 10), *fixes[21:]]
    track = track_build(spiked)
    assert track.flagged == {20: IMPLAUSIBLE_SPEED}
    clean = [f for f in spiked if f.seq != 20]
    assert track.distance_m == pytest.approx(geodesic_length(clean), rel=2e-4)


def test_fixes_with_poor_accuracy_are_flagged_and_left_out() -> None:
    fixes = random_walk(6, n=30)
    noisy = [Fix(f.seq, f.at, f.lat, f.lng, 500.0) if f.seq % 10 == 3 else f for f in fixes]
    track = track_build(noisy)
    assert track.flagged == {3: LOW_ACCURACY, 13: LOW_ACCURACY, 23: LOW_ACCURACY}
    assert track.point_count == 27


def test_a_gap_or_a_jump_splits_the_track_and_is_not_counted_as_walked() -> None:
    first = random_walk(7, n=20)
    later = [
        Fix(100 + f.seq, f.at + timedelta(minutes=30), f.lat, f.lng + 0.01) for f in random_walk(8, n=20)
    ]
    track = track_build(first + later)
    assert len(track.parts) == 2 and track.jumps == 0
    assert track.distance_m == pytest.approx(geodesic_length(first) + geodesic_length(later), rel=2e-4)
    bus = [Fix(200 + f.seq, f.at + timedelta(seconds=100), f.lat, f.lng + 0.02) for f in random_walk(9, n=20)]
    jumped = track_build(first + bus, TrackRules())
    assert jumped.jumps == 1 and len(jumped.parts) == 2


def test_the_track_does_not_depend_on_the_order_fixes_arrive_in() -> None:
    fixes = random_walk(10, n=120)
    shuffled = fixes[:]
    random.Random(1).shuffle(shuffled)
    a, b = track_build(fixes), track_build(shuffled)
    assert a.distance_m == b.distance_m
    assert [f.seq for f in a.accepted] == [f.seq for f in b.accepted]
