"""The transition table, exhaustively: every (action, status) pair either produces its target and an event
row, or raises a clear ``invalid_transition`` error and changes nothing (HOUSE_STYLE, QUALITY REL-4)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction

from linli.accounts.models import User
from linli.cases.errors import CaseError, TransitionError
from linli.cases.models import STATUS_INFO, Case, CaseEvent, Status
from linli.cases.permissions import Who
from linli.cases.tests.factories import World, force_state, submit
from linli.cases.transitions import SYSTEM_ACTIONS, TRANSITIONS, case_transition


def actor_for(w: World, who: frozenset[Who]) -> User | None:
    order = [
        (Who.SYSTEM, None),
        (Who.TRIAGER, w.secretary0),  # before the handler: theirs only while the case is in hand
        (Who.HANDLER, w.handler0),
        (Who.ASSIGNER, w.secretary0),
        (Who.SUPERVISOR, w.secretary0),
        (Who.REVIEWER, w.secretary0),
        (Who.REPORTER, w.resident),
        (Who.PUBLIC, w.resident2),
        (Who.INTAKE, w.window0),
    ]
    for relation, user in order:
        if relation in who:
            return user
    raise AssertionError(who)


def prepared(case: Case, w: World, action: str, status: str) -> Case:
    return force_state(
        case,
        status,
        level="community",
        unit_id=w.unit0.pk,
        assignee_id=None,
        reopen_count=1 if action == "send_to_review" else 0,
        is_public=True,
    )


def test_every_pair_of_status_and_action_follows_the_table(world: World) -> None:
    case = submit(world)
    checked = allowed = 0
    for action, t in TRANSITIONS.items():
        actor = actor_for(world, t.who)
        for status in Status.values:
            sid = transaction.savepoint()
            try:
                case = prepared(case, world, action, status)
                events = CaseEvent.objects.filter(case=case).count()
                if status in t.sources:
                    result = case_transition(case_id=case.pk, action=action, actor=actor, note="说明")
                    target = t.target or status
                    assert result.case.status == target, (action, status)
                    stored = Case.objects.get(pk=case.pk)
                    assert stored.status == target and stored.status_category == STATUS_INFO[target].category
                    event = CaseEvent.objects.filter(case=case).latest("id")
                    assert (event.action, event.from_status, event.to_status) == (action, status, target)
                    assert event.is_public == t.public
                    assert CaseEvent.objects.filter(case=case).count() == events + 1
                    allowed += 1
                else:
                    with pytest.raises(TransitionError) as err:
                        case_transition(case_id=case.pk, action=action, actor=actor, note="说明")
                    assert err.value.code == "invalid_transition", (action, status)
                    assert (
                        str(Status(status).label) in err.value.message and str(t.label) in err.value.message
                    )
                    assert Case.objects.get(pk=case.pk).status == status
                    assert CaseEvent.objects.filter(case=case).count() == events
                checked += 1
            finally:
                transaction.savepoint_rollback(sid)
    assert checked == len(TRANSITIONS) * len(Status.values)
    assert allowed == sum(len(t.sources) for t in TRANSITIONS.values())


def test_targets_and_sources_are_real_statuses_and_terminal_states_have_no_exit(world: World) -> None:
    for t in TRANSITIONS.values():
        assert t.sources <= set(Status.values)
        assert t.target is None or t.target in Status.values
    for status, info in STATUS_INFO.items():
        if info.terminal:
            exits = [
                a for a, t in TRANSITIONS.items() if status in t.sources and t.target not in (None, status)
            ]
            assert exits == [], (status, exits)


@pytest.mark.parametrize("action", sorted(SYSTEM_ACTIONS))
def test_system_actions_refuse_people(world: World, action: str) -> None:
    case = submit(world)
    t = TRANSITIONS[action]
    case = prepared(case, world, action, sorted(t.sources)[0])
    with pytest.raises(TransitionError) as err:
        case_transition(case_id=case.pk, action=action, actor=world.district_staff)
    assert err.value.code == "forbidden"


def test_people_actions_refuse_the_system(world: World) -> None:
    case = submit(world)
    for action in TRANSITIONS:
        if action in SYSTEM_ACTIONS:
            continue
        with pytest.raises(TransitionError) as err:
            case_transition(case_id=case.pk, action=action, actor=None, note="x")
        assert err.value.code == "forbidden", action


def test_guards_refuse_with_their_own_codes(world: World) -> None:
    case = submit(world)
    cases: list[tuple[str, dict[str, Any], str, User | None]] = [
        ("escalate", {"status": Status.IN_PROGRESS, "level": "district"}, "top_level", world.district_staff),
        ("escalate", {"status": Status.SUBMITTED, "level": ""}, "not_located", world.district_staff),
        ("reopen", {"status": Status.RESOLVED, "reopen_count": 1}, "already_reopened", world.resident),
        (
            "send_to_review",
            {"status": Status.RESOLVED, "reopen_count": 0},
            "not_reopened_yet",
            world.resident,
        ),
    ]
    for action, fields, code, actor in cases:
        status = fields.pop("status")
        case = force_state(case, status, **fields)
        with pytest.raises(CaseError) as err:
            case_transition(case_id=case.pk, action=action, actor=actor, note="x")
        assert err.value.code == code
