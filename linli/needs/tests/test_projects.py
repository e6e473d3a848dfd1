"""Projects (项目认领) end to end, and the incubation pipeline of seed 003 with dates and notes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from linli.needs.errors import NeedsError
from linli.needs.models import (
    IncubationStage,
    MatchStatus,
    NeedStatus,
    OrganisationEvent,
    OrgKind,
    ProjectStatus,
    ProjectUpdate,
)
from linli.needs.services import (
    match_accept,
    organisation_incubate,
    project_act,
    project_claim,
    project_evaluate,
    project_report,
)
from linli.needs.tests.factories import NeedsWorld, make_need, make_org, make_project, make_resource
from linli.notifications.models import Notification

pytestmark = pytest.mark.django_db


def test_a_project_is_claimed_carried_out_and_its_needs_are_met(world: NeedsWorld) -> None:
    s = world.secretary0
    community = world.d.communities[0]
    org = make_org(s, community, kind=OrgKind.SOCIAL_ORG, name="向日葵公益")
    resource = make_resource(s, community, organisation=org, capacity=3)
    filed_by_grid = make_need(world.grid0, world.d.estates[0], title="独居老人助餐")
    other = make_need(s, community)
    match_accept(actor=s, need_id=filed_by_grid.pk, resource_id=resource.pk)

    project = make_project(s, community, [filed_by_grid, other])
    assert list(project.resources.all()) == [resource]
    for need in (filed_by_grid, other):
        need.refresh_from_db()
        assert need.status == NeedStatus.IN_PROJECT

    project_claim(actor=s, project_id=project.pk, organisation_id=org.pk, note="签订认领书")
    project_act(actor=s, project_id=project.pk, action="start")
    update = project_report(actor=s, project_id=project.pk, text_="已为8位老人送餐两周", progress=60)
    assert update.is_public and update.progress == 60
    project_act(actor=s, project_id=project.pk, action="complete")
    project.refresh_from_db()
    assert (project.status, project.progress, project.organisation) == (ProjectStatus.COMPLETED, 100, org)
    for need in (filed_by_grid, other):
        need.refresh_from_db()
        assert need.status == NeedStatus.MET and need.met_at is not None
    # The grid worker who filed the need hears that it was met.
    assert Notification.objects.filter(recipient=world.grid0, kind="needs.project.complete").count() == 1

    project_evaluate(actor=s, project_id=project.pk, score=5, note="居民满意")
    project.refresh_from_db()
    assert (project.status, project.evaluation_score) == (ProjectStatus.EVALUATED, 5)
    assert list(project.events.values_list("action", flat=True)) == [
        "create", "claim", "start", "report", "complete", "evaluate",
    ]  # fmt: skip


def test_cancelling_a_project_returns_its_needs_with_their_resources(world: NeedsWorld) -> None:
    s = world.secretary0
    community = world.d.communities[0]
    matched = make_need(s, world.d.estates[0])
    waiting = make_need(s, world.d.estates[1])
    resource = make_resource(s, community, capacity=2)
    match_accept(actor=s, need_id=matched.pk, resource_id=resource.pk)
    project = make_project(s, community, [matched, waiting])
    with pytest.raises(NeedsError) as no_note:
        project_act(actor=s, project_id=project.pk, action="cancel")
    assert no_note.value.code == "note_required"
    project_act(actor=s, project_id=project.pk, action="cancel", note="资金未落实")
    matched.refresh_from_db()
    waiting.refresh_from_db()
    assert (matched.status, waiting.status) == (NeedStatus.MATCHED, NeedStatus.OPEN)
    assert matched.matches.get().status == MatchStatus.ACCEPTED  # the reservation stands


def test_a_project_takes_only_waiting_needs_of_its_own_community(world: NeedsWorld) -> None:
    s = world.street0
    need_elsewhere = make_need(s, world.d.communities[1])
    with pytest.raises(NeedsError) as refused:
        make_project(s, world.d.communities[0], [need_elsewhere])
    assert refused.value.code == "need_not_in_community"
    need = make_need(s, world.d.communities[0])
    make_project(s, world.d.communities[0], [need])
    with pytest.raises(NeedsError) as twice:
        make_project(s, world.d.communities[0], [need])
    assert twice.value.code == "invalid_transition"


def test_public_texts_refuse_phone_numbers(world: NeedsWorld) -> None:
    s = world.secretary0
    need = make_need(s, world.d.estates[0])
    with pytest.raises(NeedsError) as refused:
        make_project(s, world.d.communities[0], [need], summary="联系王阿姨 13812345678")
    assert refused.value.code == "personal_data_in_public_text"
    project = make_project(s, world.d.communities[0], [need])
    org = make_org(s, world.d.communities[0])
    project_claim(actor=s, project_id=project.pk, organisation_id=org.pk)
    with pytest.raises(NeedsError):
        project_report(actor=s, project_id=project.pk, text_="回访电话 138 1234 5678", progress=10)
    internal = project_report(
        actor=s, project_id=project.pk, text_="回访电话 13812345678", progress=10, is_public=False
    )
    assert not internal.is_public
    assert ProjectUpdate.objects.filter(project=project).count() == 1


def test_the_incubation_pipeline_records_each_step_with_its_date(world: NeedsWorld) -> None:
    s = world.secretary0
    org = make_org(s, world.d.communities[0], kind=OrgKind.SOCIAL_ORG, name="夕阳红文艺队")
    today = timezone.localdate()
    steps = [
        ("apply", today - dt.timedelta(days=90), "提交孵化申请书"),
        ("assess", today - dt.timedelta(days=80), "服务需求明确,骨干稳定"),
        ("register", today - dt.timedelta(days=40), ""),
        ("host", today - dt.timedelta(days=30), "托管财务,提供活动室"),
        ("purchase", today, "2024年度文体活动服务"),
    ]
    for action, day, note in steps:
        organisation_incubate(
            actor=s, organisation_id=org.pk, action=action, note=note, occurred_on=day,
            credit_code="91110000600037341L" if action == "register" else "",
            amount_yuan=30_000 if action == "purchase" else None,
        )  # fmt: skip
    org.refresh_from_db()
    assert org.incubation_stage == IncubationStage.SERVICES_PURCHASED
    assert org.credit_code == "91110000600037341L"
    events = list(OrganisationEvent.objects.filter(organisation=org).exclude(action="create").order_by("id"))
    assert [(e.action, e.occurred_on, e.to_state) for e in events] == [
        ("apply", steps[0][1], "applied"),
        ("assess", steps[1][1], "assessed"),
        ("register", steps[2][1], "registered"),
        ("host", steps[3][1], "hosted"),
        ("purchase", steps[4][1], "services_purchased"),
    ]
    assert events[-1].data == {"amount_yuan": 30_000}


def test_incubation_refusals_are_specific(world: NeedsWorld) -> None:
    s = world.secretary0
    unit = make_org(s, world.d.communities[0], kind=OrgKind.CO_BUILDING)
    with pytest.raises(NeedsError) as not_incubable:
        organisation_incubate(actor=s, organisation_id=unit.pk, action="apply")
    assert not_incubable.value.code == "not_incubable"
    org = make_org(s, world.d.communities[0])
    today = timezone.localdate()
    with pytest.raises(NeedsError) as future:
        organisation_incubate(
            actor=s, organisation_id=org.pk, action="apply", occurred_on=today + dt.timedelta(days=1)
        )
    assert future.value.code == "date_in_future"
    organisation_incubate(
        actor=s, organisation_id=org.pk, action="apply", occurred_on=today - dt.timedelta(days=5)
    )
    with pytest.raises(NeedsError) as backwards:
        organisation_incubate(
            actor=s,
            organisation_id=org.pk,
            action="assess",
            note="通过",
            occurred_on=today - dt.timedelta(days=6),
        )
    assert backwards.value.code == "date_before_previous_step"
    organisation_incubate(actor=s, organisation_id=org.pk, action="assess", note="通过")
    with pytest.raises(NeedsError) as bad_code:
        organisation_incubate(
            actor=s, organisation_id=org.pk, action="register", credit_code="91110000600037341X"
        )
    assert bad_code.value.code == "invalid_credit_code"
    org.refresh_from_db()
    assert org.incubation_stage == IncubationStage.ASSESSED
