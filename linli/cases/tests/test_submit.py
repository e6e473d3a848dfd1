from __future__ import annotations

import re

import pytest

from linli.cases.errors import CaseError
from linli.cases.models import Case, CaseEvent, Channel, RoutingRule, Status
from linli.cases.services import case_submit
from linli.cases.tests.factories import World, category, grid_point, submit


def test_submit_locates_the_point_and_starts_at_the_estate_level(world: World) -> None:
    case = submit(world, grid=2)

    assert re.fullmatch(r"\d{8}-\d{6}", case.number)
    assert case.status == Status.SUBMITTED and case.status_category == "open"
    assert case.grid_id == world.d.grids[2].pk
    assert case.estate_id == world.d.estates[2].pk
    assert case.community_id == world.d.communities[1].pk
    assert case.street_id == world.d.streets[0].pk
    assert case.region_path == world.d.estates[2].path
    assert case.level == "estate"
    assert case.triage_due_at and case.resolve_due_at and case.warn_at
    assert case.triage_due_at < case.warn_at < case.resolve_due_at
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.to_status, event.actor_id) == ("submit", Status.SUBMITTED, world.resident.pk)


def test_a_point_outside_the_district_is_refused_clearly(world: World) -> None:
    with pytest.raises(CaseError) as err:
        case_submit(text="北京的问题", channel=Channel.RESIDENT, reporter=world.resident, lat=39.9, lng=116.4)
    assert err.value.code == "outside_jurisdiction"
    assert not Case.objects.exists()


def test_a_building_qr_code_places_the_case_in_its_estate_and_grid(world: World) -> None:
    building = world.d.buildings[5]
    case = case_submit(
        text="楼道灯坏了", channel=Channel.BUILDING_QR, reporter=world.resident, building_id=building.pk
    ).case
    assert case.building_id == building.pk
    assert case.estate_id == building.parent_id and case.grid_id == building.grid_id
    assert case.level == "estate" and (case.lat, case.lng) == (building.lat, building.lng)


def test_address_only_reports_go_to_the_chosen_community_or_to_the_district(world: World) -> None:
    chosen = case_submit(
        text="小区东门路面塌陷",
        channel=Channel.RESIDENT,
        reporter=world.resident,
        address="幸福路12号东门",
        community_id=world.d.communities[1].pk,
    ).case
    assert chosen.level == "community" and chosen.grid_id is None and chosen.estate_id is None
    assert chosen.region_path == world.d.communities[1].path

    nowhere = case_submit(
        text="不知道在哪个社区", channel=Channel.RESIDENT, reporter=world.resident, address="幸福路"
    ).case
    assert nowhere.level == "" and nowhere.region_path == world.d.district.path
    assert nowhere.community_id is None and nowhere.district_id == world.d.district.pk
    # Only the district dispatches it; locating it at triage puts it on the ladder.
    from linli.cases.services import case_triage

    with pytest.raises(CaseError):
        case_triage(case_id=nowhere.pk, actor=world.secretary0, community_id=world.d.communities[0].pk)
    located = case_triage(
        case_id=nowhere.pk, actor=world.district_staff, community_id=world.d.communities[0].pk
    )
    assert located.level == "community" and located.region_path == world.d.communities[0].path
    assert located.street_id == world.d.streets[0].pk


def test_the_same_key_from_the_same_reporter_returns_the_same_case(world: World) -> None:
    first = case_submit(
        text="噪音",
        channel=Channel.RESIDENT,
        reporter=world.resident,
        community_id=world.d.communities[0].pk,
        idempotency_key="retry-key-0001",
    )
    again = case_submit(
        text="噪音",
        channel=Channel.RESIDENT,
        reporter=world.resident,
        community_id=world.d.communities[0].pk,
        idempotency_key="retry-key-0001",
    )
    other = case_submit(
        text="噪音",
        channel=Channel.RESIDENT,
        reporter=world.resident2,
        community_id=world.d.communities[0].pk,
        idempotency_key="retry-key-0001",
    )
    assert first.created and not again.created and again.case.pk == first.case.pk
    assert other.created and other.case.pk != first.case.pk
    with pytest.raises(CaseError) as err:
        case_submit(text="x", channel=Channel.RESIDENT, reporter=world.resident, idempotency_key="bad key!")
    assert err.value.code == "invalid_idempotency_key"


def test_staff_intake_needs_the_capability_and_an_anonymous_caller_is_told_by_sms(world: World) -> None:
    with pytest.raises(CaseError) as err:
        case_submit(
            text="代客登记",
            channel=Channel.WINDOW,
            filed_by=world.handler0,
            community_id=world.d.communities[0].pk,
        )
    assert err.value.code == "intake_not_allowed"
    with pytest.raises(CaseError) as err:
        case_submit(text="匿名", channel=Channel.RESIDENT, community_id=world.d.communities[0].pk)
    assert err.value.code == "contact_required"

    from linli.notifications.models import OutboxMessage
    from linli.notifications.tests.conftest import run_worker_batch

    case = case_submit(
        text="老人求助:家中水管破裂",
        channel=Channel.WINDOW,
        filed_by=world.window0,
        kind="help",
        community_id=world.d.communities[0].pk,
        contact_name="王大爷",
        contact_phone="139 1234 5678",
    ).case
    assert case.reporter_id is None and case.filed_by_id == world.window0.pk
    assert case.contact_phone_masked == "139****5678"
    run_worker_batch()  # the submission's notice task
    sms = OutboxMessage.objects.get(dedup_key__startswith=f"case:{case.pk}:submit")
    assert sms.phone_display == "139****5678" and case.number in sms.text
    assert not case.is_public  # help requests are not published by default


def test_tip_offs_are_never_public(world: World) -> None:
    case = submit(world, kind="tip_off", is_public=True)
    assert case.is_public is False


def test_numbers_count_per_local_day(world: World) -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    sh = ZoneInfo("Asia/Shanghai")
    a = submit(world, now=dt.datetime(2026, 3, 1, 23, 59, tzinfo=sh))
    b = submit(world, now=dt.datetime(2026, 3, 1, 23, 59, 30, tzinfo=sh))
    c = submit(world, now=dt.datetime(2026, 3, 2, 0, 0, 1, tzinfo=sh))  # 16:00 UTC the day before
    assert (a.number, b.number, c.number) == ("20260301-000001", "20260301-000002", "20260302-000001")


def test_routing_sets_the_unit_on_submission(world: World) -> None:
    RoutingRule.objects.create(
        category=category("city.litter"), region=world.d.communities[0], unit=world.unit0
    )
    assert submit(world, grid=0).unit_id == world.unit0.pk
    assert submit(world, grid=2).unit_id is None
    lat, lng = grid_point(world.d, 0)
    assert lat and lng


@pytest.mark.django_db(transaction=True)
def test_a_submission_writes_its_rows_in_one_commit_and_a_duplicate_key_takes_no_number(world: World) -> None:
    """Outside any transaction (as a request runs): on PostgreSQL the number, case, event and task row go in
    one statement, on SQLite in one group-committed transaction; a repeated key writes nothing more, and the
    day's counter keeps no gap."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_tasks_db.models import DBTaskResult

    from linli.cases.models import CaseNumberCounter

    first = submit(world, idempotency_key="one-commit-0001")
    with CaptureQueriesContext(connection) as queries:
        second = submit(world, idempotency_key="one-commit-0002")
    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].lstrip().upper().startswith(("INSERT", "WITH"))
    ]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 4)
    event = CaseEvent.objects.get(case=second, action="submit")
    task = DBTaskResult.objects.get(args_kwargs__args=[second.pk, event.pk])
    assert task.status == "READY" and task.task_path == "linli.cases.tasks.case_submitted_notify"
    counter = CaseNumberCounter.objects.get()
    assert second.number == Case.objects.get(pk=second.pk).number and second.number.endswith(
        f"{counter.last:06d}"
    )
    # a retry with the first key: the same case, no new rows, no number taken
    again = case_submit(
        text="小区门口垃圾堆了三天没人清运",
        channel=Channel.RESIDENT,
        reporter=world.resident,
        category_id=category("city.litter").pk,
        lat=first.lat,
        lng=first.lng,
        idempotency_key="one-commit-0001",
    )
    assert again.case.pk == first.pk and not again.created
    assert Case.objects.count() == 2 and DBTaskResult.objects.count() == 2
    assert CaseNumberCounter.objects.get().last == counter.last  # the failed insert's increment rolled back
