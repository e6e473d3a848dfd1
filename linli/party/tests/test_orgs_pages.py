"""The organisation tree's rules, the staff pages and API, and who sees what (AC-1, PI-2)."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.party.errors import PartyError
from linli.party.models import OrgKind, PartyMember
from linli.party.selectors import org_tree_for_user
from linli.party.services import checkin_register, party_member_create, party_org_create
from linli.party.tests.conftest import PartyWorld
from linli.security.models import AuditEvent


def client_for(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def test_the_tree_runs_committee_branch_group_household(pw: PartyWorld) -> None:
    member = party_member_create(
        actor=pw.w.secretary0,
        name="赵大妈",
        community_id=pw.w.d.communities[0].pk,
        phone="13600000001",
        org_id=pw.group.pk,
    )
    household = party_org_create(
        actor=pw.w.secretary0,
        kind=OrgKind.HOUSEHOLD,
        name="赵大妈党员中心户",
        region_id=pw.w.d.buildings[0].pk,
        parent_id=pw.group.pk,
        leader_id=member.pk,
    )
    (root,) = org_tree_for_user(pw.w.secretary0)
    assert root.org == pw.committee
    assert [n.org for n in root.children] == [pw.branch]
    assert [n.org for n in root.children[0].children] == [pw.group]
    group = root.children[0].children[0]
    assert [n.org for n in group.children] == [household] and group.members == 1
    assert [n.org.pk for n in org_tree_for_user(pw.w.street0)] == [pw.committee.pk]
    assert org_tree_for_user(pw.w.window0) == []


@pytest.mark.parametrize(
    ("kind", "region", "parent", "code"),
    [
        (OrgKind.BRANCH, "communities", "committee", "invalid_region"),  # a branch sits on an estate
        (OrgKind.GROUP, "buildings", "committee", "invalid_parent"),  # a group's parent is a branch
        (OrgKind.BRANCH, "estates2", "committee", "region_outside_parent"),  # another community's estate
        (OrgKind.COMMITTEE, "communities", None, "org_exists"),  # one committee per community
        ("cell", "communities", None, "invalid_kind"),
    ],
    ids=["branch-on-community", "group-under-committee", "estate-elsewhere", "second-committee", "bad-kind"],
)
def test_the_tree_refuses_nodes_that_break_its_rules(
    pw: PartyWorld, kind: str, region: str, parent: str | None, code: str
) -> None:
    regions = {
        "communities": pw.w.d.communities[0],
        "buildings": pw.w.d.buildings[0],
        "estates2": pw.w.d.estates[4],
    }
    with pytest.raises(PartyError) as err:
        party_org_create(
            actor=pw.w.secretary0,
            kind=kind,
            name="新组织",
            region_id=regions[region].pk,
            parent_id=getattr(pw, parent).pk if parent else None,
        )
    assert err.value.code == code


def test_only_the_communitys_manager_builds_its_tree(pw: PartyWorld) -> None:
    with pytest.raises(PartyError) as err:
        party_org_create(
            actor=pw.w.secretary2,
            kind=OrgKind.BRANCH,
            name="越权支部",
            region_id=pw.w.d.estates[1].pk,
            parent_id=pw.committee.pk,
        )
    assert err.value.code == "not_allowed"


def test_the_staff_pages_render_with_masked_phones(pw: PartyWorld) -> None:
    party_member_create(
        actor=pw.w.secretary0, name="赵大妈", community_id=pw.w.d.communities[0].pk, phone="13600000001"
    )
    c = client_for(pw.w.secretary0)
    for url in (
        "/party/manage/",
        "/party/manage/checkins/",
        "/party/manage/members/",
        "/party/manage/volunteers/",
        "/party/manage/hours/new/",
    ):
        assert c.get(url).status_code == 200, url
    members = c.get("/party/manage/members/").content.decode()
    assert "赵大妈" in members and "136****0001" in members and "13600000001" not in members
    back_office = client_for(pw.w.back_office0).get("/party/manage/members/").content.decode()
    assert "赵**" in back_office and "赵大妈" not in back_office  # may view, may not reveal
    assert client_for(pw.w.back_office0).get("/party/manage/hours/new/").status_code == 404


@pytest.mark.parametrize("who", ["window0", "grid0", "resident", "secretary2"])
def test_people_outside_the_party_scope_see_nothing(pw: PartyWorld, who: str) -> None:
    member = party_member_create(
        actor=pw.w.secretary0, name="赵大妈", community_id=pw.w.d.communities[0].pk, phone="13600000001"
    )
    check_in = checkin_register(
        user=pw.member_user,
        community_id=pw.w.d.communities[0].pk,
        name="李卫东",
        employer="区税务局",
        commitments=[("volunteer", "楼道清洁")],
    )
    c = client_for(getattr(pw.w, who))
    assert not PartyMember.objects.for_user(getattr(pw.w, who)).filter(pk=member.pk).exists()
    assert c.get("/api/party/checkins").json()["items"] == []
    assert pw.committee.pk not in [o["id"] for o in c.get("/api/party/orgs").json()]
    act = c.post(f"/api/party/checkins/{check_in.pk}/confirm", {}, content_type="application/json")
    assert act.status_code == 404
    if who != "secretary2":
        assert c.get("/party/manage/").status_code == 404
    page = c.get("/party/manage/checkins/").content.decode() if who == "secretary2" else ""
    assert "李卫东" not in page and "李**" not in page


def test_a_resident_checks_in_through_the_page_and_follows_it(pw: PartyWorld) -> None:
    c = client_for(pw.member_user)
    form = {
        "name": "李卫东",
        "community": pw.w.d.communities[0].pk,
        "employer": "区税务局",
        "employer_org": "机关党支部",
        "kind_1": "volunteer",
        "text_1": "每月参加一次楼道清洁",
        "kind_2": "skill",
        "text_2": "",
        "kind_3": "other",
        "text_3": "",
    }
    assert c.post("/party/checkin/", form).status_code == 302
    page = c.get("/party/checkin/").content.decode()
    assert "已报到待确认" in page and "每月参加一次楼道清洁" in page
    again = c.post("/party/checkin/", form)
    assert again.status_code == 422 and "请勿重复报到" in again.content.decode()
    secretary = client_for(pw.w.secretary0)
    check_in_id = secretary.get("/api/party/checkins?status=registered").json()["items"][0]["id"]
    done = secretary.post(f"/party/manage/checkins/{check_in_id}/confirm/", {"assigned_org": pw.branch.pk})
    assert done.status_code == 302
    assert "社区已确认" in c.get("/party/checkin/").content.decode()
    api = secretary.post(f"/api/party/checkins/{check_in_id}/activate", {}, content_type="application/json")
    assert api.status_code == 200 and api.json()["status"] == "active"
    wrong = secretary.post(f"/api/party/checkins/{check_in_id}/confirm", {}, content_type="application/json")
    assert (wrong.status_code, wrong.json()["code"]) == (409, "transition_not_allowed")
    assert not AuditEvent.objects.filter(action="pii.reveal").exists()
