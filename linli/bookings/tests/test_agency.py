"""代办/帮办: a request is a case of kind 代办 through the cases service plus its AgencyDetail; steps go in
order through their own table, each an event with actor, time and note; door-to-door only for people in
the care registry; bad input leaves nothing behind."""

from __future__ import annotations

import pytest
import time_machine

from linli.bookings.errors import BookingError, TransitionError
from linli.bookings.models import AgencyDetail, AgencyEvent, AgencyStep
from linli.bookings.services import agency_request, agency_step
from linli.bookings.tests.factories import BookingWorld, make_item
from linli.bookings.transitions import AGENCY_FLOW, AGENCY_TRANSITIONS, transition_apply
from linli.cases.models import Case, CaseKind, Channel
from linli.cases.services import case_withdraw
from linli.cases.tests.factories import case_rules_ensure
from linli.notifications.models import Notification, OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _case_rules(bw: BookingWorld) -> None:
    case_rules_ensure()  # ladder and SLA policy: a flushed database may have lost the seed rows


def _ask(bw: BookingWorld, **kw: object) -> AgencyDetail:
    args: dict[str, object] = {
        "requester": bw.resident,
        "item_id": bw.agency_item.pk,
        "text": "腿脚不便,请帮忙申领",
        "station_id": bw.station0.pk,
    }
    return agency_request(**(args | kw))  # type: ignore[arg-type]


def test_a_resident_request_is_a_case_of_kind_agency_with_its_detail(bw: BookingWorld) -> None:
    detail = _ask(bw)
    case = detail.case
    assert (case.kind, case.channel, case.reporter, case.is_public) == (
        CaseKind.AGENCY,
        Channel.RESIDENT,
        bw.resident,
        False,
    )
    assert case.community_id == bw.d.communities[0].pk  # routed to the station's community
    assert "高龄津贴申领" in case.title
    assert (detail.item, detail.station, detail.requested_by, detail.on_behalf_of) == (
        bw.agency_item,
        bw.station0,
        bw.resident,
        bw.resident,
    )
    assert (detail.step, detail.door_to_door) == (AgencyStep.REQUESTED, False)
    event = AgencyEvent.objects.get(detail=detail)
    assert (event.action, event.to_state, event.actor, event.actor_role) == (
        "request",
        "requested",
        bw.resident,
        "owner",
    )


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"item_id": "NO-SUCH"}, "unknown_service"),
        ({"item_id": "item"}, "agency_not_allowed"),
        ({"text": "  "}, "text_required"),
        ({"door_to_door": True}, "door_to_door_not_allowed"),
        ({"station_id": 999999}, "unknown_station"),
    ],
    ids=["unknown_item", "item_without_agency", "no_text", "resident_asks_door_to_door", "unknown_station"],
)
def test_bad_requests_are_refused_and_leave_no_case(
    bw: BookingWorld, kwargs: dict[str, object], code: str
) -> None:
    if kwargs.get("item_id") == "item":
        kwargs = {"item_id": bw.item.pk}
    with pytest.raises(BookingError) as info:
        _ask(bw, **kwargs)
    assert info.value.code == code and info.value.message
    assert not Case.objects.exists()
    assert not AgencyDetail.objects.exists()


def test_a_grid_worker_files_a_door_to_door_request_for_a_resident_in_the_care_registry(
    bw: BookingWorld,
) -> None:
    detail = _ask(
        bw,
        requester=bw.grid0,
        station_id=None,
        beneficiary_phone=bw.resident.phone,
        beneficiary_name="张三丰",
        door_to_door=True,
        in_care_registry=True,
        care_note="独居,红色关爱对象",
    )
    case = detail.case
    assert (case.channel, case.filed_by, case.reporter) == (Channel.GRID_PATROL, bw.grid0, bw.resident)
    assert case.community_id == bw.d.communities[0].pk  # the grid worker's community
    assert detail.on_behalf_of == bw.resident  # linked to the resident's account by phone
    assert (detail.door_to_door, detail.in_care_registry, detail.grid_id) == (True, True, bw.d.grids[0].pk)
    assert detail.events.get().actor_role == "staff"
    # the resident sees it among their requests; the grid worker reaches it through their grid
    assert AgencyDetail.objects.for_user(bw.resident).filter(pk=detail.pk).exists()
    assert AgencyDetail.objects.for_user(bw.grid0).filter(pk=detail.pk).exists()


def test_door_to_door_needs_the_care_registry_even_for_staff(bw: BookingWorld) -> None:
    with pytest.raises(BookingError) as info:
        _ask(bw, requester=bw.grid0, beneficiary_name="王奶奶", door_to_door=True)
    assert info.value.code == "door_to_door_not_allowed"
    with pytest.raises(BookingError) as info:
        _ask(bw, requester=bw.grid0)  # nobody named
    assert info.value.code == "beneficiary_required"
    assert not Case.objects.exists()


def test_a_retried_request_with_the_same_key_makes_one_case(bw: BookingWorld) -> None:
    first = _ask(bw, idempotency_key="agency-retry-0001")
    again = _ask(bw, idempotency_key="agency-retry-0001")
    assert first.pk == again.pk
    assert Case.objects.count() == AgencyDetail.objects.count() == 1


def test_steps_go_in_order_each_with_actor_time_and_note(
    bw: BookingWorld, clock: time_machine.Coordinates
) -> None:
    detail = _ask(bw)
    with pytest.raises(TransitionError) as info:  # cannot submit before the materials are collected
        agency_step(detail_id=detail.pk, actor=bw.window0, action="submit")
    assert info.value.code == "invalid_transition"
    for action, target, note in [
        ("collect", AgencyStep.MATERIALS_COLLECTED, "身份证复印件、户口簿已收"),
        ("submit", AgencyStep.SUBMITTED, "已递交民政办"),
        ("return_result", AgencyStep.RESULT_RETURNED, "津贴卡已送到家"),
    ]:
        clock.shift(3600)
        detail = agency_step(detail_id=detail.pk, actor=bw.window0, action=action, note=note)
        assert detail.step == target
        event = detail.events.order_by("-id").first()
        assert event is not None
        assert (event.action, event.to_state, event.actor, event.note) == (action, target, bw.window0, note)
        assert event.created_at == detail.step_at
    assert list(detail.events.values_list("to_state", flat=True)) == [
        "requested",
        "materials_collected",
        "submitted",
        "result_returned",
    ]
    assert Notification.objects.filter(recipient=bw.resident, kind__startswith="agency.").count() == 3
    assert OutboxMessage.objects.filter(recipient=bw.resident, kind="agency.return_result").count() == 1


def test_steps_are_for_staff_in_scope(bw: BookingWorld) -> None:
    detail = _ask(bw)
    with pytest.raises(BookingError) as info:
        agency_step(detail_id=detail.pk, actor=bw.window2, action="collect")  # another community
    assert info.value.status == 404
    with pytest.raises(BookingError) as info:
        agency_step(
            detail_id=detail.pk, actor=bw.resident, action="collect"
        )  # the resident cannot tick steps
    assert info.value.status == 403
    assert (
        agency_step(detail_id=detail.pk, actor=bw.secretary0, action="collect").step == "materials_collected"
    )


def test_a_withdrawn_case_takes_no_more_steps(bw: BookingWorld) -> None:
    detail = _ask(bw)
    case_withdraw(case_id=detail.case_id, actor=bw.resident)
    with pytest.raises(TransitionError) as info:
        agency_step(detail_id=detail.pk, actor=bw.window0, action="collect")
    assert info.value.code == "case_closed"


def test_every_forbidden_agency_step_raises_a_clear_error(bw: BookingWorld) -> None:
    detail = _ask(bw)
    pairs = [(s, a) for a, t in AGENCY_TRANSITIONS.items() for s in AgencyStep.values if s not in t.sources]
    assert len(pairs) == len(AGENCY_TRANSITIONS) * len(AgencyStep.values) - len(AGENCY_TRANSITIONS)
    for step, action in pairs:
        AgencyDetail.objects.filter(pk=detail.pk).update(step=step)
        with pytest.raises(TransitionError) as info:
            transition_apply(flow=AGENCY_FLOW, obj_id=detail.pk, action=action, actor=bw.window0)
        assert info.value.code == "invalid_transition", (step, action)
        assert str(AgencyStep(step).label) in info.value.message, (step, action)
    assert detail.events.count() == 1


def test_only_items_that_allow_agency_are_accepted(bw: BookingWorld) -> None:
    other = make_item(name="不可代办的事项", agency_allowed=False)
    with pytest.raises(BookingError) as info:
        _ask(bw, item_id=other.code, station_id=None)
    assert info.value.code == "agency_not_allowed"


def test_a_request_without_a_station_reaches_the_community_once_the_district_places_it(
    bw: BookingWorld,
) -> None:
    from linli.accounts.roles import Role
    from linli.accounts.tests.factories import staff_with_role
    from linli.cases.services import case_triage

    detail = _ask(bw, station_id=None)
    assert detail.case.community_id is None  # unlocated: the district dispatcher places it
    assert not AgencyDetail.objects.for_user(bw.window0).filter(pk=detail.pk).exists()
    dispatcher = staff_with_role(Role.DISTRICT_STAFF, district=bw.d)
    case_triage(case_id=detail.case_id, actor=dispatcher, community_id=bw.d.communities[0].pk)
    assert AgencyDetail.objects.for_user(bw.window0).filter(pk=detail.pk).exists()
    assert agency_step(detail_id=detail.pk, actor=bw.window0, action="collect").step == "materials_collected"
    assert not AgencyDetail.objects.for_user(bw.window2).filter(pk=detail.pk).exists()
