"""Who may see and act on which case (QUALITY AC-1, AC-2, AC-3), including the negatives."""

from __future__ import annotations

import pytest
from django.db import transaction

from linli.cases.errors import CaseError
from linli.cases.models import Case
from linli.cases.permissions import case_may_view
from linli.cases.selectors import QueueFilters, case_actions_for_user, case_queue_for_user
from linli.cases.services import case_accept, case_assign, case_escalate, case_submit
from linli.cases.tests.factories import World, submit
from linli.cases.transitions import SYSTEM_ACTIONS, TRANSITIONS, case_transition

# Who sees a case reported in grid 0 (estate 0, community 0, street 0) and assigned to unit 0.
VISIBLE = {
    "resident": True,
    "resident2": False,
    "secretary0": True,
    "secretary1": False,
    "secretary2": False,
    "back_office0": True,
    "window0": True,
    "street0": True,
    "street1": False,
    "district_staff": True,
    "grid0": True,
    "grid1": False,  # same community, another grid
    "grid2": False,
    "handler0": True,
    "handler1": False,  # another unit
    "auditor": False,
    "admin": False,
}


@pytest.fixture
def assigned(world: World) -> Case:
    case = submit(world, grid=0)
    return case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)


def test_who_sees_a_case(world: World, assigned: Case) -> None:
    for name, expected in VISIBLE.items():
        user = getattr(world, name)
        assert case_may_view(user, assigned) is expected, name
        assert Case.objects.for_user(user).filter(pk=assigned.pk).exists() is expected, name


# (actor, action, expected code): refused as "not_found" (404) when the case is outside their scope (AC-1),
# "forbidden" (403) when they see it but the table gives them no part in this action (AC-3).
REFUSALS = [
    ("resident", "reassign", "forbidden"),  # the reporter sees the case but may not dispatch it
    ("resident", "accept", "forbidden"),
    ("resident", "supervise", "forbidden"),
    ("resident", "close_unresolved", "forbidden"),
    ("resident2", "comment", "not_found"),
    ("grid2", "accept", "not_found"),  # another grid's case does not exist for them
    ("grid1", "comment", "not_found"),
    ("handler1", "accept", "not_found"),  # another unit's case
    ("handler1", "return", "not_found"),
    ("secretary1", "reassign", "not_found"),  # another community
    ("street1", "supervise", "not_found"),
    ("window0", "reassign", "forbidden"),  # intake staff see it but do not dispatch
    ("grid0", "accept", "forbidden"),  # sees it (own grid) but it is assigned to the unit, not them
    ("auditor", "comment", "not_found"),
    ("admin", "supervise", "not_found"),
]


def test_actions_outside_the_actors_relation_are_refused(world: World, assigned: Case) -> None:
    for name, action, code in REFUSALS:
        with pytest.raises(CaseError) as err:
            case_transition(case_id=assigned.pk, action=action, actor=getattr(world, name), note="x")
        assert err.value.code == code, (name, action)
        assert err.value.status == (404 if code == "not_found" else 403)
        assert Case.objects.get(pk=assigned.pk).status == assigned.status


def test_may_view_agrees_with_for_user_for_every_user_and_case(world: World) -> None:
    cases = [submit(world, grid=g, in_estate=g % 2 == 0) for g in range(8)]
    cases.append(
        case_submit(
            text="路灯坏了",
            channel="resident",
            reporter=world.resident2,
            community_id=world.d.communities[3].pk,
        ).case
    )
    case_assign(case_id=cases[2].pk, actor=world.secretary1, unit_id=world.unit1.pk)
    case_assign(case_id=cases[0].pk, actor=world.secretary0, assignee_id=world.grid0.pk)
    users = [world.resident, world.resident2, *world.staff()]
    for user in users:
        visible = set(Case.objects.for_user(user).values_list("pk", flat=True))
        for case in Case.objects.all():
            assert (case.pk in visible) == case_may_view(user, case), (user, case.number)


def test_the_offered_actions_are_exactly_those_the_table_allows(world: World, assigned: Case) -> None:
    """What ``case_actions_for_user`` lists succeeds; what it leaves out is refused."""
    users = [world.resident, world.resident2, *world.staff()]
    for user in users:
        offered = set(case_actions_for_user(user, assigned))
        for action in TRANSITIONS:
            if action in SYSTEM_ACTIONS:
                continue
            sid = transaction.savepoint()
            try:
                case_transition(case_id=assigned.pk, action=action, actor=user, note="说明")
                ok = True
            except CaseError:
                ok = False
            finally:
                transaction.savepoint_rollback(sid)
            assert ok == (action in offered), (user.username, action, offered)


def test_dispatch_queues_follow_the_level(world: World) -> None:
    low = submit(world, grid=0)
    high = submit(world, grid=1)
    case_escalate(case_id=high.pk, actor=world.secretary0, note="x")
    case_escalate(case_id=high.pk, actor=world.secretary0, note="需街道协调")

    def queue(user: object, name: str) -> set[int]:
        return set(case_queue_for_user(user, QueueFilters(queue=name)).values_list("pk", flat=True))  # type: ignore[arg-type]

    assert queue(world.secretary0, "dispatch") == {low.pk}
    assert queue(world.street0, "dispatch") == {low.pk, high.pk}
    assert queue(world.secretary1, "dispatch") == set()
    assert queue(world.street1, "dispatch") == set()
    case_assign(case_id=low.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert queue(world.handler0, "handle") == {low.pk}
    assert queue(world.handler1, "handle") == set()
    case_accept(case_id=low.pk, actor=world.handler0)
    assert queue(world.handler0, "handle") == {low.pk}
    assert queue(world.resident, "dispatch") == set()
    assert queue(world.resident, "mine") == {low.pk, high.pk}


def test_a_units_handler_has_no_part_in_a_case_not_in_their_hands(world: World) -> None:
    """The unit the rules predicted (or the one kept after 退单/升级) is no licence to act (AC-3)."""
    from linli.cases.services import case_return

    case = submit(world, grid=0)
    Case.objects.filter(pk=case.pk).update(unit=world.unit0)  # as a routing rule would predict it
    for action in ("escalate", "comment", "accept", "return", "resolve"):
        with pytest.raises(CaseError) as err:
            case_transition(case_id=case.pk, action=action, actor=world.handler0, note="不归我们管")
        assert err.value.code in ("forbidden", "invalid_transition"), action
    staff_only = set(TRANSITIONS) - {"follow"}  # "me too" is anyone's on a public case
    assert not staff_only & set(case_actions_for_user(world.handler0, Case.objects.get(pk=case.pk)))
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert "escalate" in case_actions_for_user(world.handler0, Case.objects.get(pk=case.pk))
    case_return(case_id=case.pk, actor=world.handler0, note="非本单位职责")
    returned = Case.objects.get(pk=case.pk)
    assert returned.status == "triaged"
    assert not staff_only & set(case_actions_for_user(world.handler0, returned))
    with pytest.raises(CaseError) as err:
        case_transition(case_id=case.pk, action="escalate", actor=world.handler0, note="再试一次")
    assert err.value.code in ("forbidden", "not_found")
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.level) == (returned.status, returned.level)
