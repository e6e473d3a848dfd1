"""Grid workers and stewards: the recruitment table (every allowed move leaves an event, every other move
is refused), and what the public 三亮 card and photo show for each status."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from PIL import Image

from linli.people.errors import PeopleError
from linli.people.models import Steward, StewardEvent, StewardKind, StewardStatus
from linli.people.services import steward_photo_set, steward_register
from linli.people.tests.factories import People
from linli.people.transitions import TRANSITIONS, steward_transition
from linli.places.tests.factories import SmallDistrict


def _steward_in(status: str, d: SmallDistrict) -> Steward:
    steward = steward_register(
        actor=None,
        kind=StewardKind.STUDENT,
        name="林晓",
        community=d.communities[0],
        duty="教老人用手机",
        duty_phone="13911112222",
    )
    Steward.objects.filter(pk=steward.pk).update(status=status)  # tests only: every status as a start
    steward.refresh_from_db()
    return steward


@pytest.mark.django_db
@pytest.mark.parametrize("status", StewardStatus.values)
@pytest.mark.parametrize("action", sorted(TRANSITIONS))
def test_every_status_and_action_pair_follows_the_table(
    small_district: SmallDistrict, status: str, action: str
) -> None:
    steward = _steward_in(status, small_district)
    rule = TRANSITIONS[action]
    events = StewardEvent.objects.filter(steward=steward).count()
    if status in rule.sources:
        after = steward_transition(steward_id=steward.pk, action=action, actor=None, note="联审会议")
        assert after.status == rule.target
        event = StewardEvent.objects.filter(steward=steward).order_by("-id").first()
        assert event is not None and (event.action, event.from_status, event.to_status) == (
            action,
            status,
            rule.target,
        )
    else:
        with pytest.raises(PeopleError) as exc:
            steward_transition(steward_id=steward.pk, action=action, actor=None)
        assert exc.value.code == "invalid_transition"
        steward.refresh_from_db()
        assert steward.status == status and StewardEvent.objects.filter(steward=steward).count() == events


@pytest.mark.django_db
def test_the_recruitment_path_from_applied_to_the_public_card(client: Client, people: People) -> None:
    applicant = people.stewards[1]
    building = people.d.buildings[0]
    client.force_login(people.users["secretary0"])

    for action in ("vet", "activate"):
        answer = client.post(
            f"/api/people/stewards/{applicant.pk}/transition",
            {"action": action, "note": "联审通过"},
            content_type="application/json",
        )
        assert answer.status_code == 200, answer.content
    assert (
        client.put(
            f"/api/people/stewards/{applicant.pk}/buildings",
            {"building_ids": [building.pk]},
            content_type="application/json",
        ).status_code
        == 200
    )
    assert (
        client.post(
            f"/api/people/stewards/{applicant.pk}/transition",
            {"action": "vet"},
            content_type="application/json",
        ).status_code
        == 409
    )

    card = client.get(f"/api/people/buildings/{building.code}/card").json()
    assert applicant.name in [s["name"] for s in card["stewards"]]
    assert [e["action"] for e in client.get(f"/api/people/stewards/{applicant.pk}").json()["events"]] == [
        "activate",
        "vet",
        "apply",
    ]

    client.force_login(people.users["grid0"])  # sees the registry, may not manage it
    assert (
        client.post(
            f"/api/people/stewards/{applicant.pk}/transition",
            {"action": "suspend"},
            content_type="application/json",
        ).status_code
        == 404
    )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 40), (90, 90, 90)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.django_db
def test_a_photo_is_public_while_active_and_staff_only_otherwise(client: Client, people: People) -> None:
    active, applicant = people.stewards[0], people.stewards[1]
    steward_photo_set(steward_id=active.pk, file=_png())
    steward_photo_set(steward_id=applicant.pk, file=_png())

    assert client.get(f"/people/stewards/{active.pk}/photo/").status_code == 200
    assert client.get(f"/people/stewards/{applicant.pk}/photo/").status_code == 404
    client.force_login(people.users["secretary0"])
    assert client.get(f"/people/stewards/{applicant.pk}/photo/").status_code == 200
    steward_transition(steward_id=active.pk, action="suspend", actor=None)
    client.logout()
    assert client.get(f"/people/stewards/{active.pk}/photo/").status_code == 404


@pytest.mark.django_db
def test_the_card_lists_the_grid_worker_of_the_buildings_grid(client: Client, people: People) -> None:
    grid = people.d.grids[0]
    worker = steward_register(
        actor=None,
        kind=StewardKind.GRID_WORKER,
        name="马琴兰",
        community=grid.community,
        grid=grid,
        duty="第1网格网格员",
        duty_phone="0816-2345678",
        user=people.users["grid0"],
    )
    for action in ("vet", "activate"):
        steward_transition(steward_id=worker.pk, action=action, actor=None)
    building = next(b for b in people.d.buildings if b.grid_id == grid.pk)
    other = next(b for b in people.d.buildings if b.grid_id != grid.pk)

    mine = client.get(f"/api/people/buildings/{building.code}/card").json()
    theirs = client.get(f"/api/people/buildings/{other.code}/card").json()

    assert [(w["name"], w["duty_phone"]) for w in mine["grid_workers"]] == [("马琴兰", "0816 234 5678")]
    assert theirs["grid_workers"] == []


@pytest.mark.django_db
def test_registering_outside_ones_scope_is_refused_as_missing_and_audited(
    client: Client, people: People
) -> None:
    from linli.security.models import AuditEvent, AuditResult

    def denials() -> list[AuditEvent]:
        return list(
            AuditEvent.objects.filter(action="access.denied", result=AuditResult.DENIED).order_by("id")
        )

    # given secretary0, who manages community 0's stewards, and a grid worker, who may only read the registry
    client.force_login(people.users["secretary0"])
    body = {
        "kind": StewardKind.STUDENT,
        "name": "王五",
        "duty": "助老",
        "community_id": people.d.communities[1].pk,
    }
    # when the secretary registers a steward in community 1 (API)
    answer = client.post("/api/people/stewards", body, content_type="application/json")
    # then it is answered like a missing community, and the refusal is in the audit trail
    assert answer.status_code == 404, answer.content
    [row] = denials()
    assert (row.object_type, row.object_id) == ("places.region", str(people.d.communities[1].pk))
    assert not Steward.objects.filter(name="王五").exists()

    # when the grid worker posts the registry page's form
    client.force_login(people.users["grid0"])
    page = client.post("/people/stewards/", {"kind": StewardKind.STUDENT, "name": "赵六", "duty": "助老"})
    # then the same: 404, audited, nothing saved
    assert page.status_code == 404
    assert len(denials()) == 2 and denials()[-1].data["reason"] == "no_capability"
    assert not Steward.objects.filter(name="赵六").exists()
