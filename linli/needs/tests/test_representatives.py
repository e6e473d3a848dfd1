"""Organisations claim projects themselves (项目认领): staff name an organisation's representatives (组织联络人,
an account linked to the organisation, no role), and a representative sees the projects the organisation may
claim and claims one. Everything else stays closed to them; every grant and removal is audited."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from linli.accounts.tests.factories import ResidentFactory
from linli.needs.errors import NeedsError
from linli.needs.models import OrganisationMember, OrgKind, ProjectEvent, ProjectStatus
from linli.needs.services import (
    organisation_member_add,
    organisation_member_remove,
    project_claim,
    project_claim_as_organisation,
)
from linli.needs.tests.factories import NeedsWorld, make_need, make_org, make_project
from linli.notifications.models import Notification
from linli.security.models import AuditEvent, AuditResult

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def setting(world: NeedsWorld) -> tuple[Any, Any, Any, Any]:
    """A social organisation of community 0 with one representative, an open project there, and an open
    project of community 2 (another street)."""
    s = world.secretary0
    org = make_org(s, world.d.communities[0], kind=OrgKind.SOCIAL_ORG, name="向日葵公益")
    rep = ResidentFactory(display_name="周联络")
    organisation_member_add(actor=s, organisation_id=org.pk, phone=rep.phone)
    here = make_project(s, world.d.communities[0], [make_need(s, world.d.estates[0])], title="助老送餐")
    far = make_project(
        world.secretary2,
        world.d.communities[2],
        [make_need(world.secretary2, world.d.estates[4])],
        title="远处",
    )
    return org, rep, here, far


def test_a_representative_claims_an_open_project_for_their_organisation(world: NeedsWorld) -> None:
    org, rep, here, _far = setting(world)
    client = client_for(rep)

    page = client.get("/needs/my-org/")
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    body = page.content.decode()
    assert "助老送餐" in body and "远处" not in body

    answer = client.post(f"/needs/my-org/{org.pk}/projects/{here.pk}/claim/", {"note": "我们有送餐车"})
    assert answer.status_code == 302
    here.refresh_from_db()
    assert (here.status, here.organisation) == (ProjectStatus.CLAIMED, org)
    event = ProjectEvent.objects.get(project=here, action="claim")
    assert (event.actor, event.data["by"], event.note) == (rep, "organisation", "我们有送餐车")
    assert Notification.objects.filter(recipient=world.secretary0, kind="needs.project.claim").count() == 1
    # Now it is the organisation's own project, listed as such and no longer claimable.
    mine = json.loads(client.get("/api/needs/my-organisations").content)
    assert [p["id"] for p in mine[0]["claimed"]] == [here.pk] and mine[0]["claimable"] == []


def test_what_a_representative_may_not_claim_is_refused(world: NeedsWorld) -> None:
    org, rep, here, far = setting(world)
    other_org = make_org(world.secretary0, world.d.communities[0], name="别的组织")

    for project, organisation in ((far, org), (here, other_org)):
        with pytest.raises(NeedsError) as refused:
            project_claim_as_organisation(user=rep, project_id=project.pk, organisation_id=organisation.pk)
        assert refused.value.status == 404
    # Claimed by someone else: no longer visible to it; its own claim again: a state error.
    project_claim(actor=world.secretary0, project_id=here.pk, organisation_id=other_org.pk)
    with pytest.raises(NeedsError) as taken:
        project_claim_as_organisation(user=rep, project_id=here.pk, organisation_id=org.pk)
    assert taken.value.status == 404
    mine = make_project(
        world.secretary0, world.d.communities[0], [make_need(world.secretary0, world.d.estates[0])]
    )
    project_claim_as_organisation(user=rep, project_id=mine.pk, organisation_id=org.pk)
    with pytest.raises(NeedsError) as twice:
        project_claim_as_organisation(user=rep, project_id=mine.pk, organisation_id=org.pk)
    assert (twice.value.code, twice.value.status) == ("invalid_transition", 409)


def test_a_street_level_organisation_claims_in_every_community_of_its_street(world: NeedsWorld) -> None:
    street_org = make_org(world.street0, world.d.streets[0], kind=OrgKind.CO_BUILDING, name="供电公司")
    rep = ResidentFactory()
    organisation_member_add(actor=world.street0, organisation_id=street_org.pk, phone=rep.phone)
    in_community_1 = make_project(
        world.secretary1, world.d.communities[1], [make_need(world.secretary1, world.d.estates[2])]
    )
    project_claim_as_organisation(user=rep, project_id=in_community_1.pk, organisation_id=street_org.pk)
    in_community_1.refresh_from_db()
    assert in_community_1.organisation == street_org


def test_a_removed_representative_and_everyone_else_get_404(world: NeedsWorld) -> None:
    org, rep, here, _ = setting(world)
    member = OrganisationMember.objects.get(user=rep)
    organisation_member_remove(actor=world.secretary0, member_id=member.pk)
    stranger = ResidentFactory()
    for user in (rep, stranger, world.secretary0):
        c = client_for(user)
        assert c.get("/needs/my-org/").status_code == 404
        assert c.get("/api/needs/my-organisations").status_code == 404
        claim = c.post(
            f"/api/needs/my-organisations/{org.pk}/projects/{here.pk}/claim",
            "{}",
            content_type="application/json",
        )
        assert claim.status_code == 404
        assert c.post(f"/needs/my-org/{org.pk}/projects/{here.pk}/claim/").status_code == 404
    here.refresh_from_db()
    assert here.status == ProjectStatus.OPEN


def test_a_representative_holds_no_staff_capability(world: NeedsWorld) -> None:
    org, rep, here, _ = setting(world)
    c = client_for(rep)
    for url in ("/needs/", f"/needs/projects/{here.pk}/", f"/needs/orgs/{org.pk}/", "/api/needs/projects"):
        assert c.get(url).status_code == 404, url
    assert c.post(f"/needs/projects/{here.pk}/claim/", {"organisation": org.pk}).status_code == 404


def test_granting_and_removing_a_representative_is_audited_and_scoped(world: NeedsWorld) -> None:
    s = world.secretary0
    org = make_org(s, world.d.communities[0])
    rep = ResidentFactory()

    member = organisation_member_add(actor=s, organisation_id=org.pk, phone=rep.phone)
    again = organisation_member_add(actor=s, organisation_id=org.pk, phone=rep.phone)
    organisation_member_remove(actor=s, member_id=member.pk)
    organisation_member_remove(actor=s, member_id=member.pk)

    assert again.pk == member.pk
    rows = list(
        AuditEvent.objects.filter(
            action__in=["role.grant", "role.revoke"], object_type="needs.organisationmember"
        ).order_by("seq")
    )
    assert [(r.action, r.result, r.object_type) for r in rows] == [
        ("role.grant", AuditResult.OK, "needs.organisationmember"),
        ("role.revoke", AuditResult.OK, "needs.organisationmember"),
    ]
    assert rep.phone not in str(rows[0].data)
    for actor in (world.secretary2, world.window0, world.grid0):
        with pytest.raises(NeedsError) as refused:
            organisation_member_add(actor=actor, organisation_id=org.pk, phone=rep.phone)
        assert refused.value.status == 404
    with pytest.raises(NeedsError) as unknown:
        organisation_member_add(actor=s, organisation_id=org.pk, phone="13800009999")
    assert unknown.value.code == "account_not_found"
    with pytest.raises(NeedsError) as bad:
        organisation_member_add(actor=s, organisation_id=org.pk, phone="12345")
    assert bad.value.code == "invalid_phone"


def test_staff_manage_representatives_on_the_organisation_page_and_api(world: NeedsWorld) -> None:
    s = world.secretary0
    org = make_org(s, world.d.communities[0])
    rep = ResidentFactory(display_name="吴联络")
    c = client_for(s)

    assert c.post(f"/needs/orgs/{org.pk}/representatives/add/", {"phone": rep.phone}).status_code == 302
    page = c.get(f"/needs/orgs/{org.pk}/").content.decode()
    assert "吴**" in page and "吴联络" not in page and rep.phone not in page and "组织联络人" in page
    listed = c.get(f"/api/needs/organisations/{org.pk}/representatives").json()
    assert [(r["name"], r["phone"]) for r in listed] == [("吴**", rep.phone[:3] + "****" + rep.phone[-4:])]
    removed = c.post(f"/api/needs/organisations/{org.pk}/representatives/{listed[0]['id']}/remove", "{}",
                     content_type="application/json")  # fmt: skip
    assert removed.status_code == 200 and removed.json()["is_active"] is False
    other = client_for(world.secretary2)
    assert other.get(f"/api/needs/organisations/{org.pk}/representatives").status_code == 404
    assert (
        other.post(
            f"/api/needs/organisations/{org.pk}/representatives",
            {"phone": rep.phone},
            content_type="application/json",
        ).status_code
        == 404
    )
    assert other.post(f"/needs/orgs/{org.pk}/representatives/add/", {"phone": rep.phone}).status_code == 404


def test_the_resident_menu_shows_the_organisation_page_to_representatives_only(world: NeedsWorld) -> None:
    from django.contrib.auth.models import AnonymousUser

    from linli.core.navigation import RESIDENT, nav_links

    _org, rep, _here, _far = setting(world)
    keys = {who: {link.key for link in nav_links(RESIDENT, who)} for who in (rep, ResidentFactory())}
    assert "needs_my_org" in keys[rep]
    assert all("needs_my_org" not in k for who, k in keys.items() if who != rep)
    assert "needs_my_org" not in {link.key for link in nav_links(RESIDENT, AnonymousUser())}
