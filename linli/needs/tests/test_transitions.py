"""The transition tables, exhaustively: every allowed (state, action) pair moves to the table's target and
writes one event row; every forbidden pair raises ``TransitionError`` with a clear message and changes
nothing (no state change, no event)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.needs.errors import TransitionError
from linli.needs.models import (
    IncubationStage,
    Need,
    NeedEvent,
    NeedStatus,
    Organisation,
    OrganisationEvent,
    OrgKind,
    Project,
    ProjectEvent,
    ProjectStatus,
)
from linli.needs.services import (
    organisation_incubate,
    project_act,
    project_claim,
    project_evaluate,
    project_report,
    project_serve,
)
from linli.needs.tests.factories import (
    force_need,
    force_project,
    force_stage,
    make_need,
    make_org,
    make_project,
    make_resource,
    make_team,
)
from linli.needs.transitions import (
    INCUBATION_TRANSITIONS,
    NEED_FLOW,
    NEED_TRANSITIONS,
    PROJECT_TRANSITIONS,
    Flow,
    state_label,
    transition_apply,
)
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db


def check_table(
    *,
    flow_states: list[str],
    table: dict[str, Any],
    flow: Flow,
    reset: Callable[[str], Any],
    apply: Callable[[Any, str], Any],
    events: Callable[[Any], int],
) -> int:
    """For each state and action, in a savepoint rolled back afterwards. Returns the pairs checked."""
    checked = 0
    for state in flow_states:
        for action, t in table.items():
            with transaction.atomic():
                obj = reset(state)
                before = events(obj)
                if state in t.sources:
                    apply(obj, action)
                    obj.refresh_from_db()
                    assert getattr(obj, flow.state_field) == (t.target or state), (state, action)
                    assert events(obj) == before + 1, (state, action)
                else:
                    with pytest.raises(TransitionError) as refused:
                        apply(obj, action)
                    assert refused.value.code == "invalid_transition", (state, action)
                    assert refused.value.status == 409
                    assert f"「{state_label(flow, state)}」" in refused.value.message
                    assert f"「{t.label}」" in refused.value.message
                    obj.refresh_from_db()
                    assert getattr(obj, flow.state_field) == state, (state, action)
                    assert events(obj) == before, (state, action)
                transaction.set_rollback(True)
            checked += 1
    return checked


def test_the_need_table_exhaustively(small_district: SmallDistrict) -> None:
    actor = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    need = make_need(actor, small_district.estates[0])

    def reset(state: str) -> Need:
        force_need(need, state)
        return Need.objects.get(pk=need.pk)

    checked = check_table(
        flow_states=list(NeedStatus.values),
        table=NEED_TRANSITIONS,
        flow=NEED_FLOW,
        reset=reset,
        apply=lambda n, action: transition_apply(
            flow=NEED_FLOW, obj_id=n.pk, action=action, actor=actor, note="说明"
        ),
        events=lambda n: NeedEvent.objects.filter(need=n).count(),
    )
    assert checked == len(NeedStatus.values) * len(NEED_TRANSITIONS)


def test_the_project_table_exhaustively_through_the_services(small_district: SmallDistrict) -> None:
    from linli.needs.transitions import PROJECT_FLOW

    actor = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    community = small_district.communities[0]
    org = make_org(actor, community, kind=OrgKind.CO_BUILDING)
    project = make_project(actor, community, [make_need(actor, small_district.estates[0])])
    team, volunteer = make_team(actor, community)
    project.resources.add(make_resource(actor, community, volunteer_team_id=team.pk))

    def reset(state: str) -> Project:
        force_project(project, state, None if state in ("open", "cancelled") else org)
        return Project.objects.get(pk=project.pk)

    def apply(p: Project, action: str) -> Any:
        if action == "claim":
            return project_claim(actor=actor, project_id=p.pk, organisation_id=org.pk)
        if action == "report":
            return project_report(actor=actor, project_id=p.pk, text_="已走访12户", progress=40)
        if action == "evaluate":
            return project_evaluate(actor=actor, project_id=p.pk, score=5, note="居民满意")
        if action == "serve":
            return project_serve(
                actor=actor, project_id=p.pk, volunteer_id=volunteer.pk, team_id=team.pk, hours="2"
            )
        return project_act(actor=actor, project_id=p.pk, action=action, note="说明")

    checked = check_table(
        flow_states=list(ProjectStatus.values),
        table=PROJECT_TRANSITIONS,
        flow=PROJECT_FLOW,
        reset=reset,
        apply=apply,
        events=lambda p: ProjectEvent.objects.filter(project=p).count(),
    )
    assert checked == len(ProjectStatus.values) * len(PROJECT_TRANSITIONS) == 48


def test_the_incubation_table_exhaustively_through_the_service(small_district: SmallDistrict) -> None:
    from linli.needs.transitions import INCUBATION_FLOW

    actor = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    org = make_org(actor, small_district.communities[0], kind=OrgKind.SOCIAL_ORG)

    def reset(state: str) -> Organisation:
        force_stage(org, state)
        return Organisation.objects.get(pk=org.pk)

    checked = check_table(
        flow_states=list(IncubationStage.values),
        table=INCUBATION_TRANSITIONS,
        flow=INCUBATION_FLOW,
        reset=reset,
        apply=lambda o, action: organisation_incubate(
            actor=actor, organisation_id=o.pk, action=action, note="说明", amount_yuan=50_000
        ),
        events=lambda o: OrganisationEvent.objects.filter(organisation=o).count(),
    )
    assert checked == len(IncubationStage.values) * len(INCUBATION_TRANSITIONS) == 56


def test_an_unknown_action_and_a_missing_note_are_refused_clearly(small_district: SmallDistrict) -> None:
    from linli.needs.errors import NeedsError

    actor = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district)
    need = make_need(actor, small_district.estates[0])
    with pytest.raises(NeedsError) as unknown:
        transition_apply(flow=NEED_FLOW, obj_id=need.pk, action="fly", actor=actor)
    assert unknown.value.code == "unknown_action"
    with pytest.raises(NeedsError) as no_note:
        transition_apply(flow=NEED_FLOW, obj_id=need.pk, action="close", actor=actor, note="  ")
    assert no_note.value.code == "note_required" and "关闭需求" in no_note.value.message
    need.refresh_from_db()
    assert need.status == NeedStatus.OPEN
