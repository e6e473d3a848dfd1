"""Recording a patrol: start, batches of points (retried, reordered, concurrent), end (PI-3's track)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from linli.cases.tests.factories import World
from linli.patrols.errors import PatrolError
from linli.patrols.models import Patrol, PatrolBuildingPass, PatrolEvent, PatrolPoint, PatrolStatus
from linli.patrols.services import (
    MAX_BATCH,
    PointIn,
    patrol_end,
    patrol_points_upload,
    patrol_start,
)
from linli.patrols.tests.walks import batches, walk
from linli.places.tests.factories import LAT0, LNG0

T = TypeVar("T")


def started(world: World, *, minutes_ago: int = 20, key: str = "phone-key-0001") -> Patrol:
    return patrol_start(
        worker=world.grid0, client_key=key, started_at=timezone.now() - timedelta(minutes=minutes_ago)
    ).patrol


def stored(patrol: Patrol) -> list[tuple[int, float, float]]:
    return list(
        PatrolPoint.objects.filter(patrol=patrol)
        .order_by("client_seq")
        .values_list("client_seq", "lat", "lng")
    )


def test_a_retried_batch_stores_each_point_once(world: World) -> None:
    patrol = started(world)
    points = walk(patrol.started_at, steps=40)
    first = patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
    again = patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
    assert (first.stored, first.duplicates, first.rejected) == (40, 0, [])
    assert (again.stored, again.duplicates) == (0, 40)
    assert PatrolPoint.objects.filter(patrol=patrol).count() == 40


def test_batches_retried_and_out_of_order_give_one_track_without_duplicates(world: World) -> None:
    # Given a walk uploaded in order by one phone, and the same walk by another phone whose batches
    # overlap, repeat and arrive shuffled
    in_order = started(world, key="phone-key-in-order")
    points = walk(in_order.started_at, steps=120, jitter_m=2, seed=3)
    for batch in batches(points, 25):
        patrol_points_upload(patrol_id=in_order.pk, worker=world.grid0, points=batch)
    patrol_end(patrol_id=in_order.pk, worker=world.grid0, ended_at=points[-1].at)
    shuffled = started(world, key="phone-key-shuffled")
    moved = [PointIn(p.seq, p.at, p.lat, p.lng, p.accuracy_m) for p in points]
    chunks = batches(moved, 17) + batches(moved[30:70], 9) + [moved[:5], moved[-5:]]
    random.Random(7).shuffle(chunks)
    for batch in chunks:
        patrol_points_upload(patrol_id=shuffled.pk, worker=world.grid0, points=list(reversed(batch)))
    patrol_end(patrol_id=shuffled.pk, worker=world.grid0, ended_at=points[-1].at)
    # Then both tracks hold each fix once and have the same figures
    assert stored(in_order) == stored(shuffled)
    assert len(stored(shuffled)) == 120
    a, b = Patrol.objects.get(pk=in_order.pk), Patrol.objects.get(pk=shuffled.pk)
    assert (a.point_count, a.distance_m, a.building_count) == (b.point_count, b.distance_m, b.building_count)
    assert a.building_count == 2


def _retrying(fn: Callable[[], T]) -> T:
    """The in-memory SQLite test database answers "table is locked" to a second writer at once; a phone
    retries anyway (PostgreSQL waits on the row instead)."""
    for attempt in range(400):
        try:
            return fn()
        except OperationalError as exc:
            if "locked" not in str(exc) or attempt == 399:
                raise
            time.sleep(0.005)
    raise AssertionError("unreachable")


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uploads_of_the_same_batch_store_each_point_once(small_district: Any) -> None:
    from linli.cases.tests.factories import build_world

    world = build_world(small_district)
    patrol = started(world)
    points = walk(patrol.started_at, steps=200)
    barrier = threading.Barrier(2)
    results: list[Any] = [None, None]

    def upload(i: int) -> None:
        try:
            barrier.wait()
            results[i] = _retrying(
                lambda: patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
            )
        except Exception as exc:  # the assertion below shows what each thread got
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=upload, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert all(not isinstance(r, Exception) for r in results), results
    assert PatrolPoint.objects.filter(patrol=patrol).count() == 200
    assert len(set(PatrolPoint.objects.filter(patrol=patrol).values_list("client_seq", flat=True))) == 200


def test_points_far_from_the_district_and_bad_fixes_are_refused_with_a_code(world: World) -> None:
    patrol = started(world)
    t = patrol.started_at + timedelta(minutes=1)
    result = patrol_points_upload(
        patrol_id=patrol.pk,
        worker=world.grid0,
        points=[
            PointIn(0, t, LAT0 + 0.004, LNG0 + 0.004, 5.0),  # fine
            PointIn(1, t, 39.9, 116.4, 5.0),  # Beijing: outside the jurisdiction
            PointIn(2, t, 95.0, 116.4, 5.0),  # not a latitude
            PointIn(3, t, 10.0, 10.0, 5.0),  # outside China
            PointIn(4, timezone.now() + timedelta(hours=1), LAT0 + 0.004, LNG0 + 0.004, 5.0),
            PointIn(5, patrol.started_at - timedelta(hours=2), LAT0 + 0.004, LNG0 + 0.004, 5.0),
            PointIn(6, t, LAT0 + 0.004, LNG0 + 0.004, -3.0),
        ],
    )
    codes = {r.seq: r.code for r in result.rejected}
    assert codes == {
        1: "outside_jurisdiction",
        2: "invalid_coordinates",
        3: "outside_china",
        4: "timestamp_in_future",
        5: "timestamp_out_of_range",
        6: "invalid_accuracy",
    }
    assert [s for s, *_ in stored(patrol)] == [0]


def test_a_batch_over_the_limit_is_refused_whole(world: World) -> None:
    patrol = started(world)
    points = walk(patrol.started_at, steps=MAX_BATCH + 1, step_m=0.5, every_s=1)
    with pytest.raises(PatrolError) as err:
        patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
    assert err.value.code == "batch_too_large"
    assert PatrolPoint.objects.count() == 0


def test_another_worker_cannot_upload_to_my_patrol(world: World) -> None:
    patrol = started(world)
    with pytest.raises(PatrolError) as err:
        patrol_points_upload(patrol_id=patrol.pk, worker=world.grid1, points=walk(patrol.started_at, steps=3))
    assert (err.value.code, err.value.status) == ("not_found", 404)


def test_late_points_after_the_end_are_kept_and_update_the_summary(world: World) -> None:
    patrol = started(world)
    points = walk(patrol.started_at, steps=60)
    patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points[:10])
    ended = patrol_end(patrol_id=patrol.pk, worker=world.grid0, ended_at=points[-1].at)
    short = ended.distance_m
    patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points[10:])
    patrol.refresh_from_db()
    assert patrol.point_count == 60
    assert patrol.distance_m > short
    assert PatrolBuildingPass.objects.filter(patrol=patrol).count() == patrol.building_count == 2


def test_start_replayed_with_the_same_client_key_returns_the_same_patrol(world: World) -> None:
    first = patrol_start(worker=world.grid0, client_key="phone-key-replay")
    again = patrol_start(worker=world.grid0, client_key="phone-key-replay")
    assert first.created and not again.created
    assert first.patrol.pk == again.patrol.pk
    assert list(PatrolEvent.objects.filter(patrol=first.patrol).values_list("action", flat=True)) == ["start"]


def test_starting_a_new_patrol_ends_the_abandoned_one_at_its_last_fix(world: World) -> None:
    old = started(world, key="phone-key-old")
    points = walk(old.started_at, steps=10)
    patrol_points_upload(patrol_id=old.pk, worker=world.grid0, points=points)
    new = patrol_start(worker=world.grid0, client_key="phone-key-new").patrol
    old.refresh_from_db()
    assert (old.status, old.ended_at) == (PatrolStatus.ENDED, points[-1].at)
    assert old.events.last().action == "auto_end"  # type: ignore[union-attr]
    assert new.status == PatrolStatus.ACTIVE


def test_only_grid_workers_start_patrols_and_only_in_their_grid(world: World) -> None:
    for user in (world.resident, world.secretary0, world.window0):
        with pytest.raises(PatrolError) as err:
            patrol_start(worker=user, client_key="phone-key-nope")
        assert err.value.code == "not_a_grid_worker"
    with pytest.raises(PatrolError) as err:
        patrol_start(worker=world.grid0, client_key="phone-key-other", grid_id=world.d.grids[1].pk)
    assert err.value.code == "grid_not_yours"


def test_ending_twice_is_a_harmless_replay(world: World) -> None:
    patrol = started(world)
    first = patrol_end(patrol_id=patrol.pk, worker=world.grid0)
    again = patrol_end(patrol_id=patrol.pk, worker=world.grid0)
    assert first.ended_at == again.ended_at
    assert list(PatrolEvent.objects.filter(patrol=patrol).values_list("action", flat=True)) == [
        "start",
        "end",
    ]
