"""The JSON API end to end: file a need, get suggestions, accept and reject, run a project, incubate an
organisation; refusals answer {code, message} with the right status; contacts are masked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linli.needs.models import NeedStatus, OrgKind
from linli.needs.tests.factories import NeedsWorld, make_org, make_resource

pytestmark = pytest.mark.django_db


def api(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    if method == "get":
        answer = client.get(url)
    else:
        answer = getattr(client, method)(url, data=json.dumps(body or {}), content_type="application/json")
    return answer.status_code, answer.json()


def test_a_need_goes_from_filing_to_a_project_through_the_api(world: NeedsWorld) -> None:
    client = Client()
    client.force_login(world.secretary0, backend="linli.accounts.backends.StaffPasswordBackend")
    community = world.d.communities[0]
    org = make_org(world.secretary0, community, kind=OrgKind.CO_BUILDING, name="供电公司党支部")
    near = make_resource(
        world.secretary0, community, organisation=org, name="电工义务检修", category="facilities"
    )
    other = make_resource(
        world.secretary0, community, name="楼道照明改造基金", category="facilities", kind="funds"
    )

    status, need = api(client, "post", "/api/needs/", {
        "title": "老旧小区楼道灯不亮", "category": "facilities", "source_kind": "meeting",
        "region_id": world.d.estates[0].pk, "beneficiaries": 40, "contact_phone": "13812345678",
        "contact_name": "李建国", "source_ref": "2026年11月居民议事会",
    })  # fmt: skip
    assert status == 201, need
    assert (need["contact_phone"], need["contact_name"], need["status"]) == ("138****5678", "李**", "open")

    status, suggestions = api(client, "get", f"/api/needs/{need['id']}/suggestions")
    assert status == 200 and {s["resource_id"] for s in suggestions} == {near.pk, other.pk}
    assert suggestions == sorted(suggestions, key=lambda s: (-s["score"], s["resource_id"]))

    status, refused = api(
        client, "post", f"/api/needs/{need['id']}/matches", {"resource_id": other.pk, "decision": "reject"}
    )
    assert (status, refused["code"]) == (400, "required")
    status, rejected = api(
        client,
        "post",
        f"/api/needs/{need['id']}/matches",
        {"resource_id": other.pk, "decision": "reject", "reason": "基金已用完"},
    )
    assert status == 201 and rejected["status"] == "rejected"
    status, accepted = api(
        client, "post", f"/api/needs/{need['id']}/matches", {"resource_id": near.pk, "decision": "accept"}
    )
    assert status == 201 and accepted["amount"] == 1

    status, project = api(client, "post", "/api/needs/projects", {
        "title": "楼道亮灯工程", "summary": "为老旧小区更换楼道灯", "category": "facilities",
        "community_id": community.pk, "need_ids": [need["id"]],
    })  # fmt: skip
    assert status == 201 and project["resource_ids"] == [near.pk] and project["status"] == "open"
    status, bad = api(client, "post", f"/api/needs/projects/{project['id']}/actions/start")
    assert (status, bad["code"]) == (409, "invalid_transition")
    status, claimed = api(
        client, "post", f"/api/needs/projects/{project['id']}/actions/claim", {"organisation_id": org.pk}
    )
    assert status == 200 and claimed["organisation_name"] == "供电公司党支部"
    for action, body in (("start", {}), ("report", {"text": "已更换20盏", "progress": 50}), ("complete", {})):
        status, out = api(client, "post", f"/api/needs/projects/{project['id']}/actions/{action}", body)
        assert status == 200, out
    status, done = api(client, "get", f"/api/needs/{need['id']}")
    assert done["status"] == NeedStatus.MET and [e["action"] for e in done["events"]] == [
        "create",
        "match",
        "plan",
        "meet",
    ]


def test_incubation_through_the_api(world: NeedsWorld) -> None:
    client = Client()
    client.force_login(world.secretary0, backend="linli.accounts.backends.StaffPasswordBackend")
    status, org = api(client, "post", "/api/needs/organisations", {
        "name": "邻里互助社", "kind": "social_org", "region_id": world.d.communities[0].pk, "focus": "service",
        "contact_phone": "0816-2345678",
    })  # fmt: skip
    assert status == 201 and org["incubation_stage"] == "none" and "2345678" not in org["contact_phone"]
    status, out = api(
        client, "post", f"/api/needs/organisations/{org['id']}/incubation/apply", {"note": "申请入孵"}
    )
    assert status == 200 and out["incubation_stage"] == "applied"
    status, out = api(client, "post", f"/api/needs/organisations/{org['id']}/incubation/host")
    assert (status, out["code"]) == (409, "invalid_transition")
    status, out = api(client, "post", f"/api/needs/organisations/{org['id']}/incubation/teleport")
    assert (status, out["code"]) == (400, "unknown_action")


def test_the_api_refuses_residents_and_anonymous_callers(world: NeedsWorld) -> None:
    assert Client().get("/api/needs/").status_code == 401
    resident = Client()
    resident.force_login(world.resident)
    answer = resident.get("/api/needs/")
    assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert Client().get("/api/needs/public/nope").status_code == 404
