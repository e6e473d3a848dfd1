"""The append-only ledger of service hours: totals are sums, corrections are negative rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.test import Client

from linli.accounts.models import User
from linli.party.errors import PartyError
from linli.party.models import HoursSource, Volunteer, VolunteerHours
from linli.party.selectors import hours_total, team_public, volunteer_ledger
from linli.party.services import hours_correct, hours_record, team_create, team_member_add, volunteer_register
from linli.party.tests.conftest import PartyWorld

DAY = dt.date(2026, 5, 18)


def volunteer(
    pw: PartyWorld, name: str = "王秀英", phone: str = "13700000001", user: User | None = None
) -> Volunteer:
    return volunteer_register(
        actor=pw.w.secretary0, name=name, community_id=pw.w.d.communities[0].pk, phone=phone, user=user
    )


def credit(pw: PartyWorld, v: Volunteer, hours: str, ref: str = "", **kw: object) -> VolunteerHours:
    fields: dict[str, object] = {
        "actor": pw.w.secretary0,
        "volunteer_id": v.pk,
        "hours": hours,
        "served_on": DAY,
        "title": "义诊志愿服务",
        "source": HoursSource.ACTIVITY,
        "source_ref": ref,
    }
    fields.update(kw)
    return hours_record(**fields).entry  # type: ignore[arg-type]


def test_the_ledger_total_is_the_sum_of_entries_and_corrections(pw: PartyWorld) -> None:
    v = volunteer(pw)
    a = credit(pw, v, "3", "activity:yizhen-0518")
    credit(pw, v, "2.5", "task:daiban-17", source=HoursSource.TASK, title="代办社保认证")
    credit(pw, v, "1.25", "case:2026051800012", source=HoursSource.CASE, title="协助清理楼道")
    fix = hours_correct(actor=pw.w.secretary0, entry_id=a.pk, hours="1", reason="实际服务2小时")
    ledger = volunteer_ledger(v, today=DAY)
    assert (fix.hours, fix.corrects_id, fix.source) == (Decimal("-1.00"), a.pk, HoursSource.CORRECTION)
    assert ledger.total == Decimal("5.75") == hours_total(volunteer_id=v.pk)
    assert ledger.by_source == {"activity": Decimal("2.00"), "task": Decimal("2.50"), "case": Decimal("1.25")}
    assert ledger.this_year == Decimal("5.75")
    assert len(ledger.entries) == 4  # nothing was edited: the correction is a row of its own


def test_the_same_source_is_credited_once(pw: PartyWorld) -> None:
    v = volunteer(pw)
    first = hours_record(
        actor=pw.w.secretary0,
        volunteer_id=v.pk,
        hours="2",
        served_on=DAY,
        title="巡河",
        source="activity",
        source_ref="activity:xunhe",
    )
    again = hours_record(
        actor=pw.w.secretary0,
        volunteer_id=v.pk,
        hours="2",
        served_on=DAY,
        title="巡河",
        source="activity",
        source_ref="activity:xunhe",
    )
    assert first.created and not again.created and first.entry.pk == again.entry.pk
    assert hours_total(volunteer_id=v.pk) == Decimal("2.00")


def test_corrections_never_take_back_more_than_the_entry(pw: PartyWorld) -> None:
    v = volunteer(pw)
    entry = credit(pw, v, "3")
    hours_correct(actor=pw.w.secretary0, entry_id=entry.pk, hours="2", reason="多记")
    with pytest.raises(PartyError) as err:
        hours_correct(actor=pw.w.secretary0, entry_id=entry.pk, hours="1.5", reason="再扣")
    assert (err.value.code, err.value.details) == ("correction_exceeds_entry", {"left": "1.00"})
    correction = VolunteerHours.objects.get(corrects=entry)
    with pytest.raises(PartyError) as err:
        hours_correct(actor=pw.w.secretary0, entry_id=correction.pk, hours="0.5", reason="更正更正")
    assert err.value.code == "cannot_correct_correction"
    with pytest.raises(PartyError) as err:
        hours_correct(actor=pw.w.secretary0, entry_id=entry.pk, hours="0.5", reason=" ")
    assert err.value.code == "reason_required"
    assert hours_total(volunteer_id=v.pk) == Decimal("1.00")


@pytest.mark.parametrize(
    ("hours", "code"),
    [("0", "invalid_hours"), ("-2", "invalid_hours"), ("25", "too_many_hours"), ("abc", "invalid_hours")],
)
def test_impossible_hours_are_refused(pw: PartyWorld, hours: str, code: str) -> None:
    v = volunteer(pw)
    with pytest.raises(PartyError) as err:
        credit(pw, v, hours)
    assert err.value.code == code


def test_the_database_refuses_a_ledger_row_that_breaks_the_sign_rules(pw: PartyWorld) -> None:
    v = volunteer(pw)
    base = {
        "volunteer": v,
        "region_path": v.region_path,
        "title": "x",
        "served_on": DAY,
        "verified_by": pw.w.secretary0,
    }
    for bad in (
        {"source": "activity", "hours": Decimal("-1")},
        {"source": "correction", "hours": Decimal("-1")},  # a correction must point at an entry
        {"source": "activity", "hours": Decimal("30")},
    ):
        with pytest.raises(IntegrityError), transaction.atomic():
            VolunteerHours.objects.create(**base, **bad)


@pytest.mark.parametrize(
    ("who", "status"),
    [("back_office0", 403), ("street0", 403), ("secretary2", 404), ("grid0", 404), ("resident", 404)],
)
def test_only_the_communitys_managers_record_hours(pw: PartyWorld, who: str, status: int) -> None:
    """Those who may see the volunteer but not manage it are refused (403); everyone else is told the
    volunteer does not exist (404, AC-1)."""
    v = volunteer(pw)
    with pytest.raises(PartyError) as err:
        credit(pw, v, "2", actor=getattr(pw.w, who))
    assert err.value.status == status
    assert not VolunteerHours.objects.exists()


def test_a_teams_public_page_shows_totals_and_no_names(pw: PartyWorld) -> None:
    team = team_create(
        actor=pw.w.secretary0,
        community_id=pw.w.d.communities[0].pk,
        name="红马甲志愿服务队",
        description="敲门行动",
    )
    people = [volunteer(pw, name=f"张{n}明", phone=f"1370000001{n}") for n in range(3)]
    for v in people:
        team_member_add(actor=pw.w.secretary0, team_id=team.pk, volunteer_id=v.pk)
        credit(pw, v, "2", team_id=team.pk)
    entry = credit(pw, people[0], "1.5", "activity:extra", team_id=team.pk)
    hours_correct(actor=pw.w.secretary0, entry_id=entry.pk, hours="0.5", reason="提前离开")
    summary = team_public(team.pk)
    assert (summary.total_hours, summary.services, summary.members) == (
        Decimal("7.00"),
        4,
        None,
    )  # < 5 members hidden
    page = Client().get(f"/party/teams/{team.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "7.00" in text and "红马甲志愿服务队" in text and "少于5" in text
    assert not any(v.name in text for v in people)
    api = Client().get(f"/api/party/teams/{team.pk}").json()
    assert (api["total_hours"], api["members"]) == ("7.00", None)


def test_a_volunteer_sees_their_own_hours_page(pw: PartyWorld) -> None:
    v = volunteer(pw, user=pw.member_user)
    credit(pw, v, "4")
    c = Client()
    c.force_login(pw.member_user)
    page = c.get("/party/my-hours/")
    assert (
        page.status_code == 200
        and '<span class="stat-num" id="total-hours">4.00</span>' in page.content.decode()
    )
    assert c.get("/api/party/me/hours").json()["total"] == "4.00"
    other = Client()
    other.force_login(pw.w.resident)
    assert "4.00" not in other.get("/party/my-hours/").content.decode()
    assert other.get("/api/party/me/hours").status_code == 404
