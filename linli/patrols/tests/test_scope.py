"""Who may read a track (PI-3, AC-1): the worker, the community secretary, street staff; others get 404.
Reads by anyone but the worker are audited once per read."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from linli.cases.tests.factories import World
from linli.core.scoping import may_view
from linli.patrols.models import Patrol
from linli.patrols.services import patrol_end, patrol_points_upload, patrol_start
from linli.patrols.tests.walks import walk
from linli.security.models import AuditEvent

ALLOWED = ["grid0", "secretary0", "street0"]
DENIED = [
    "grid1",  # another grid of the same community
    "grid2",  # another community
    "secretary1",  # another community of the same street
    "secretary2",
    "street1",
    "window0",  # window staff of the same community
    "back_office0",
    "district_staff",
    "handler0",
    "auditor",
    "admin",
    "resident",
]


def patrol_of_grid0(world: World) -> Patrol:
    patrol = patrol_start(
        worker=world.grid0, client_key="scope-key-0001", started_at=timezone.now() - timedelta(minutes=30)
    ).patrol
    points = walk(patrol.started_at, steps=30)
    patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
    return patrol_end(patrol_id=patrol.pk, worker=world.grid0, ended_at=points[-1].at)


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.mark.parametrize("who", ALLOWED)
def test_the_worker_the_secretary_and_street_staff_read_the_track(world: World, who: str) -> None:
    patrol = patrol_of_grid0(world)
    user = getattr(world, who)
    c = client_for(user)
    api = c.get(f"/api/patrols/{patrol.pk}")
    page = c.get(f"/patrols/{patrol.pk}/")
    assert api.status_code == 200 and page.status_code == 200
    assert api.json()["point_count"] == 30
    assert b'id="track-data"' in page.content
    assert patrol.pk in [p["id"] for p in c.get("/api/patrols/").json()["items"]]
    assert may_view(user, patrol)
    reads = AuditEvent.objects.filter(
        action="pii.read", object_type="patrols.patrol", object_id=str(patrol.pk)
    )
    assert reads.count() == (0 if who == "grid0" else 2)  # one per read (API, page), none by the worker


@pytest.mark.parametrize("who", DENIED)
def test_everyone_else_gets_404_for_track_list_and_page(world: World, who: str) -> None:
    patrol = patrol_of_grid0(world)
    user = getattr(world, who)
    c = client_for(user)
    assert c.get(f"/api/patrols/{patrol.pk}").status_code == 404
    assert c.get(f"/patrols/{patrol.pk}/").status_code == 404
    assert patrol.pk not in [p["id"] for p in c.get("/api/patrols/").json()["items"]]
    assert not Patrol.objects.for_user(user).filter(pk=patrol.pk).exists()
    assert not may_view(user, patrol)
    assert (
        c.post(
            f"/api/patrols/{patrol.pk}/points", {"points": []}, content_type="application/json"
        ).status_code
        == 404
    )
    assert c.post(f"/api/patrols/{patrol.pk}/end", {}, content_type="application/json").status_code == 404
    assert not AuditEvent.objects.filter(action="pii.read", object_id=str(patrol.pk)).exists()


def test_anonymous_visitors_are_asked_to_sign_in(world: World) -> None:
    patrol = patrol_of_grid0(world)
    assert Client().get(f"/api/patrols/{patrol.pk}").status_code == 401
    page = Client().get(f"/patrols/{patrol.pk}/")
    assert page.status_code == 302 and "/login" in page["Location"]


def test_filter_tampering_does_not_widen_the_list(world: World) -> None:
    patrol = patrol_of_grid0(world)
    c = client_for(world.grid1)
    assert list(c.get(f"/patrols/?grid={world.d.grids[0].pk}").context["page"].object_list) == []  # type: ignore[index]
    assert patrol.pk not in [p["id"] for p in c.get("/api/patrols/?mine=false").json()["items"]]
