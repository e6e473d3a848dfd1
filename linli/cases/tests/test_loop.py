"""The closed loop end to end through the services: every step's state AND its history row."""

from __future__ import annotations

import pytest

from linli.cases.errors import CaseError, TransitionError
from linli.cases.models import Case, CaseEvent, CaseFollower, Rating, Status, Supervision
from linli.cases.services import (
    case_accept,
    case_answer,
    case_assign,
    case_close_unresolved,
    case_comment,
    case_escalate,
    case_follow,
    case_merge,
    case_publish,
    case_rate,
    case_reassign,
    case_reject,
    case_resolve,
    case_return,
    case_review,
    case_supervise,
    case_triage,
    case_withdraw,
)
from linli.cases.tests.factories import World, category, submit
from linli.notifications.models import Notification


def last_event(case: Case) -> CaseEvent:
    return CaseEvent.objects.filter(case=case).order_by("-id").first()  # type: ignore[return-value]


def test_a_report_goes_round_the_whole_loop_and_closes_satisfied(world: World) -> None:
    case = submit(world, grid=0)

    case = case_triage(case_id=case.pk, actor=world.secretary0, category_id=category("road.manhole").pk)
    assert case.status == Status.TRIAGED and case.category == category("road.manhole")
    case = case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    assert case.status == Status.ASSIGNED and case.unit_id == world.unit0.pk and case.accept_due_at
    case = case_accept(case_id=case.pk, actor=world.handler0)
    assert case.status == Status.IN_PROGRESS and case.assignee_id == world.handler0.pk
    case = case_resolve(case_id=case.pk, actor=world.handler0, result_text="已补装井盖")
    assert case.status == Status.RESOLVED and case.resolved_level == "estate" and case.resolved_at
    case = case_rate(case_id=case.pk, actor=world.resident, rating=Rating.SATISFIED, comment="很快")
    assert case.status == Status.CLOSED and case.status_category == "done" and case.closed_at
    assert case.rating == Rating.SATISFIED

    actions = list(CaseEvent.objects.filter(case=case).values_list("action", "from_status", "to_status"))
    assert actions == [
        ("submit", "", "submitted"),
        ("triage", "submitted", "triaged"),
        ("assign", "triaged", "assigned"),
        ("accept", "assigned", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("rate", "resolved", "closed"),
    ]
    # The handler heard of the assignment, the reporter of the result.
    assert Notification.objects.filter(recipient=world.handler0, kind="case.assign").exists()
    assert Notification.objects.filter(recipient=world.resident, kind="case.resolve").exists()


def test_unsatisfied_reopens_once_then_goes_to_review(world: World) -> None:
    case = submit(world)
    case = case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="已清运")

    case = case_rate(case_id=case.pk, actor=world.resident, rating=Rating.UNSATISFIED, comment="没清干净")
    assert case.status == Status.TRIAGED and case.reopen_count == 1
    assert case.resolved_at is None and case.resolved_level == ""
    assert last_event(case).action == "reopen"

    case_assign(case_id=case.pk, actor=world.secretary0)  # back to the routed unit
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="再次清运")
    case = case_rate(case_id=case.pk, actor=world.resident, rating=Rating.UNSATISFIED)
    assert case.status == Status.REVIEW and last_event(case).action == "send_to_review"

    case = case_review(case_id=case.pk, actor=world.secretary0, decision="uphold", note="现场核实已清运")
    assert case.status == Status.CLOSED and case.resolved_level == "estate"


def test_review_can_close_a_case_honestly_unresolved(world: World) -> None:
    case = submit(world)
    case = case_close_unresolved(case_id=case.pk, actor=world.secretary0, note="涉及历史遗留产权问题")
    assert case.status == Status.CLOSED_UNRESOLVED and case.status_category == "done"
    assert case.resolved_at is None


def test_return_goes_back_to_the_dispatcher_and_keeps_the_deadline(world: World) -> None:
    case = submit(world)
    due = case.resolve_due_at
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case = case_return(case_id=case.pk, actor=world.handler0, note="不属于物业职责,应由城管处理")
    assert case.status == Status.TRIAGED and case.unit_id is None and case.assignee_id is None
    assert case.resolve_due_at == due
    assert last_event(case).note == "不属于物业职责,应由城管处理"


def test_return_without_a_reason_is_refused(world: World) -> None:
    case = submit(world)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    with pytest.raises(CaseError) as err:
        case_return(case_id=case.pk, actor=world.handler0, note="  ")
    assert err.value.code == "note_required"
    assert Case.objects.get(pk=case.pk).status == Status.ASSIGNED


def test_reject_names_the_right_unit(world: World) -> None:
    case = submit(world)
    with pytest.raises(CaseError) as err:
        case_reject(case_id=case.pk, actor=world.secretary0, note="不属于本社区")
    assert err.value.code == "right_unit_required"
    case = case_reject(
        case_id=case.pk, actor=world.secretary0, note="属于供电公司", rejected_to_text="国网供电公司"
    )
    assert case.status == Status.REJECTED and case.status_category == "cancelled"
    assert case.rejected_to_text == "国网供电公司" and case.closed_at


def test_merge_makes_the_reporter_follow_the_original(world: World) -> None:
    original = submit(world)
    dup = submit(world, reporter=world.resident2)
    dup = case_merge(case_id=dup.pk, actor=world.secretary0, duplicate_of_id=original.pk)
    assert dup.status == Status.DUPLICATE and dup.duplicate_of_id == original.pk
    assert CaseFollower.objects.filter(case=original, user=world.resident2).exists()
    original.refresh_from_db()
    assert original.follower_count == 1
    assert CaseEvent.objects.filter(case=original, action="merged_in").exists()
    with pytest.raises(CaseError) as err:
        case_merge(case_id=original.pk, actor=world.secretary0, duplicate_of_id=original.pk)
    assert err.value.code == "merge_into_self"


def test_merge_passes_the_duplicates_followers_on_once_each(world: World) -> None:
    from linli.accounts.tests.factories import ResidentFactory
    from linli.cases.services import case_follow

    original = submit(world)
    dup = submit(world, reporter=world.resident2)
    neighbour, both = ResidentFactory(), ResidentFactory()
    Case.objects.filter(pk__in=[original.pk, dup.pk]).update(is_public=True)
    case_follow(case_id=dup.pk, user=neighbour)
    case_follow(case_id=dup.pk, user=both)
    case_follow(case_id=dup.pk, user=world.resident)  # the original's own reporter: not a follower of it
    case_follow(case_id=original.pk, user=both)  # already following the original
    case_merge(case_id=dup.pk, actor=world.secretary0, duplicate_of_id=original.pk)
    followers = set(CaseFollower.objects.filter(case=original).values_list("user_id", flat=True))
    assert followers == {world.resident2.pk, neighbour.pk, both.pk}
    assert Case.objects.get(pk=original.pk).follower_count == 3
    # they hear of the original's outcome
    case_answer(case_id=original.pk, actor=world.secretary0, result_text="已清运")
    told = set(Notification.objects.filter(kind="case.answer").values_list("recipient_id", flat=True))
    assert {world.resident2.pk, neighbour.pk, both.pk} <= told


def test_answer_resolves_an_inquiry_directly(world: World) -> None:
    case = submit(world, kind="inquiry", category_id=category("general.other").pk)
    case = case_answer(case_id=case.pk, actor=world.secretary0, result_text="办理时间为工作日9:00-17:30")
    assert case.status == Status.RESOLVED and case.result_text


def test_supervision_is_counted_and_told_to_the_handler(world: World) -> None:
    case = submit(world)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case = case_supervise(case_id=case.pk, actor=world.street0, note="群众反映多次,请加快", urgency="urgent")
    case = case_supervise(case_id=case.pk, actor=world.secretary0, note="再次督办", urgency="normal")
    assert case.supervision_count == 2 and case.urgency == "urgent"
    assert Supervision.objects.filter(case=case, resolved_at__isnull=True).count() == 2
    assert Notification.objects.filter(recipient=world.handler0, kind="case.supervise").count() == 2
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="已处理")
    assert not Supervision.objects.filter(case=case, resolved_at__isnull=True).exists()


def test_manual_escalation_moves_up_one_level_with_a_new_deadline(world: World) -> None:
    case = submit(world)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case = case_escalate(case_id=case.pk, actor=world.handler0, note="超出物业职权")
    assert case.level == "community" and case.status == Status.SUBMITTED and case.escalation_count == 1
    case = case_escalate(case_id=case.pk, actor=world.secretary0, note="需街道协调")
    assert case.level == "street"
    # The community no longer dispatches a street-level case.
    with pytest.raises(TransitionError) as err:
        case_escalate(case_id=case.pk, actor=world.secretary0, note="再升")
    assert err.value.code == "forbidden"
    case = case_escalate(case_id=case.pk, actor=world.street0, note="需区级部门")
    assert case.level == "district"
    with pytest.raises(TransitionError) as err:
        case_escalate(case_id=case.pk, actor=world.district_staff, note="再升")
    assert err.value.code == "top_level"
    levels = list(
        CaseEvent.objects.filter(case=case, action="escalate").values_list("from_level", "to_level")
    )
    assert levels == [("estate", "community"), ("community", "street"), ("street", "district")]


def test_reassign_to_a_grid_worker_of_the_case_grid(world: World) -> None:
    case = submit(world, grid=0)
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case = case_reassign(case_id=case.pk, actor=world.secretary0, assignee_id=world.grid0.pk, clear_unit=True)
    assert case.assignee_id == world.grid0.pk and case.unit_id is None
    with pytest.raises(CaseError) as err:
        case_reassign(case_id=case.pk, actor=world.secretary0, assignee_id=world.grid2.pk, clear_unit=True)
    assert err.value.code == "assignee_out_of_scope"
    case = case_accept(case_id=case.pk, actor=world.grid0)
    assert case.status == Status.IN_PROGRESS


def test_withdraw_comment_publish_and_follow(world: World) -> None:
    case = submit(world)
    case = case_comment(case_id=case.pk, actor=world.resident, note="补充:在3号楼东侧")
    assert last_event(case).action == "comment"
    result = case_follow(case_id=case.pk, user=world.resident2)
    assert result.created and result.case.follower_count == 1
    again = case_follow(case_id=case.pk, user=world.resident2)
    assert not again.created and again.case.follower_count == 1
    with pytest.raises(TransitionError) as err:
        case_follow(case_id=case.pk, user=world.resident)
    assert err.value.code == "own_case"
    case = case_withdraw(case_id=case.pk, actor=world.resident)
    assert case.status == Status.WITHDRAWN

    other = submit(world)
    case_answer(case_id=other.pk, actor=world.secretary0, result_text="已答复")
    other = case_publish(case_id=other.pk, actor=world.secretary0, public=False)
    assert other.is_public is False
