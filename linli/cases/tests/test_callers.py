"""Phone callers following a case (``CaseCaller``): added at 代客 intake, carried over by a merge, told the
outcome by SMS; the number encrypted at rest and masked everywhere it is shown."""

from __future__ import annotations

import pytest
from django.db import connection

from linli.cases.errors import CaseError, TransitionError
from linli.cases.models import Case, CaseCaller, CaseEvent, Channel, Status
from linli.cases.selectors import case_actions_for_user
from linli.cases.services import (
    case_accept,
    case_assign,
    case_caller_add,
    case_merge,
    case_resolve,
    case_submit,
)
from linli.cases.tests.factories import World, category, force_state, grid_point, submit
from linli.cases.tests.test_pages_workbench import HTMX, client_for
from linli.notifications.models import OutboxMessage

MOBILE = "13800138000"


def caller_sms(case: Case) -> list[OutboxMessage]:
    # notify's key for the callers' share of an event ends ":c", the outbox adds ":sms:p<phone key>"
    return list(
        OutboxMessage.objects.filter(
            dedup_key__startswith=f"case:{case.pk}:", dedup_key__contains=":c:sms:p", channel="sms"
        )
    )


def settle(world: World, case: Case) -> None:
    case_assign(case_id=case.pk, actor=world.secretary0, unit_id=world.unit0.pk)
    case_accept(case_id=case.pk, actor=world.handler0)
    case_resolve(case_id=case.pk, actor=world.handler0, result_text="已清运")


def test_a_window_clerk_adds_a_caller_who_is_told_the_outcome_by_sms(world: World) -> None:
    case = submit(world)
    result = case_caller_add(case_id=case.pk, phone="+86 138-0013-8000", actor=world.window0)
    assert result.created and result.phone_masked == "138****8000"
    assert result.case.follower_count == case.follower_count + 1
    row = CaseCaller.objects.get(case=case)
    assert row.phone == MOBILE and row.added_by == world.window0
    # Encrypted at rest: the column holds no plaintext, and the history names the number masked only.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT phone FROM {CaseCaller._meta.db_table} WHERE id = %s", [row.pk])  # noqa: S608
        stored = cursor.fetchone()[0]
    assert MOBILE not in stored
    event = CaseEvent.objects.get(case=case, action="caller_follow")
    assert event.data["phone"] == "138****8000" and MOBILE not in str(event.data)
    assert event.actor == world.window0 and not event.is_public

    (confirmed,) = OutboxMessage.objects.filter(dedup_key__startswith=f"case:{case.pk}:caller_follow:")
    assert confirmed.phone_display == "138****8000" and case.number in confirmed.text
    assert "办结后将短信告知您" in confirmed.text and "垃圾" not in confirmed.text  # the number, no content
    assert caller_sms(case) == []  # nothing more until the outcome
    settle(world, case)
    (sms,) = caller_sms(case)
    assert sms.phone_display == "138****8000"
    assert case.number in sms.text and "已办结" in sms.text and "来电反映" in sms.text


def test_the_same_number_twice_is_one_caller_and_one_event(world: World) -> None:
    case = submit(world)
    case_caller_add(case_id=case.pk, phone=MOBILE, actor=world.window0)
    again = case_caller_add(case_id=case.pk, phone="138 0013 8000", actor=world.back_office0)
    assert not again.created
    assert CaseCaller.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, action="caller_follow").count() == 1
    assert OutboxMessage.objects.filter(dedup_key__contains=":caller_follow:").count() == 1  # one SMS
    assert Case.objects.get(pk=case.pk).follower_count == case.follower_count + 1


def test_an_anonymous_reporters_own_mobile_is_not_added_as_a_caller(world: World) -> None:
    case = case_submit(
        text="楼道灯坏了",
        channel=Channel.WINDOW,
        filed_by=world.window0,
        community_id=world.d.communities[0].pk,
        contact_phone="138 0013 8000",
    ).case
    result = case_caller_add(case_id=case.pk, phone=MOBILE, actor=world.window0)
    assert not result.created  # they hear of every public step already, as its reporter
    assert not CaseCaller.objects.exists()
    assert not CaseEvent.objects.filter(case=case, action="caller_follow").exists()


@pytest.mark.parametrize("phone", ["010-12345678", "", "1380013800x"])
def test_only_a_mobile_can_be_added_and_nothing_is_saved_otherwise(world: World, phone: str) -> None:
    case = submit(world)
    with pytest.raises(CaseError) as refused:
        case_caller_add(case_id=case.pk, phone=phone, actor=world.window0)
    assert refused.value.code == "invalid_mobile"
    assert not CaseCaller.objects.exists()
    assert not CaseEvent.objects.filter(action="caller_follow").exists()


def test_only_intake_staff_who_see_the_case_and_only_while_it_is_open(world: World) -> None:
    case = submit(world)
    # A resident has no intake: a staff step on a case is not there for them (404), public or not.
    for public in (False, True):
        Case.objects.filter(pk=case.pk).update(is_public=public)
        with pytest.raises(CaseError) as hidden:
            case_caller_add(case_id=case.pk, phone=MOBILE, actor=world.resident2)
        assert hidden.value.status == 404
    # Staff who may see the case but have no intake at the case's place: the auditor reads only.
    with pytest.raises(CaseError) as auditor:
        case_caller_add(case_id=case.pk, phone=MOBILE, actor=world.auditor)
    assert auditor.value.status in (403, 404)
    # Another street's case is not the window's to see.
    elsewhere = submit(world, grid=7)
    with pytest.raises(CaseError) as outside:
        case_caller_add(case_id=elsewhere.pk, phone=MOBILE, actor=world.window0)
    assert outside.value.status == 404
    # Settled: nothing left to follow.
    force_state(case, Status.CLOSED)
    with pytest.raises(TransitionError) as closed:
        case_caller_add(case_id=case.pk, phone=MOBILE, actor=world.window0)
    assert closed.value.status == 409
    assert not CaseCaller.objects.exists()


def test_a_merged_hotline_case_passes_its_caller_to_the_original(world: World) -> None:
    original = submit(world)
    duplicate = case_submit(
        text="门口垃圾没人清",
        channel=Channel.HOTLINE,
        filed_by=world.window0,
        category_id=category("city.litter").pk,
        community_id=world.d.communities[0].pk,
        contact_phone="139 1234 5678",
    ).case
    case_caller_add(case_id=duplicate.pk, phone=MOBILE, actor=world.window0)
    case_merge(case_id=duplicate.pk, actor=world.secretary0, duplicate_of_id=original.pk)
    assert sorted(CaseCaller.objects.filter(case=original).values_list("phone", flat=True)) == [
        MOBILE,
        "13912345678",
    ]
    assert Case.objects.get(pk=original.pk).follower_count == original.follower_count + 2
    settle(world, original)
    assert sorted(m.phone_display for m in caller_sms(original)) == ["138****8000", "139****5678"]


def test_the_intake_panel_adds_the_caller_and_says_so(world: World) -> None:
    case = submit(world)
    c = client_for(world.window0)
    lat, lng = grid_point(world.d, 0)
    panel = c.get(
        "/cases/wb/new/similar/", {"category": category("city.litter").pk, "lat": lat, "lng": lng}, **HTMX
    ).content.decode()
    url = f"/cases/wb/{case.pk}/caller/"
    assert f'hx-post="{url}"' in panel and 'hx-include="#id_contact_phone"' in panel
    assert 'hx-target="#caller-result"' in panel  # outside the panel: its refresh keeps the answer
    assert 'id="caller-result"' in c.get("/cases/wb/new/").content.decode()

    added = c.post(url, {"contact_phone": MOBILE}, **HTMX).content.decode()
    assert "已登记" in added and "138****8000" in added and case.number in added and MOBILE not in added
    twice = c.post(url, {"contact_phone": MOBILE}, **HTMX).content.decode()
    assert "无需重复登记" in twice
    landline = c.post(url, {"contact_phone": "010-12345678"}, **HTMX)
    assert landline.status_code == 200 and "手机号码" in landline.content.decode()
    # The case page lists the callers, masked.
    detail = c.get(f"/cases/wb/{case.pk}/").content.decode()
    assert "来电关注人" in detail and "138****8000" in detail and MOBILE not in detail
    # Not for residents, nor for a case outside the clerk's area.
    assert client_for(world.resident).post(url, {"contact_phone": MOBILE}).status_code in (302, 403, 404)
    elsewhere = submit(world, grid=7)
    assert c.post(f"/cases/wb/{elsewhere.pk}/caller/", {"contact_phone": MOBILE}).status_code == 404
    assert CaseCaller.objects.count() == 1


def test_the_api_offers_and_performs_the_step(world: World) -> None:
    case = submit(world)
    assert "caller_follow" in case_actions_for_user(world.window0, case)
    assert "caller_follow" not in case_actions_for_user(world.resident, case)
    answer = client_for(world.window0).post(
        f"/api/cases/{case.pk}/actions/caller_follow", data={"phone": MOBILE}
    )
    assert answer.status_code == 200
    assert answer.json()["case"]["follower_count"] == case.follower_count + 1
    bad = client_for(world.window0).post(f"/api/cases/{case.pk}/actions/caller_follow", data={"phone": "12"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_mobile"
