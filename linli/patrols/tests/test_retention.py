"""Tracks are deleted after their retention period by the periodic job (PI-3); stale patrols are ended."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.test import Client
from pytest_django.fixtures import Settings

from linli.cases.tests.factories import World
from linli.patrols.models import Patrol, PatrolBuildingPass, PatrolEvent, PatrolPoint, PatrolStatus
from linli.patrols.services import (
    patrol_end,
    patrol_points_upload,
    patrol_start,
    patrol_tracks_purge,
    patrols_close_stale,
)
from linli.patrols.tasks import patrols_retention
from linli.patrols.tests.walks import walk
from linli.security.models import AuditEvent

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=TZ)


def patrol_ended(world: World, at: dt.datetime, key: str) -> Patrol:
    with time_machine.travel(at + dt.timedelta(hours=1), tick=False):
        patrol = patrol_start(worker=world.grid0, client_key=key, started_at=at).patrol
        points = walk(at, steps=60)
        patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
        return patrol_end(patrol_id=patrol.pk, worker=world.grid0, ended_at=points[-1].at)


def test_the_job_deletes_only_tracks_past_their_retention_and_only_once(
    world: World, settings: Settings
) -> None:
    settings.LINLI_PATROL_RETENTION_DAYS = 180
    old = patrol_ended(world, NOW - dt.timedelta(days=200), "ret-key-old")
    edge = patrol_ended(world, NOW - dt.timedelta(days=179), "ret-key-edge")
    recent = patrol_ended(world, NOW - dt.timedelta(days=3), "ret-key-recent")
    with time_machine.travel(NOW, tick=False):
        active = patrol_start(worker=world.grid0, client_key="ret-key-active").patrol
        first = patrol_tracks_purge()
        second = patrol_tracks_purge()
    assert (first.patrols, first.points, first.passes) == (1, 60, 2)
    assert (second.patrols, second.points) == (0, 0)
    assert not PatrolPoint.objects.filter(patrol=old).exists()
    assert not PatrolBuildingPass.objects.filter(patrol=old).exists()
    for kept in (edge, recent):
        assert PatrolPoint.objects.filter(patrol=kept).count() == 60
    old.refresh_from_db()
    assert old.track_purged_at == NOW and old.distance_m > 0  # the work record stays, without the track
    assert list(
        PatrolEvent.objects.filter(patrol=old, action="track_purge").values_list("note", flat=True)
    ) == ["轨迹超过保存期限(180天),已删除"]
    assert Patrol.objects.get(pk=active.pk).track_purged_at is None
    deletes = AuditEvent.objects.filter(action="data.delete", object_type="patrols.patrolpoint")
    assert deletes.count() == 1 and deletes.get().data["patrols"] == 1


def test_the_periodic_task_ends_stale_patrols_then_purges(world: World, settings: Settings) -> None:
    settings.LINLI_PATROL_RETENTION_DAYS = 30
    patrol_ended(world, NOW - dt.timedelta(days=40), "ret-key-40d")
    start = NOW - dt.timedelta(hours=20)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        stale = patrol_start(worker=world.grid1, client_key="ret-key-stale", started_at=start).patrol
        points = walk(start, steps=10)
        patrol_points_upload(patrol_id=stale.pk, worker=world.grid1, points=points)
    with time_machine.travel(NOW, tick=False):
        result = patrols_retention.call()
    assert result == {"closed": 1, "patrols": 1, "points": 60, "passes": 2}
    stale.refresh_from_db()
    assert (stale.status, stale.ended_at, stale.point_count) == (PatrolStatus.ENDED, points[-1].at, 10)
    with time_machine.travel(NOW, tick=False):
        assert patrols_close_stale(max_hours=12) == 0  # idempotent


def test_a_purged_track_shows_only_its_figures_and_refuses_late_points(world: World) -> None:
    old = patrol_ended(world, NOW - dt.timedelta(days=200), "ret-key-page")
    with time_machine.travel(NOW, tick=False):
        patrol_tracks_purge()
    c = Client()
    c.force_login(world.grid0)
    page = c.get(f"/patrols/{old.pk}/")
    assert page.status_code == 200 and b'id="track-data"' not in page.content
    late = c.post(
        f"/api/patrols/{old.pk}/points",
        {"points": [{"seq": 99, "t": 0, "lat": 31.4, "lng": 104.6}]},
        content_type="application/json",
    )
    assert (late.status_code, late.json()["code"]) == (409, "track_purged")
