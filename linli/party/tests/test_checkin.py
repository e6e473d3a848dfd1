"""我是党员我报到: the check-in flow and its transition table (REL-4 style: every forbidden pair refused)."""

from __future__ import annotations

import pytest

from linli.notifications.models import Notification
from linli.party.errors import CheckInTransitionError, PartyError
from linli.party.models import CheckIn, CheckInEvent, CheckInStatus, CommitmentKind, PartyMember, Volunteer
from linli.party.services import (
    checkin_activate,
    checkin_confirm,
    checkin_register,
    checkin_reject,
    checkin_withdraw,
    commitment_fulfil,
)
from linli.party.tests.conftest import PartyWorld
from linli.party.transitions import TRANSITIONS

COMMITMENTS = [
    (CommitmentKind.VOLUNTEER, "每月参加一次楼道清洁"),
    (CommitmentKind.SKILL, "为老人提供免费法律咨询"),
]


def register(pw: PartyWorld, **kw: object) -> CheckIn:
    fields: dict[str, object] = {
        "user": pw.member_user,
        "community_id": pw.w.d.communities[0].pk,
        "name": "李卫东",
        "employer": "区税务局",
        "employer_org": "区税务局机关党支部",
        "commitments": COMMITMENTS,
    }
    fields.update(kw)
    return checkin_register(**fields)  # type: ignore[arg-type]


def events(c: CheckIn) -> list[tuple[str, str, str]]:
    return list(
        CheckInEvent.objects.filter(check_in=c)
        .order_by("id")
        .values_list("action", "from_status", "to_status")
    )


def test_a_member_registers_is_confirmed_and_activated_with_an_event_each_step(pw: PartyWorld) -> None:
    c = register(pw)
    assert c.status == CheckInStatus.REGISTERED
    member = PartyMember.objects.get(user=pw.member_user)
    assert (member.is_in_service, member.employer, member.phone) == (True, "区税务局", pw.member_user.phone)
    assert [p.text for p in c.commitments.all()] == [t for _, t in COMMITMENTS]
    checkin_confirm(check_in_id=c.pk, actor=pw.w.secretary0, assigned_org_id=pw.group.pk)
    checkin_activate(check_in_id=c.pk, actor=pw.w.secretary0)
    c.refresh_from_db()
    member.refresh_from_db()
    assert (c.status, c.assigned_org, member.org) == (CheckInStatus.ACTIVE, pw.group, pw.group)
    assert events(c) == [
        ("register", "", "registered"),
        ("confirm", "registered", "confirmed"),
        ("activate", "confirmed", "active"),
    ]
    volunteer = Volunteer.objects.get(member=member)
    assert (volunteer.user, volunteer.community_id) == (pw.member_user, pw.w.d.communities[0].pk)
    told = Notification.objects.filter(recipient=pw.member_user).values_list("kind", flat=True)
    assert sorted(told) == ["party.checkin.activate", "party.checkin.confirm"]


STATUSES = [s.value for s in CheckInStatus]


@pytest.mark.parametrize("action", sorted(TRANSITIONS))
@pytest.mark.parametrize("status", STATUSES)
def test_the_transition_table_decides_every_status_and_action(
    pw: PartyWorld, status: str, action: str
) -> None:
    c = register(pw)
    CheckIn.objects.filter(pk=c.pk).update(status=status)  # put it in the state under test
    rule = TRANSITIONS[action]
    actor = pw.w.secretary0
    call = {
        "confirm": lambda: checkin_confirm(check_in_id=c.pk, actor=actor),
        "reject": lambda: checkin_reject(check_in_id=c.pk, actor=actor, note="不是本社区居民"),
        "activate": lambda: checkin_activate(check_in_id=c.pk, actor=actor),
        "withdraw": lambda: checkin_withdraw(check_in_id=c.pk, actor=actor, note="迁出"),
    }[action]
    before = CheckInEvent.objects.filter(check_in=c).count()
    if status in rule.sources:
        call()
        c.refresh_from_db()
        assert c.status == rule.target
        assert events(c)[-1] == (action, status, rule.target)
    else:
        with pytest.raises(CheckInTransitionError) as err:
            call()
        assert err.value.code == "transition_not_allowed"
        assert err.value.status == 409
        assert "不能" in err.value.message
        c.refresh_from_db()
        assert c.status == status
        assert CheckInEvent.objects.filter(check_in=c).count() == before


def test_the_member_may_withdraw_but_not_confirm_their_own_check_in(pw: PartyWorld) -> None:
    c = register(pw)
    with pytest.raises(CheckInTransitionError) as err:
        checkin_confirm(check_in_id=c.pk, actor=pw.member_user)
    assert (err.value.code, err.value.status) == ("not_allowed_for_actor", 403)
    checkin_withdraw(check_in_id=c.pk, actor=pw.member_user)
    c.refresh_from_db()
    assert c.status == CheckInStatus.WITHDRAWN and c.closed_at is not None


@pytest.mark.parametrize("who", ["secretary2", "grid0", "window0", "resident", "district_staff"])
def test_people_outside_the_community_cannot_act_on_the_check_in(pw: PartyWorld, who: str) -> None:
    c = register(pw)
    with pytest.raises(PartyError) as err:
        checkin_confirm(check_in_id=c.pk, actor=getattr(pw.w, who))
    assert err.value.status in (403, 404)
    c.refresh_from_db()
    assert c.status == CheckInStatus.REGISTERED


def test_street_staff_see_but_do_not_confirm(pw: PartyWorld) -> None:
    c = register(pw)
    with pytest.raises(CheckInTransitionError) as err:
        checkin_confirm(check_in_id=c.pk, actor=pw.w.street0)
    assert err.value.code == "not_allowed_for_actor"


def test_rejecting_needs_a_note(pw: PartyWorld) -> None:
    c = register(pw)
    with pytest.raises(PartyError) as err:
        checkin_reject(check_in_id=c.pk, actor=pw.w.secretary0, note="  ")
    assert err.value.code == "note_required"


def test_one_open_check_in_per_community_and_a_new_one_after_withdrawal(pw: PartyWorld) -> None:
    c = register(pw)
    with pytest.raises(PartyError) as err:
        register(pw)
    assert (err.value.code, err.value.details) == ("already_checked_in", {"check_in_id": c.pk})
    checkin_withdraw(check_in_id=c.pk, actor=pw.member_user)
    again = register(pw)
    assert again.pk != c.pk and again.status == CheckInStatus.REGISTERED


@pytest.mark.parametrize(
    ("kw", "code"),
    [
        ({"commitments": []}, "commitment_required"),
        ({"commitments": [("volunteer", "")]}, "commitment_required"),
        ({"commitments": [("nonsense", "打扫卫生")]}, "invalid_commitment_kind"),
        ({"commitments": [("volunteer", "x")] * 6}, "too_many_commitments"),
        ({"employer": ""}, "employer_required"),
        ({"name": ""}, "name_required"),
        ({"phone": "12345"}, "invalid_phone"),
    ],
    ids=["none", "blank", "bad-kind", "too-many", "no-employer", "no-name", "bad-phone"],
)
def test_bad_registrations_are_refused_with_a_clear_code(
    pw: PartyWorld, kw: dict[str, object], code: str
) -> None:
    with pytest.raises(PartyError) as err:
        register(pw, **kw)
    assert err.value.code == code
    assert CheckIn.objects.count() == 0


def test_fulfilling_a_commitment_is_recorded_once_on_an_active_check_in(pw: PartyWorld) -> None:
    c = register(pw)
    first = c.commitments.first()
    assert first is not None
    with pytest.raises(PartyError) as err:
        commitment_fulfil(commitment_id=first.pk, actor=pw.w.secretary0, note="5月18日参加楼道清洁")
    assert err.value.code == "checkin_not_active"
    checkin_confirm(check_in_id=c.pk, actor=pw.w.secretary0)
    checkin_activate(check_in_id=c.pk, actor=pw.w.secretary0)
    done = commitment_fulfil(commitment_id=first.pk, actor=pw.w.secretary0, note="5月18日参加楼道清洁")
    again = commitment_fulfil(commitment_id=first.pk, actor=pw.w.secretary0, note="重复提交")
    assert done.fulfilled_at == again.fulfilled_at and again.fulfilled_note == "5月18日参加楼道清洁"
    assert [a for a, *_ in events(c)].count("fulfil") == 1


def active_check_in(pw: PartyWorld) -> CheckIn:
    c = register(pw)
    checkin_confirm(check_in_id=c.pk, actor=pw.w.secretary0)
    checkin_activate(check_in_id=c.pk, actor=pw.w.secretary0)
    return c


def test_hours_of_a_fulfilled_commitment_flow_into_the_members_ledger_once(pw: PartyWorld) -> None:
    """践诺 with hours credits the member's volunteer record in the same transaction, one ledger row per
    commitment (a double submit or a retried request adds nothing)."""
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from linli.party.models import HoursSource, VolunteerHours

    c = active_check_in(pw)
    first, second = list(c.commitments.order_by("id"))
    day = timezone.localdate() - dt.timedelta(days=2)

    commitment_fulfil(
        commitment_id=first.pk, actor=pw.w.secretary0, note="参加楼道清洁", hours="2.5", served_on=day
    )
    commitment_fulfil(commitment_id=first.pk, actor=pw.w.secretary0, note="重复提交", hours="2.5")
    commitment_fulfil(commitment_id=second.pk, actor=pw.w.secretary0, note="已提供法律咨询")  # no hours

    volunteer = Volunteer.objects.get(user=pw.member_user)
    rows = list(VolunteerHours.objects.all())
    assert [
        (r.volunteer_id, r.commitment_id, r.source, r.hours, r.served_on, r.verified_by) for r in rows
    ] == [(volunteer.pk, first.pk, HoursSource.CHECKIN, Decimal("2.50"), day, pw.w.secretary0)]
    assert rows[0].title.startswith("践诺")


@pytest.mark.parametrize(("hours", "code"), [("0", "invalid_hours"), ("30", "too_many_hours")])
def test_bad_hours_on_a_commitment_leave_it_unfulfilled(pw: PartyWorld, hours: str, code: str) -> None:
    c = active_check_in(pw)
    first = c.commitments.order_by("id").first()
    assert first is not None
    with pytest.raises(PartyError) as err:
        commitment_fulfil(commitment_id=first.pk, actor=pw.w.secretary0, note="参加", hours=hours)
    assert err.value.code == code
    first.refresh_from_db()
    assert first.fulfilled_at is None and [a for a, *_ in events(c)].count("fulfil") == 0


def test_a_future_service_date_rolls_the_fulfilment_back(pw: PartyWorld) -> None:
    import datetime as dt

    from django.utils import timezone

    c = active_check_in(pw)
    first = c.commitments.order_by("id").first()
    assert first is not None
    with pytest.raises(PartyError) as err:
        commitment_fulfil(
            commitment_id=first.pk, actor=pw.w.secretary0, note="参加", hours="1",
            served_on=timezone.localdate() + dt.timedelta(days=1),
        )  # fmt: skip
    assert err.value.code == "served_in_future"
    first.refresh_from_db()
    assert first.fulfilled_at is None


def test_the_checkins_page_and_the_api_record_fulfilment_with_hours(pw: PartyWorld) -> None:
    from django.test import Client

    c = active_check_in(pw)
    first, second = list(c.commitments.order_by("id"))
    client = Client()
    client.force_login(pw.w.secretary0)

    page = client.get("/party/manage/checkins/?status=active").content.decode()
    assert f"/party/manage/commitments/{first.pk}/fulfil/" in page
    answer = client.post(f"/party/manage/commitments/{first.pk}/fulfil/", {"note": "清洁楼道", "hours": "2"})
    api = client.post(
        f"/api/party/commitments/{second.pk}/fulfil",
        {"note": "法律咨询", "hours": "1.5"},
        content_type="application/json",
    )
    assert answer.status_code == 302
    assert api.status_code == 200 and api.json()["ledger_entry_id"] is not None
    ledger = client.get("/api/party/me/hours")  # the secretary has no volunteer record
    assert ledger.status_code == 404
    member = Client()
    member.force_login(pw.member_user)
    mine = member.get("/api/party/me/hours").json()
    assert mine["total"] == "3.50" and {e["commitment_id"] for e in mine["entries"]} == {first.pk, second.pk}
    # Another community's secretary: as if the commitment did not exist.
    other = Client()
    other.force_login(pw.w.secretary2)
    third = c.commitments.create(kind=CommitmentKind.OTHER, text="其他承诺")
    assert other.post(f"/party/manage/commitments/{third.pk}/fulfil/", {"note": "x"}).status_code == 404
    assert (
        other.post(
            f"/api/party/commitments/{third.pk}/fulfil", {"note": "x"}, content_type="application/json"
        ).status_code
        == 404
    )
