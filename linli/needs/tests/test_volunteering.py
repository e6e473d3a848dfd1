"""Volunteers' service on 三清单 projects flows into their hours ledger: a team registered in linli.party
offers a resource (a real foreign key, not text), its members' days of service are recorded on the project,
and completing the project credits each day exactly once (one ledger row per service row)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone

from linli.needs.errors import NeedsError
from linli.needs.models import Project, ProjectEvent, ProjectService, ProviderKind, Resource
from linli.needs.services import (
    match_accept,
    project_act,
    project_claim,
    project_serve,
    project_services_credit,
    resource_create,
)
from linli.needs.tests.factories import (
    NeedsWorld,
    make_need,
    make_org,
    make_project,
    make_resource,
    make_team,
)
from linli.party.errors import PartyError
from linli.party.models import HoursSource, Volunteer, VolunteerHours
from linli.party.selectors import hours_total, volunteer_ledger
from linli.party.services import hours_record, team_member_add, volunteer_register

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate


def running_project(world: NeedsWorld, *, members: int = 2) -> tuple[Any, Any, list[Volunteer]]:
    """A project in progress in community 0 using a resource of a registered team with ``members``."""
    s, community = world.secretary0, world.d.communities[0]
    team, first = make_team(s, community, members=members)
    volunteers = list(Volunteer.objects.filter(team_memberships__team=team).order_by("id"))
    assert volunteers[0] == first
    resource = make_resource(s, community, volunteer_team_id=team.pk, name="助老送餐志愿服务")
    need = make_need(s, world.d.estates[0], title="独居老人送餐")
    match_accept(actor=s, need_id=need.pk, resource_id=resource.pk)
    project = make_project(s, community, [need])
    assert list(project.resources.all()) == [resource]  # the accepted resource came with its need
    org = make_org(s, community, name="社区志愿者协会")
    project_claim(actor=s, project_id=project.pk, organisation_id=org.pk)
    project_act(actor=s, project_id=project.pk, action="start")
    return project, team, volunteers


def test_a_resource_names_its_volunteer_team_by_foreign_key(world: NeedsWorld) -> None:
    s, community = world.secretary0, world.d.communities[0]
    team, _ = make_team(s, community)

    resource = make_resource(s, community, volunteer_team_id=team.pk, provider_name="被忽略的文字")
    loose = make_resource(s, community, provider_name="楼栋热心居民")

    assert (resource.volunteer_team, resource.provider_name) == (team, team.name)
    assert (loose.volunteer_team, loose.provider_name) == (None, "楼栋热心居民")
    org = make_org(s, community)
    with pytest.raises(NeedsError) as wrong_kind:
        make_resource(s, community, organisation=org, volunteer_team_id=team.pk)
    assert wrong_kind.value.code == "team_needs_volunteers"
    # A team of another street is outside the secretary's pool: as if it did not exist.
    far_team, _ = make_team(world.secretary2, world.d.communities[2])
    with pytest.raises(NeedsError) as far:
        make_resource(s, community, volunteer_team_id=far_team.pk)
    assert (far.value.code, far.value.status) == ("not_found", 404)
    # The database refuses a team on a resource that is not the volunteers' (whatever the service).
    with pytest.raises(IntegrityError), transaction.atomic():
        Resource.objects.filter(pk=loose.pk).update(provider_kind=ProviderKind.STATION, volunteer_team=team)


def test_completing_a_project_credits_each_day_of_service_once(world: NeedsWorld) -> None:
    s = world.secretary0
    project, team, (a, b) = running_project(world)
    yesterday = TODAY() - dt.timedelta(days=1)
    Project.objects.filter(pk=project.pk).update(started_at=timezone.now() - dt.timedelta(days=2))

    first = project_serve(actor=s, project_id=project.pk, volunteer_id=a.pk, team_id=team.pk, hours="3")
    again = project_serve(actor=s, project_id=project.pk, volunteer_id=a.pk, team_id=team.pk, hours="3")
    project_serve(
        actor=s, project_id=project.pk, volunteer_id=b.pk, team_id=team.pk, hours="2.5", served_on=yesterday
    )
    assert first.created and not again.created and again.service == first.service
    assert not VolunteerHours.objects.exists()  # nothing is credited before the project is done
    assert ProjectEvent.objects.filter(project=project, action="serve").count() == 2

    project_act(actor=s, project_id=project.pk, action="complete")

    rows = list(VolunteerHours.objects.order_by("volunteer_id"))
    assert [(r.volunteer_id, r.hours, r.source, r.team_id, r.verified_by) for r in rows] == [
        (a.pk, Decimal("3.00"), HoursSource.PROJECT, team.pk, s),
        (b.pk, Decimal("2.50"), HoursSource.PROJECT, team.pk, s),
    ]
    assert rows[1].served_on == yesterday and rows[0].title.endswith(project.title)
    assert {r.project_service_id for r in rows} == set(ProjectService.objects.values_list("pk", flat=True))
    # A retried credit adds nothing.
    project.refresh_from_db()
    assert project_services_credit(project=project, actor=s) == 0
    # A day recorded after completion is credited at once.
    late = project_serve(
        actor=s, project_id=project.pk, volunteer_id=b.pk, team_id=team.pk, hours="1", served_on=TODAY()
    )
    assert VolunteerHours.objects.get(project_service=late.service).hours == Decimal("1.00")
    assert hours_total(team_id=team.pk) == Decimal("6.50")
    assert volunteer_ledger(b).by_source == {"project": Decimal("3.50")}
    # The database holds one ledger row per service row, whatever the code does.
    with pytest.raises(IntegrityError), transaction.atomic():
        VolunteerHours.objects.create(
            volunteer=a, region_path=a.region_path, source=HoursSource.PROJECT, title="重复",
            served_on=TODAY(), hours=Decimal(1), verified_by=s, project_service=first.service,
        )  # fmt: skip


def test_a_cancelled_project_credits_nothing(world: NeedsWorld) -> None:
    s = world.secretary0
    project, team, (a, b) = running_project(world)
    project_serve(actor=s, project_id=project.pk, volunteer_id=a.pk, team_id=team.pk, hours="2")
    project_act(actor=s, project_id=project.pk, action="cancel", note="场地无法落实")
    assert not VolunteerHours.objects.exists()
    with pytest.raises(NeedsError) as refused:
        project_serve(actor=s, project_id=project.pk, volunteer_id=b.pk, team_id=team.pk, hours="2")
    assert refused.value.code == "invalid_transition"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"hours": "0"}, "invalid_hours"),
        ({"hours": "25"}, "too_many_hours"),
        ({"served_on": "tomorrow"}, "date_in_future"),
        ({"served_on": "before start"}, "service_before_start"),
        ({"team": "other"}, "team_not_in_project"),
        ({"volunteer": "outsider"}, "volunteer_not_in_team"),
        ({"hours": "3"}, "service_exists"),  # the same day again with different hours
    ],
)
def test_service_that_cannot_be_right_is_refused_clearly(
    world: NeedsWorld, change: dict[str, str], code: str
) -> None:
    s, community = world.secretary0, world.d.communities[0]
    project, team, (a, _) = running_project(world)
    project_serve(actor=s, project_id=project.pk, volunteer_id=a.pk, team_id=team.pk, hours="2")
    other_team, _ = make_team(s, community)
    outsider = volunteer_register(actor=s, name="路人", community_id=community.pk)
    fields: dict[str, Any] = {"volunteer_id": a.pk, "team_id": team.pk, "hours": "2", "served_on": TODAY()}
    fields["hours"] = change.get("hours", fields["hours"])
    if change.get("served_on") == "tomorrow":
        fields["served_on"] = TODAY() + dt.timedelta(days=1)
    if change.get("served_on") == "before start":  # the project started today
        fields["served_on"] = TODAY() - dt.timedelta(days=3)
    if change.get("team") == "other":
        fields["team_id"] = other_team.pk
    if change.get("volunteer") == "outsider":
        fields["volunteer_id"] = outsider.pk
    before = (ProjectService.objects.count(), ProjectEvent.objects.filter(action="serve").count())
    with pytest.raises(NeedsError) as refused:
        project_serve(actor=s, project_id=project.pk, **fields)
    assert refused.value.code == code
    assert (ProjectService.objects.count(), ProjectEvent.objects.filter(action="serve").count()) == before


def test_only_managers_of_the_project_record_service(world: NeedsWorld) -> None:
    project, team, (a, _) = running_project(world)
    for who in (world.secretary2, world.window0, world.grid0, world.resident):
        with pytest.raises(NeedsError) as refused:
            project_serve(actor=who, project_id=project.pk, volunteer_id=a.pk, team_id=team.pk, hours="1")
        assert refused.value.status == 404
    assert not ProjectService.objects.exists()


def test_project_hours_are_never_entered_by_hand(world: NeedsWorld) -> None:
    s, community = world.secretary0, world.d.communities[0]
    v = volunteer_register(actor=s, name="王秀英", community_id=community.pk)
    with pytest.raises(PartyError) as refused:
        hours_record(
            actor=s, volunteer_id=v.pk, hours="2", served_on=TODAY(), title="项目", source=HoursSource.PROJECT
        )
    assert refused.value.code == "invalid_source"


def call(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        answer = client.get(url)
    else:
        answer = client.post(url, data=json.dumps(body or {}), content_type="application/json")
    return answer.status_code, answer.json()


def test_the_api_and_the_project_page_record_service(world: NeedsWorld) -> None:
    s = world.secretary0
    project, team, (a, b) = running_project(world)
    client = Client()
    client.force_login(s)
    body = {"volunteer_id": a.pk, "team_id": team.pk, "hours": "2.5"}

    status, row = call(client, "post", f"/api/needs/projects/{project.pk}/services", body)
    replay, _ = call(client, "post", f"/api/needs/projects/{project.pk}/services", body)
    status_bad, bad = call(
        client, "post", f"/api/needs/projects/{project.pk}/services", {**body, "volunteer_id": 10**9}
    )
    assert (status, replay, status_bad, bad["code"]) == (201, 200, 400, "volunteer_not_in_team")
    assert row["ledger_entry_id"] is None and row["hours"] == "2.50"
    page = client.post(
        f"/needs/projects/{project.pk}/serve/",
        {"team": team.pk, "volunteer": b.pk, "served_on": TODAY().isoformat(), "hours": "1.5"},
    )
    assert page.status_code == 302
    client.post(f"/needs/projects/{project.pk}/complete/")
    status, listed = call(client, "get", f"/api/needs/projects/{project.pk}/services")
    assert status == 200 and len(listed) == 2 and all(r["ledger_entry_id"] for r in listed)
    detail = client.get(f"/needs/projects/{project.pk}/").content.decode()
    assert "志愿服务登记" in detail and "已记入" in detail
    # Window staff see the project but not the volunteers' full names.
    window = Client()
    window.force_login(world.window0)
    status, seen = call(window, "get", f"/api/needs/projects/{project.pk}/services")
    assert status == 200 and a.name not in {r["volunteer_name"] for r in seen}
    assert call(window, "post", f"/api/needs/projects/{project.pk}/services", body)[0] == 404


def test_the_data_migration_links_text_references_to_teams(world: NeedsWorld) -> None:
    from importlib import import_module

    from django.apps import apps

    s, community = world.secretary0, world.d.communities[0]
    team, _ = make_team(s, community)
    old = resource_create(
        actor=s, name="旧资源", kind="services", category="elderly", provider_kind="volunteers",
        region_id=community.pk, capacity=3, provider_name=team.name,
        provider_ref=f"party.VolunteerTeam:{team.pk}",
    )  # fmt: skip
    dangling = make_resource(s, community, provider_ref="party.VolunteerTeam:999999")
    migration = import_module("linli.needs.migrations.0003_link_resources_to_volunteer_teams")

    migration.link(apps, None)
    old.refresh_from_db()
    dangling.refresh_from_db()
    assert (old.volunteer_team_id, old.provider_ref) == (team.pk, "")
    assert (dangling.volunteer_team_id, dangling.provider_ref) == (None, "party.VolunteerTeam:999999")
    migration.unlink(apps, None)
    old.refresh_from_db()
    assert (old.volunteer_team_id, old.provider_ref) == (None, f"party.VolunteerTeam:{team.pk}")


def test_a_team_member_added_later_may_serve(world: NeedsWorld) -> None:
    s, community = world.secretary0, world.d.communities[0]
    project, team, _ = running_project(world, members=1)
    newcomer = volunteer_register(actor=s, name="新队员", community_id=community.pk)
    with pytest.raises(NeedsError):
        project_serve(actor=s, project_id=project.pk, volunteer_id=newcomer.pk, team_id=team.pk, hours="1")
    team_member_add(actor=s, team_id=team.pk, volunteer_id=newcomer.pk)
    assert project_serve(
        actor=s, project_id=project.pk, volunteer_id=newcomer.pk, team_id=team.pk, hours="1"
    ).created
