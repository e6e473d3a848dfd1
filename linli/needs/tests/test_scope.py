"""Scope (AC-1, AC-2): community staff see and edit only their community's lists, street staff their
street's, grid workers their grid's needs; everything else answers 404 — pages and API, reads and writes.
Also: "may view" ⇔ "is in for_user" for every user and row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.scopes import user_has_capability
from linli.core.scoping import may_view
from linli.needs.models import Need, Organisation, OrgKind, Project, Resource
from linli.needs.permissions import may_manage
from linli.needs.tests.factories import NeedsWorld, make_need, make_org, make_project, make_resource

pytestmark = pytest.mark.django_db


@dataclass
class Objects:
    needs: list[Need]
    resources: list[Resource]
    projects: list[Project]
    orgs: list[Organisation]

    def all(self) -> list[Any]:
        return [*self.needs, *self.resources, *self.projects, *self.orgs]


def build_objects(w: NeedsWorld) -> Objects:
    d, top = w.d, w.district_staff
    needs = [
        make_need(
            w.grid0, d.estates[0], contact_phone="13812345678", contact_name="王秀英"
        ),  # grid 0, community 0
        make_need(top, d.communities[1]),
        make_need(top, d.estates[5]),  # community 2, street 1
    ]
    orgs = [make_org(top, d.communities[0]), make_org(top, d.communities[2], kind=OrgKind.BUSINESS)]
    resources = [make_resource(top, d.communities[0]), make_resource(top, d.communities[2])]
    projects = [
        make_project(top, d.communities[0], [make_need(top, d.communities[0])]),
        make_project(top, d.communities[2], [make_need(top, d.communities[2])]),
    ]
    return Objects(needs, resources, projects, orgs)


def users(w: NeedsWorld) -> list[tuple[str, Any]]:
    named = [
        "secretary0", "secretary1", "secretary2", "back_office0", "window0", "street0", "district_staff",
        "grid0", "grid2", "resident", "auditor",
    ]  # fmt: skip
    return [(n, getattr(w, n)) for n in named] + [("anonymous", None)]


def client_for(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    return client


def test_staff_lists_hold_only_their_scope(world: NeedsWorld) -> None:
    objs = build_objects(world)
    n0, n1, n2 = objs.needs
    visible = {
        "secretary0": {n0.pk},
        "secretary1": {n1.pk},
        "street0": {n0.pk, n1.pk},
        "grid0": {n0.pk},
        "grid2": set(),  # community 1's grid: n1 has no grid
        "district_staff": {n0.pk, n1.pk, n2.pk},
    }
    for name, expected in visible.items():
        user = getattr(world, name)
        got = {n["id"] for n in client_for(user).get("/api/needs/?page_size=100").json()["items"]}
        assert got & {n0.pk, n1.pk, n2.pk} == expected, name
        page = client_for(user).get(reverse("needs:needs")).content.decode()
        for need in objs.needs:
            assert (f'href="/needs/{need.pk}/"' in page) == (need.pk in expected), (name, need.pk)


def test_may_view_agrees_with_for_user_for_every_user_and_row(world: NeedsWorld) -> None:
    objs = build_objects(world)
    disagreements = []
    for name, user in users(world):
        for obj in objs.all():
            listed = type(obj).objects.for_user(user).filter(pk=obj.pk).exists()
            if listed != may_view(user, obj):
                disagreements.append((name, obj))
    assert disagreements == []


def _reads(objs: Objects) -> list[tuple[str, str, Any, str]]:
    """(kind, url, object, rule) for every read endpoint and object."""
    out = []
    for n in objs.needs:
        out += [
            ("page", reverse("needs:need", args=[n.pk]), n, "view"),
            ("api", f"/api/needs/{n.pk}", n, "view"),
        ]
        out += [
            ("api", f"/api/needs/{n.pk}/suggestions", n, "manage"),
            ("api", f"/api/needs/{n.pk}/matches", n, "view"),
        ]
    for r in objs.resources:
        out += [
            ("page", reverse("needs:resource", args=[r.pk]), r, "view"),
            ("api", f"/api/needs/resources/{r.pk}", r, "view"),
        ]
    for p in objs.projects:
        out += [
            ("page", reverse("needs:project", args=[p.pk]), p, "view"),
            ("api", f"/api/needs/projects/{p.pk}", p, "view"),
        ]
    for o in objs.orgs:
        out += [
            ("page", reverse("needs:org", args=[o.pk]), o, "view"),
            ("api", f"/api/needs/organisations/{o.pk}", o, "view"),
        ]
    return out


def _writes(objs: Objects) -> list[tuple[str, str, Any, dict[str, Any]]]:
    out: list[tuple[str, str, Any, dict[str, Any]]] = []
    r0 = objs.resources[0]
    for n in objs.needs:
        out += [
            ("page", reverse("needs:need_action", args=[n.pk, "meet"]), n, {}),
            ("page", reverse("needs:need_reject", args=[n.pk, r0.pk]), n, {"reason": "不合适"}),
            ("api", f"/api/needs/{n.pk}/actions/meet", n, {}),
            (
                "api",
                f"/api/needs/{n.pk}/matches",
                n,
                {"resource_id": r0.pk, "decision": "reject", "reason": "x"},
            ),
        ]
    for r in objs.resources:
        out += [
            (
                "page",
                reverse("needs:resource_edit", args=[r.pk]),
                r,
                {"capacity": r.capacity, "is_active": "on"},
            )
        ]
    for p in objs.projects:
        out += [
            ("page", reverse("needs:project_action", args=[p.pk, "start"]), p, {}),
            ("api", f"/api/needs/projects/{p.pk}/actions/start", p, {}),
        ]
    for o in objs.orgs:
        out += [
            ("page", reverse("needs:org_incubate", args=[o.pk, "apply"]), o, {}),
            ("api", f"/api/needs/organisations/{o.pk}/incubation/apply", o, {}),
        ]
    return out


def test_every_role_endpoint_and_object_outside_scope_answers_404(world: NeedsWorld) -> None:
    """Generated role × endpoint × object triples, reads and writes: out of scope → 404 (anonymous:
    sign-in page / 401); in scope → not 404."""
    import json

    objs = build_objects(world)
    reads, writes = _reads(objs), _writes(objs)
    triples = leaks = 0
    failures = []
    for name, user in users(world):
        client = client_for(user)
        for kind, url, obj, rule in reads:
            allowed = user is not None and (
                may_view(user, obj)
                if rule == "view"
                else may_view(user, obj) and may_manage(user, obj.region_path)
            )
            answer = client.get(url)
            triples += 1
            if user is None:
                expected_status = {302} if kind == "page" else {401}
            else:
                expected_status = {200} if allowed else {404}
            if answer.status_code not in expected_status:
                failures.append((name, "GET", url, answer.status_code, expected_status))
            if not allowed and answer.status_code == 200:
                leaks += 1
        for kind, url, obj, body in writes:
            allowed = (
                user is not None
                and user_has_capability(user, "needs.manage")
                and may_manage(user, obj.region_path)
            )
            if kind == "api":
                answer = client.post(url, data=json.dumps(body), content_type="application/json")
            else:
                answer = client.post(url, data=body)
            triples += 1
            if user is None:
                ok = answer.status_code == (302 if kind == "page" else 401)
            else:
                ok = (answer.status_code == 404) != allowed
            if not ok:
                failures.append((name, "POST", url, answer.status_code, allowed))
    assert failures == []
    assert leaks == 0
    assert triples >= 500, triples


def test_filing_a_need_outside_ones_scope_is_refused(world: NeedsWorld) -> None:
    from linli.needs.errors import NeedsError

    with pytest.raises(NeedsError) as refused:
        make_need(world.secretary0, world.d.communities[1])
    assert refused.value.status == 404
    with pytest.raises(NeedsError):
        make_need(world.grid0, world.d.communities[1])
    need = make_need(world.grid0, world.d.communities[0])  # files into their own grid
    assert need.grid_id == world.d.grids[0].pk
    with pytest.raises(NeedsError):
        make_need(world.resident, world.d.communities[0])
