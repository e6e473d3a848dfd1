"""The pages: staff screens render with their filters and htmx fragments, suggestions can be accepted and
rejected from the need's page, the export is masked and audited once, a reveal is audited once, and the
public progress page shows no personal data."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.core.tests.test_pages import scan
from linli.needs.models import MatchStatus, NeedMatch, NeedStatus, OrgKind
from linli.needs.services import match_accept, project_act, project_claim, project_report
from linli.needs.tests.factories import NeedsWorld, make_need, make_org, make_project, make_resource
from linli.security.models import AuditEvent

pytestmark = pytest.mark.django_db
PHONE, NAME = "13812345678", "王秀英"


def signed_in(user: object) -> Client:
    client = Client()
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    return client


def test_the_staff_screens_render_without_inline_script_or_style(world: NeedsWorld) -> None:
    s = world.secretary0
    need = make_need(s, world.d.estates[0], contact_phone=PHONE, contact_name=NAME)
    org = make_org(s, world.d.communities[0])
    resource = make_resource(s, world.d.communities[0], organisation=org)
    project = make_project(s, world.d.communities[0], [make_need(s, world.d.communities[0])])
    client = signed_in(s)
    urls = [
        reverse("needs:needs"), reverse("needs:need_new"), reverse("needs:need", args=[need.pk]),
        reverse("needs:resources"), reverse("needs:resource_new"), reverse("needs:resource", args=[resource.pk]),
        reverse("needs:projects"), reverse("needs:project_new") + f"?community={world.d.communities[0].pk}",
        reverse("needs:project", args=[project.pk]), reverse("needs:orgs"), reverse("needs:org_new"),
        reverse("needs:org", args=[org.pk]),
    ]  # fmt: skip
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, url
        html = answer.content.decode()
        parsed = scan(html)
        assert parsed.inline_scripts == 0 and parsed.style_attrs == [] and parsed.handlers == [], url
        assert PHONE not in html and NAME not in html, url  # masked everywhere
    detail = client.get(reverse("needs:need", args=[need.pk]))
    assert "138****5678" in detail.content.decode() and detail["Cache-Control"] == "no-store"
    workbench = client.get("/").content.decode()
    assert reverse("needs:needs") in workbench  # the nav entry


def test_list_filters_answer_a_fragment_to_htmx(world: NeedsWorld) -> None:
    s = world.secretary0
    make_need(s, world.d.estates[0], title="加装电梯意愿摸排")
    make_need(s, world.d.estates[1], title="助餐点", category="elderly")
    client = signed_in(s)
    fragment = client.get(
        reverse("needs:needs"), {"category": "elderly", "q": "助餐"}, HTTP_HX_REQUEST="true"
    )
    html = fragment.content.decode()
    assert fragment.status_code == 200 and html.lstrip().startswith('<div id="rows">')
    assert "助餐点" in html and "加装电梯" not in html
    board = client.get(reverse("needs:projects"), HTTP_HX_REQUEST="true").content.decode()
    assert board.lstrip().startswith('<div id="board"')


def test_suggestions_are_accepted_and_rejected_from_the_needs_page(world: NeedsWorld) -> None:
    s = world.secretary0
    need = make_need(s, world.d.estates[0])
    first = make_resource(s, world.d.communities[0], name="助餐志愿队", capacity=1)
    second = make_resource(s, world.d.communities[0], name="家政服务", capacity=2)
    client = signed_in(s)
    page = client.get(reverse("needs:need", args=[need.pk])).content.decode()
    assert "助餐志愿队" in page and "家政服务" in page
    refused = client.post(
        reverse("needs:need_reject", args=[need.pk, second.pk]), {"reason": ""}, HTTP_HX_REQUEST="true"
    )
    assert refused.status_code == 400 and "请填写不采纳的理由" in refused.content.decode()
    rejected = client.post(
        reverse("needs:need_reject", args=[need.pk, second.pk]),
        {"reason": "距离太远"},
        HTTP_HX_REQUEST="true",
    )
    assert rejected.status_code == 200 and 'id="matching"' in rejected.content.decode()
    accepted = client.post(reverse("needs:need_accept", args=[need.pk, first.pk]), HTTP_HX_REQUEST="true")
    assert accepted.status_code == 200 and "已采纳该资源" in accepted.content.decode()
    assert 'id="need-status" hx-swap-oob="true"' in accepted.content.decode()  # the header's status follows
    assert dict(NeedMatch.objects.filter(need=need).values_list("resource_id", "status")) == {
        first.pk: MatchStatus.ACCEPTED, second.pk: MatchStatus.REJECTED,
    }  # fmt: skip
    need.refresh_from_db()
    assert need.status == NeedStatus.MATCHED


def test_the_export_is_masked_and_audited_once(world: NeedsWorld) -> None:
    s = world.secretary0
    make_need(s, world.d.estates[0], contact_phone=PHONE, contact_name=NAME, title="=HYPERLINK(1)")
    answer = signed_in(s).get(reverse("needs:needs_export"))
    body = answer.content.decode("utf-8-sig")
    assert answer.status_code == 200 and answer["Cache-Control"] == "no-store"
    assert PHONE not in body and NAME not in body and "138****5678" in body and "王**" in body
    assert "'=HYPERLINK(1)" in body  # formula escaped (IO-2)
    assert AuditEvent.objects.filter(action="data.export", actor_id=s.pk).count() == 1


def test_revealing_the_contact_phone_needs_a_reason_and_is_audited(world: NeedsWorld) -> None:
    s = world.secretary0
    need = make_need(s, world.d.estates[0], contact_phone=PHONE)
    client = signed_in(s)
    url = reverse("needs:need_reveal", args=[need.pk])
    refused = client.post(url, {"reason": ""}, HTTP_HX_REQUEST="true")
    assert refused.status_code == 400 and PHONE not in refused.content.decode()
    shown = client.post(url, {"reason": "回访居民确认服务时间"}, HTTP_HX_REQUEST="true")
    assert shown.status_code == 200 and PHONE in shown.content.decode()
    assert (
        AuditEvent.objects.filter(action="pii.reveal", object_id=str(need.pk)).count() == 2
    )  # refused + granted
    window = signed_in(world.window0)  # may view, may not reveal
    assert PHONE not in window.post(url, {"reason": "想看"}).content.decode()


def test_the_public_page_shows_progress_and_no_personal_data(world: NeedsWorld) -> None:
    s = world.secretary0
    community = world.d.communities[0]
    secret_need = make_need(
        s, world.d.estates[0], title="张大爷独居需要助浴", description="住3栋2单元501,女儿在外地",
        contact_phone=PHONE, contact_name=NAME, beneficiaries=1,
    )  # fmt: skip
    others = [make_need(s, community, beneficiaries=2) for _ in range(5)]
    org = make_org(s, community, kind=OrgKind.SOCIAL_ORG, name="向日葵公益服务中心")
    project = make_project(
        s, community, [secret_need, *others], title="银龄助浴助餐", summary="为辖区高龄老人提供上门助浴"
    )
    project_claim(actor=s, project_id=project.pk, organisation_id=org.pk)
    project_act(actor=s, project_id=project.pk, action="start")
    project_report(actor=s, project_id=project.pk, text_="已完成首批12次上门助浴", progress=70)
    project_report(
        actor=s, project_id=project.pk, text_="内部:回访王秀英家属 13812345678", progress=70, is_public=False
    )
    anonymous = Client()
    for answer in (
        anonymous.get(reverse("needs:public_community", args=[community.code])),
        anonymous.get(f"/api/needs/public/{community.code}"),
    ):
        assert answer.status_code == 200
        is_json = answer["Content-Type"].startswith("application/json")
        body = json.dumps(answer.json(), ensure_ascii=False) if is_json else answer.content.decode()
        for secret in (
            PHONE,
            "138****5678",
            NAME,
            "王**",
            "张大爷",
            "501",
            "女儿",
            "内部",
            s.username,
            str(s),
        ):
            assert secret not in body, secret
        assert "银龄助浴助餐" in body and "向日葵公益服务中心" in body and "已完成首批12次上门助浴" in body
    data = anonymous.get(f"/api/needs/public/{community.code}").json()
    assert data["needs_in_project"] == 6 and data["projects"][0]["progress"] == 70
    assert data["categories"] == [{"label": "养老助老", "total": "6", "met": "0"}]
    page = anonymous.get(reverse("needs:public_community", args=[community.code])).content.decode()
    assert scan(page).inline_scripts == 0 and scan(page).style_attrs == []
    index = anonymous.get(reverse("needs:public_index"))
    assert (
        index.status_code == 200
        and reverse("needs:public_community", args=[community.code]) in index.content.decode()
    )
    assert anonymous.get(reverse("needs:public_community", args=["nope"])).status_code == 404


def test_small_counts_are_suppressed_on_the_public_page(world: NeedsWorld) -> None:
    s = world.secretary0
    community = world.d.communities[0]
    need = make_need(s, world.d.estates[0], category="disabled", beneficiaries=2)
    resource = make_resource(s, community, category="disabled")
    match_accept(actor=s, need_id=need.pk, resource_id=resource.pk)
    data = Client().get(f"/api/needs/public/{community.code}").json()
    assert data["categories"] == [{"label": "助残服务", "total": "少于5", "met": "0"}]
    assert data["people_served"] == "0"


def test_the_public_progress_takes_a_constant_number_of_queries(
    world: NeedsWorld, django_assert_num_queries: Any
) -> None:
    from linli.needs.public import community_progress

    s = world.secretary0
    community = world.d.communities[0]
    org = make_org(s, community)
    for i in range(4):
        project = make_project(s, community, [make_need(s, community)], title=f"项目{i}")
        project_claim(actor=s, project_id=project.pk, organisation_id=org.pk)
        project_report(actor=s, project_id=project.pk, text_=f"进展{i}", progress=10 * i)
    # counts by status, counts by category, people served, projects with organisations, their updates
    with django_assert_num_queries(5):
        progress = community_progress(community=community)
    assert len(progress.projects) == 4 and all(len(p.updates) == 1 for p in progress.projects)
