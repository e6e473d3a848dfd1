"""A stateful property test: random actors performing random actions (and deadlines passing) never take a
case along a path outside the transition table (QUALITY REL-4)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from linli.accounts.models import User
from linli.cases import services as svc
from linli.cases.errors import CaseError
from linli.cases.ladder import ladder_load
from linli.cases.models import STATUS_INFO, Case, CaseEvent
from linli.cases.tests.factories import World, category, submit
from linli.cases.transitions import TRANSITIONS

ACTORS = [
    "resident",
    "resident2",
    "secretary0",
    "street0",
    "district_staff",
    "handler0",
    "handler1",
    "grid0",
    "grid2",
    "window0",
]
# The actor most likely to be allowed, so walks get far into the loop; random actors test the refusals.
LIKELY = {
    "accept": "handler0",
    "return": "handler0",
    "resolve": "handler0",
    "escalate": "handler0",
    "withdraw": "resident",
    "rate_ok": "resident",
    "rate_bad": "resident",
    "comment": "resident",
    "follow": "resident2",
}


def _actions(w: World, anchor: Case) -> dict[str, Callable[[int, User], Any]]:
    manhole = category("road.manhole").pk
    return {
        "triage": lambda cid, u: svc.case_triage(case_id=cid, actor=u, category_id=manhole),
        "assign_unit": lambda cid, u: svc.case_assign(case_id=cid, actor=u, unit_id=w.unit0.pk),
        "assign_grid": lambda cid, u: svc.case_assign(case_id=cid, actor=u, assignee_id=w.grid0.pk),
        "reassign": lambda cid, u: svc.case_reassign(case_id=cid, actor=u, unit_id=w.unit0.pk),
        "reject": lambda cid, u: svc.case_reject(
            case_id=cid, actor=u, note="不属于", rejected_to_text="供电公司"
        ),
        "merge": lambda cid, u: svc.case_merge(case_id=cid, actor=u, duplicate_of_id=anchor.pk),
        "answer": lambda cid, u: svc.case_answer(case_id=cid, actor=u, result_text="已答复"),
        "accept": lambda cid, u: svc.case_accept(case_id=cid, actor=u),
        "return": lambda cid, u: svc.case_return(case_id=cid, actor=u, note="非本单位职责"),
        "resolve": lambda cid, u: svc.case_resolve(case_id=cid, actor=u, result_text="已处理"),
        "escalate": lambda cid, u: svc.case_escalate(case_id=cid, actor=u, note="超出职权"),
        "supervise": lambda cid, u: svc.case_supervise(case_id=cid, actor=u, note="请加快", urgency="urgent"),
        "withdraw": lambda cid, u: svc.case_withdraw(case_id=cid, actor=u),
        "rate_ok": lambda cid, u: svc.case_rate(case_id=cid, actor=u, rating="satisfied"),
        "rate_bad": lambda cid, u: svc.case_rate(case_id=cid, actor=u, rating="unsatisfied"),
        "review_uphold": lambda cid, u: svc.case_review(case_id=cid, actor=u, decision="uphold", note="核实"),
        "review_redo": lambda cid, u: svc.case_review(case_id=cid, actor=u, decision="redo", note="重新交办"),
        "close_unresolved": lambda cid, u: svc.case_close_unresolved(case_id=cid, actor=u, note="无法解决"),
        "publish": lambda cid, u: svc.case_publish(case_id=cid, actor=u, public=True),
        "comment": lambda cid, u: svc.case_comment(case_id=cid, actor=u, note="补充"),
        "follow": lambda cid, u: svc.case_follow(case_id=cid, user=u),
    }


def test_random_walks_stay_inside_the_table(world: World) -> None:
    anchor = submit(world, grid=0)
    actions = _actions(world, anchor)
    ladder = ladder_load()

    class CaseMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.case = submit(world, grid=0)
            self.events = CaseEvent.objects.filter(case=self.case).count()
            self.now = timezone.now()

        def _snapshot(self) -> tuple[str, str, int]:
            c = Case.objects.get(pk=self.case.pk)
            return c.status, c.level, CaseEvent.objects.filter(case=c).count()

        def _check_new_events(self, before: tuple[str, str, int]) -> None:
            status, level, count = self._snapshot()
            new = list(CaseEvent.objects.filter(case=self.case).order_by("id")[before[2] :])
            assert len(new) == count - before[2]
            prev_status, prev_level = before[0], before[1]
            for event in new:
                t = TRANSITIONS[event.action]
                assert event.from_status == prev_status, (event.action, event.from_status, prev_status)
                assert prev_status in t.sources, (event.action, prev_status)
                assert event.to_status == (t.target or prev_status)
                assert ladder.rank(event.to_level) >= ladder.rank(prev_level)
                prev_status, prev_level = event.to_status, event.to_level
            assert (prev_status, prev_level) == (status, level)

        @rule(action=st.sampled_from(sorted(actions)), actor=st.sampled_from(ACTORS), likely=st.booleans())
        def act(self, action: str, actor: str, likely: bool) -> None:
            if likely:
                actor = LIKELY.get(action, "district_staff")
            before = self._snapshot()
            try:
                actions[action](self.case.pk, getattr(world, actor))
            except CaseError:
                assert self._snapshot() == before  # a refusal changes nothing
                return
            after = self._snapshot()
            assert after[2] > before[2] or action == "follow"  # every change leaves a history row
            self._check_new_events(before)

        @rule(choice=st.booleans())
        def advance(self, choice: bool) -> None:
            """The loop's natural next step by the right person: walks get far, not just refused."""
            status = Case.objects.values_list("status", flat=True).get(pk=self.case.pk)
            step = {
                "submitted": ("assign_unit", "district_staff"),
                "triaged": ("assign_unit", "district_staff"),
                "assigned": ("accept", "handler0"),
                "in_progress": ("resolve", "handler0"),
                "resolved": ("rate_bad" if choice else "rate_ok", "resident"),
                "review": ("review_redo" if choice else "review_uphold", "district_staff"),
            }.get(status)
            if step is not None:
                self.act(step[0], step[1], likely=False)

        @rule(days=st.integers(min_value=1, max_value=40))
        def time_passes(self, days: int) -> None:
            before = self._snapshot()
            self.now += timedelta(days=days)
            svc.cases_sweep_sla(now=self.now)
            self._check_new_events(before)

        @invariant()
        def status_is_known_and_category_matches(self) -> None:
            c = Case.objects.get(pk=self.case.pk)
            assert STATUS_INFO[c.status].category == c.status_category

    run_state_machine_as_test(
        CaseMachine,
        settings=settings(
            max_examples=15,
            stateful_step_count=25,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )
    # The walk must have reached the far end of the loop, or the property above proved little.
    reached = set(CaseEvent.objects.values_list("action", flat=True))
    assert {"assign", "accept", "resolve", "escalate_timed"} <= reached, reached
