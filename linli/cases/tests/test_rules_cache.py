"""The per-process snapshot of the case rules: seen at once here, within the re-check elsewhere, never stale
after a rollback; and what one submission costs in queries once it is warm."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from linli.accounts.services import api_token_create
from linli.cases.errors import CaseError
from linli.cases.models import Case, Category, Channel, EscalationLevel, RoutingRule, SlaPolicy
from linli.cases.notify import case_notify_submitted
from linli.cases.routing import route_unit
from linli.cases.rules_cache import case_rules, case_rules_invalidate
from linli.cases.services import case_submit
from linli.cases.sla import terms_for
from linli.cases.tests.factories import World, category, grid_point, submit, unit_make
from linli.notifications.models import Notification, OutboxMessage
from linli.notifications.tests.conftest import run_worker_batch


def _insert_rule_as_another_process(*, category_id: int, unit_id: int) -> None:
    """A rule written by another process: a plain INSERT, so no signal reaches this process."""
    table = RoutingRule._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (category_id, region_id, unit_id, is_active, note, updated_at)"  # noqa: S608
            " VALUES (%s, NULL, %s, %s, '', %s)",
            [category_id, unit_id, True, connection.ops.adapt_datetimefield_value(timezone.now())],
        )


def test_a_rule_written_by_another_process_is_seen_once_the_stamp_is_read_again(
    world: World, settings: Any
) -> None:
    # given a warm snapshot that is not due for a re-check
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 3600
    litter = category("city.litter")
    unit, _ = unit_make(world.d, name="区城管局")
    assert route_unit(category_id=litter.pk, region_path=world.d.estates[0].path) is None
    # when another process adds a rule
    _insert_rule_as_another_process(category_id=litter.pk, unit_id=unit.pk)
    # then this process keeps its snapshot until the re-check is due ...
    assert route_unit(category_id=litter.pk, region_path=world.d.estates[0].path) is None
    # ... and sees the rule as soon as it reads the moved stamp
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 0
    assert route_unit(category_id=litter.pk, region_path=world.d.estates[0].path) == unit.pk
    assert submit(world, category_id=litter.pk).unit_id == unit.pk


def test_an_unchanged_stamp_keeps_the_snapshot(world: World, settings: Any) -> None:
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 0
    first = case_rules()
    with CaptureQueriesContext(connection) as queries:
        again = case_rules()
    assert again is first
    assert len(queries.captured_queries) == 2  # the stamp: the tables' aggregates and the ladder rows


def test_changes_saved_in_this_process_are_seen_at_once(world: World, settings: Any) -> None:
    # given a snapshot that would not re-check for an hour
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 3600
    litter = category("city.litter")
    assert terms_for(kind="complaint", category_id=litter.pk, level="community").resolve_amount == 5
    assert case_rules().ladder.entry(has_estate=True, has_community=True) == "estate"
    # when an administrator saves a policy, a rung and a category (model saves, as the admin does)
    SlaPolicy.objects.create(
        category=litter,
        triage_hours=Decimal(2),
        accept_hours=Decimal(2),
        resolve_amount=Decimal(3),
        resolve_unit="days",
    )
    estate = EscalationLevel.objects.get(code="estate")
    estate.is_active = False
    estate.save()
    litter.is_active = False
    litter.save()
    # then the next read sees all three
    assert terms_for(kind="complaint", category_id=litter.pk, level="community").resolve_amount == 3
    assert case_rules().ladder.entry(has_estate=True, has_community=True) == "community"
    with pytest.raises(CaseError) as err:
        submit(world, category_id=litter.pk)
    assert err.value.code == "unknown_category"


def test_a_rolled_back_change_does_not_outlive_its_transaction(world: World, settings: Any) -> None:
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 3600
    litter = category("city.litter")
    unit, _ = unit_make(world.d, name="区城管局")

    class Abandon(Exception):
        """Raised inside the block to roll it back."""

    # given a rule saved and used inside a transaction (the snapshot is rebuilt with it)
    with pytest.raises(Abandon), transaction.atomic():
        RoutingRule.objects.create(category=litter, unit=unit)
        assert route_unit(category_id=litter.pk, region_path=world.d.estates[0].path) == unit.pk
        raise Abandon
    # when that transaction rolled back, then the rule is gone from the snapshot too
    assert route_unit(category_id=litter.pk, region_path=world.d.estates[0].path) is None


def test_a_deactivated_routing_unit_stops_receiving_cases(world: World, settings: Any) -> None:
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 3600
    litter = category("city.litter")
    unit, _ = unit_make(world.d, name="区城管局")
    RoutingRule.objects.create(category=litter, unit=unit)
    assert submit(world, category_id=litter.pk).unit_id == unit.pk
    unit.is_active = False
    unit.save()
    assert submit(world, category_id=litter.pk).unit_id is None


def test_a_retry_is_answered_with_the_first_case_even_if_its_body_no_longer_passes(world: World) -> None:
    # given a case filed with a key in a category that is then deactivated
    litter = category("city.litter")
    first = submit(world, category_id=litter.pk, idempotency_key="retry-0001")
    Category.objects.filter(pk=litter.pk).update(is_active=False)
    case_rules_invalidate()
    # when the app retries the same submission, then it gets the first case, not an error
    again = submit(world, category_id=litter.pk, idempotency_key="retry-0001")
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    # and a new submission in that category is refused
    with pytest.raises(CaseError):
        submit(world, category_id=litter.pk, idempotency_key="retry-0002")


@pytest.mark.parametrize("anonymous", [False, True])
def test_a_retry_writes_nothing_new(world: World, anonymous: bool) -> None:
    # given a case filed by a resident (in-app + SMS), or by window staff for a caller (SMS to the caller)
    lat, lng = grid_point(world.d, 0)
    kw: dict[str, Any] = {
        "text": "噪音扰民",
        "lat": lat,
        "lng": lng,
        "category_id": category("city.litter").pk,
        "idempotency_key": "retry-0003",
    }
    if anonymous:
        kw |= {"channel": Channel.WINDOW, "filed_by": world.window0, "contact_phone": "13800138000"}
    else:
        kw |= {"channel": Channel.RESIDENT, "reporter": world.resident}
    first = case_submit(**kw)
    assert first.created
    assert run_worker_batch() >= 1  # the submission's notice task writes the messages
    messages = OutboxMessage.objects.filter(dedup_key__startswith=f"case:{first.case.pk}:submit:")
    assert messages.count() == 1 and messages.exclude(task_id="").count() == 1  # the SMS has its task
    counts = (
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        Case.objects.count(),
        DBTaskResult.objects.count(),
    )
    # when the same submission comes again, then it is the same case and nothing new is written, not even a
    # task: and the notice task run twice (a worker killed after its work) sends nothing twice (REL-5)
    again = case_submit(**kw)
    assert not again.created and again.case.pk == first.case.pk
    case_notify_submitted(case_id=first.case.pk, event_id=first.case.events.get(action="submit").pk)
    after = (
        Notification.objects.count(),
        OutboxMessage.objects.count(),
        Case.objects.count(),
        DBTaskResult.objects.count(),
    )
    assert after == counts


# --- what one submission costs ----------------------------------------------------------------------


def test_a_warm_submission_through_the_api_stays_within_its_query_budget(world: World, settings: Any) -> None:
    """Token, number, case, event and the notice task's row: 5 (+ BEGIN/COMMIT where the backend logs
    them). The place, rules, deadlines and the answer's names come from the process's snapshots; the
    messages are written by the task (run here by the real worker afterwards)."""
    # A slow run must not add a stamp's re-read: the rules', the grid locator's, the working calendar's.
    settings.LINLI_CASE_RULES_RECHECK_SECONDS = 3600
    settings.LINLI_GEOMETRY_RECHECK_SECONDS = 3600
    settings.LINLI_WORKDAYS_RECHECK_SECONDS = 3600
    _, raw = api_token_create(user=world.resident, name="app")
    client = Client()
    lat, lng = grid_point(world.d, 1)
    streetlight = category("road.streetlight").pk

    def post(key: str) -> Any:
        return client.post(
            "/api/cases/",
            data={"text": "路灯不亮", "category_id": streetlight, "lat": lat, "lng": lng},
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    assert post("budget-0000").status_code == 201  # warm: snapshot, locator, token's last use written
    with CaptureQueriesContext(connection) as queries:
        response = post("budget-0001")
    assert response.status_code == 201
    body = response.json()
    assert body["case"]["community"] == world.d.communities[0].name
    assert body["case"]["grid"] == world.d.grids[1].name
    sqls = [q["sql"] for q in queries.captured_queries]
    statements = [s for s in sqls if not s.startswith(("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE"))]
    assert len(statements) <= 5, "\n".join(statements)
    # The submission's own transaction (a savepoint inside the test's), and no per-recipient ones.
    assert sum(1 for s in sqls if s.startswith("SAVEPOINT")) <= 1
    assert not any("accounts_apitoken" in s and s.startswith("UPDATE") for s in sqls)  # debounced
    assert body["similar"] == []  # "me too" is asked for before submitting (GET /nearby), not here
    case = Case.objects.get(number=body["case"]["number"])
    assert run_worker_batch() == 4  # the two submissions' notice tasks, then the two SMS they enqueued
    assert Notification.objects.filter(dedup_key__startswith=f"case:{case.pk}:submit:").exists()
    assert OutboxMessage.objects.filter(dedup_key__startswith=f"case:{case.pk}:submit:").exclude(task_id="")


def test_the_answer_names_a_community_and_grid_renamed_since_the_last_submission(world: World) -> None:
    """The submission's answer names places from the locator's snapshot; a rename moves its stamp."""
    from linli.places.services import grid_update, region_update

    _, raw = api_token_create(user=world.resident, name="app")
    lat, lng = grid_point(world.d, 1)
    community, grid = world.d.communities[0], world.d.grids[1]

    def post(key: str) -> Any:
        return Client().post(
            "/api/cases/",
            data={"text": "路灯不亮", "lat": lat, "lng": lng},
            HTTP_AUTHORIZATION=f"Bearer {raw}",
            HTTP_IDEMPOTENCY_KEY=key,
        )

    assert post("names-0000").json()["case"]["community"] == community.name  # the snapshot is built
    region_update(
        region=community,
        name="幸福里社区",
        households=community.households,
        population=community.population,
        address=community.address,
    )
    grid_update(grid=grid, community=grid.community, name="幸福里第二网格", households=grid.households)
    body = post("names-0001").json()
    assert (body["case"]["community"], body["case"]["grid"]) == ("幸福里社区", "幸福里第二网格")
