"""Weekly patrol coverage per grid: the share of the grid's buildings passed by patrols that week."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from linli.cases.tests.factories import World
from linli.patrols.selectors import patrol_coverage_week, week_bounds
from linli.patrols.services import patrol_end, patrol_points_upload, patrol_start
from linli.patrols.tests.walks import STREET_LAT, walk
from linli.places.models import Level
from linli.places.services import buildings_assign_grids, region_create
from linli.places.tests.factories import LAT0, LNG0

TZ = dt.timezone(dt.timedelta(hours=8))
WEDNESDAY = dt.datetime(2026, 5, 20, 9, 0, tzinfo=TZ)  # a Wednesday


def add_buildings(world: World, n: int) -> None:
    """``n`` more buildings in grid 0, on a row 200 m south of the street the walks use (never passed)."""
    estate = world.d.estates[0]
    for i in range(n):
        region_create(
            parent=estate,
            level=Level.BUILDING,
            code=f"{estate.code}X{i}",
            name=f"{10 + i}栋",
            point=(LAT0 + 0.0022, LNG0 + 0.0022 + i * 0.0005),
        )
    buildings_assign_grids()


def patrol_on(world: World, at: dt.datetime, key: str, **walk_args: Any) -> None:
    with time_machine.travel(at + dt.timedelta(hours=1), tick=False):
        patrol = patrol_start(worker=world.grid0, client_key=key, started_at=at).patrol
        points = walk(at, **walk_args)
        patrol_points_upload(patrol_id=patrol.pk, worker=world.grid0, points=points)
        patrol_end(patrol_id=patrol.pk, worker=world.grid0, ended_at=points[-1].at)


def test_coverage_is_the_share_of_the_grids_buildings_passed_in_the_week(world: World) -> None:
    # Given grid 0 with 2 + 6 buildings, a patrol past the first two this week and one past nothing
    add_buildings(world, 6)
    patrol_on(world, WEDNESDAY, "cov-key-this-week")
    patrol_on(world, WEDNESDAY + dt.timedelta(days=1), "cov-key-elsewhere", lat=STREET_LAT + 0.003)
    # and a patrol past the south row the week before
    patrol_on(world, WEDNESDAY - dt.timedelta(days=7), "cov-key-last-week", lat=LAT0 + 0.0023, steps=120)
    with time_machine.travel(WEDNESDAY + dt.timedelta(days=2), tick=False):
        this_week = {
            c.grid_id: c for c in patrol_coverage_week(user=world.secretary0, week_start=WEDNESDAY.date())
        }
        last_week = {
            c.grid_id: c
            for c in patrol_coverage_week(
                user=world.secretary0, week_start=(WEDNESDAY - dt.timedelta(days=7)).date()
            )
        }
    grid0, grid1 = world.d.grids[0].pk, world.d.grids[1].pk
    # Then this week 2 of 8 are covered, in two patrols; last week the 6 on the south row
    assert (this_week[grid0].buildings, this_week[grid0].passed, this_week[grid0].patrols) == (8, 2, 2)
    assert this_week[grid0].percent == 25.0
    assert (last_week[grid0].passed, last_week[grid0].patrols) == (6, 1)
    assert (this_week[grid1].buildings, this_week[grid1].passed, this_week[grid1].share) == (2, 0, 0.0)
    assert set(this_week) == {g.pk for g in world.d.grids[:2]}  # the secretary's community only


def test_a_week_runs_from_monday_to_monday_local_time() -> None:
    start, end = week_bounds(dt.date(2026, 5, 24))  # a Sunday
    assert start == dt.datetime(2026, 5, 18, tzinfo=timezone.get_current_timezone())
    assert end - start == dt.timedelta(days=7)


@pytest.mark.parametrize(
    ("who", "grids"),
    [("grid0", [0]), ("secretary0", [0, 1]), ("street0", [0, 1, 2, 3]), ("district_staff", list(range(8)))],
)
def test_coverage_lists_only_the_grids_in_scope(world: World, who: str, grids: list[int]) -> None:
    rows = patrol_coverage_week(user=getattr(world, who), week_start=WEDNESDAY.date())
    assert [r.grid_id for r in rows] == [world.d.grids[i].pk for i in grids]


@pytest.mark.parametrize("who", ["window0", "back_office0", "resident", "handler0", "auditor"])
def test_roles_without_coverage_see_no_grid_and_no_page(world: World, who: str) -> None:
    user = getattr(world, who)
    assert patrol_coverage_week(user=user, week_start=WEDNESDAY.date()) == []
    c = Client()
    c.force_login(user)
    assert c.get("/patrols/coverage/").status_code == 404
    assert c.get("/api/patrols/coverage").json() == []


def test_the_coverage_selector_runs_a_fixed_number_of_queries(
    world: World, django_assert_num_queries: Any
) -> None:
    add_buildings(world, 3)
    patrol_on(world, WEDNESDAY, "cov-key-queries")
    user = world.district_staff
    patrol_coverage_week(user=user, week_start=WEDNESDAY.date())  # memoise the user's scope
    with django_assert_num_queries(4):
        rows = patrol_coverage_week(user=user, week_start=WEDNESDAY.date())
    assert len(rows) == 8


def test_the_coverage_page_shows_the_week(world: World) -> None:
    patrol_on(world, WEDNESDAY, "cov-key-page")
    c = Client()
    c.force_login(world.secretary0)
    with time_machine.travel(WEDNESDAY + dt.timedelta(days=1), tick=False):
        page = c.get("/patrols/coverage/?week=2026-05-20")
    assert page.status_code == 200
    text = page.content.decode()
    assert "2026-05-18" in text and "100.0%" in text  # grid 0's two buildings were both passed
