"""AC-1: staff reading another grid's (or community's) residents, households, care records, visit photos,
stewards, exports, lookups, map layers, grids, cases and stations — and its patrol tracks and coverage
(linli.patrols), party members, volunteers, hours, certificates and check-ins (linli.party), needs,
resources, projects and organisations (linli.needs): 0 of N generated role × endpoint × object triples
succeed. Details and writes answer 404; lists (with filters tampered to point at the other grid or
community) leave the objects out. Nothing changes in the database."""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from linli.accounts.models import User
from linli.accounts.tests.factories import ResidentFactory
from linli.cases.models import Case, Channel
from linli.cases.services import case_submit
from linli.cases.tests.factories import case_rules_ensure, category, grid_point
from linli.core.scoping import may_view
from linli.needs.models import Need, Organisation, Project, ProjectService, Resource
from linli.needs.services import need_create, organisation_create, project_create, resource_create
from linli.party.models import CheckIn, Commitment, HoursCertificate, Volunteer, VolunteerHours
from linli.party.services import (
    certificate_issue,
    checkin_register,
    hours_record,
    team_create,
    team_member_add,
    volunteer_register,
)
from linli.patrols.models import Patrol, PatrolPoint
from linli.patrols.services import patrol_end, patrol_points_upload, patrol_start
from linli.patrols.tests.walks import walk
from linli.people.models import (
    CareRecord,
    CareVisit,
    Household,
    Resident,
    ResidentMove,
    Steward,
    StewardEvent,
)
from linli.people.services import care_visit_record
from linli.people.tests.factories import People, xlsx_cells
from linli.places.tests.factories import LNG0, STEP
from linli.stations.tests.factories import make_station

# user -> the grid indexes (0..7) whose people they may see
SCOPES = {
    "grid0": {0},
    "grid5": {5},
    "secretary0": {0, 1},  # community 0
    "back_office0": {0, 1},
    "window0": {0, 1},
    "street1": {4, 5, 6, 7},  # street 1 = communities 2, 3
}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@dataclass
class Community:
    """What a community holds in the party and needs apps (shared by its two grids)."""

    volunteer: Volunteer
    hours: VolunteerHours
    certificate: HoursCertificate
    check_in: CheckIn
    commitment: Commitment
    organisation: Organisation
    resource: Resource
    project: Project


@dataclass
class Grid:
    index: int
    households: list[Household]
    residents: list[Resident]
    care: CareRecord
    visit: CareVisit
    stewards: list[Steward]
    case: Case
    station_id: int
    patrol: Patrol
    need: Need
    community: Community


def _patrol(people: People, g: int) -> Patrol:
    worker = people.users[f"grid{g}"]
    started = timezone.now() - dt.timedelta(minutes=30)
    patrol = patrol_start(
        worker=worker, client_key=f"isolation-{g:04d}", grid_id=people.d.grids[g].pk, started_at=started
    ).patrol
    points = walk(started + dt.timedelta(minutes=1), steps=12, lng=LNG0 + g * STEP + 0.001)
    patrol_points_upload(patrol_id=patrol.pk, worker=worker, points=points)
    return patrol_end(patrol_id=patrol.pk, worker=worker, ended_at=points[-1].at)


def _community(people: People, c: int, need: Need) -> Community:
    secretary, community = people.users[f"secretary{c}"], people.d.communities[c]
    volunteer = volunteer_register(actor=secretary, name=f"隔离志愿者{c}", community_id=community.pk)
    team = team_create(actor=secretary, community_id=community.pk, name=f"隔离服务队{c}")
    team_member_add(actor=secretary, team_id=team.pk, volunteer_id=volunteer.pk)
    hours = hours_record(
        actor=secretary, volunteer_id=volunteer.pk, hours="2", title="楼道清洁", source="activity",
        served_on=timezone.localdate() - dt.timedelta(days=1), source_ref=f"activity:iso-{c}", team_id=team.pk,
    ).entry  # fmt: skip
    check_in = checkin_register(
        user=ResidentFactory(), community_id=community.pk, name=f"隔离党员{c}", employer=f"隔离单位{c}",
        commitments=[("volunteer", "每月参加楼道清洁")],
    )  # fmt: skip
    organisation = organisation_create(
        actor=secretary, name=f"隔离组织{c}", kind="social_org", region_id=community.pk
    )
    resource = resource_create(
        actor=secretary, name=f"隔离资源{c}", kind="services", category="elderly", provider_kind="volunteers",
        region_id=community.pk, capacity=5, volunteer_team_id=team.pk,
    )  # fmt: skip
    project = project_create(
        actor=secretary, title=f"隔离项目{c}", summary="为老人送餐", category="elderly",
        community_id=community.pk, need_ids=[need.pk],
    )  # fmt: skip
    return Community(
        volunteer=volunteer,
        hours=hours,
        certificate=certificate_issue(actor=secretary, volunteer_id=volunteer.pk),
        check_in=check_in,
        commitment=check_in.commitments.get(),
        organisation=organisation,
        resource=resource,
        project=project,
    )


def _need(people: People, g: int) -> Need:
    return need_create(
        actor=people.users[f"grid{g}"], title=f"隔离需求G{g}", category="elderly", source_kind="visit",
        region_id=people.d.estates[g].pk,
    )  # fmt: skip


def _world_extras(people: People) -> list[Grid]:
    case_rules_ensure()
    reporter = ResidentFactory()
    stations = {c.pk: make_station(region=c).pk for c in people.d.communities}
    needs = [_need(people, g) for g in range(len(people.d.grids))]
    communities = [_community(people, c, needs[2 * c]) for c in range(len(people.d.communities))]
    grids = []
    for g, grid in enumerate(people.d.grids):
        care = people.care[g]
        visit = care_visit_record(
            actor=people.users[f"grid{g}"], record_id=care.pk, kind="door", notes="已走访", photos=[_png()]
        )
        lat, lng = grid_point(people.d, g)
        case = case_submit(
            text="楼道灯坏了",
            channel=Channel.RESIDENT,
            reporter=reporter,
            category_id=category("city.litter").pk,
            lat=lat,
            lng=lng,
        ).case
        grids.append(
            Grid(
                index=g,
                households=[h for h in people.households if h.grid_id == grid.pk],
                residents=[r for r in people.residents if r.grid_id == grid.pk],
                care=care,
                visit=visit,
                stewards=[s for s in people.stewards if s.grid_id == grid.pk],
                case=case,
                station_id=stations[grid.community_id],
                patrol=_patrol(people, g),
                need=needs[g],
                community=communities[g // 2],
            )
        )
    return grids


Probe = Callable[[Client], Any]


def _detail_probes(people: People, grid: Grid) -> list[tuple[str, Probe]]:
    """(label, request) pairs that must each answer 404 for someone who may not see ``grid``."""
    household, resident, care, visit = grid.households[0], grid.residents[0], grid.care, grid.visit
    photo = visit.photos.get()
    building = household.building
    steward, applicant = grid.stewards
    grid_id = people.d.grids[grid.index].pk
    json = "application/json"
    probes: list[tuple[str, Probe]] = [
        ("api household", lambda c: c.get(f"/api/people/households/{household.pk}")),
        ("page household", lambda c: c.get(f"/people/households/{household.pk}/")),
        (
            "page move-in",
            lambda c: c.post(
                f"/people/households/{household.pk}/",
                {"name": "闯入者", "relation": "head", "registration": "hukou"},
            ),
        ),
        ("page building", lambda c: c.get(f"/people/buildings/{building.pk}/")),
        ("page building qr", lambda c: c.get(f"/people/buildings/{building.pk}/qr/")),
        (
            "api move-in",
            lambda c: c.post(
                "/api/people/residents",
                {"building_id": building.pk, "room": "999", "name": "闯入者"},
                content_type=json,
            ),
        ),
        (
            "api care open",
            lambda c: c.post(
                "/api/people/care",
                {"resident_id": resident.pk, "category_ids": [1], "level": "red"},
                content_type=json,
            ),
        ),
        ("page care open", lambda c: c.get(f"/people/care/new/{resident.pk}/")),
        (
            "api resident reveal",
            lambda c: c.post(
                f"/api/people/residents/{resident.pk}/reveal",
                {"field": "phone", "reason": "核实"},
                content_type=json,
            ),
        ),
        (
            "page resident reveal",
            lambda c: c.post(
                f"/people/residents/{resident.pk}/reveal/", {"field": "id_number", "reason": "核实"}
            ),
        ),
        (
            "api move-out",
            lambda c: c.post(
                f"/api/people/residents/{resident.pk}/move-out", {"reason": "x"}, content_type=json
            ),
        ),
        ("page move-out", lambda c: c.post(f"/people/residents/{resident.pk}/move-out/", {"reason": "x"})),
        (
            "api resident patch",
            lambda c: c.patch(f"/api/people/residents/{resident.pk}", {"name": "改名"}, content_type=json),
        ),
        ("api care", lambda c: c.get(f"/api/people/care/{care.pk}")),
        ("page care", lambda c: c.get(f"/people/care/{care.pk}/")),
        (
            "api care patch",
            lambda c: c.patch(f"/api/people/care/{care.pk}", {"level": "green"}, content_type=json),
        ),
        ("api care visit", lambda c: c.post(f"/api/people/care/{care.pk}/visits", {"kind": "phone"})),
        ("page care visit", lambda c: c.post(f"/people/care/{care.pk}/visit/", {"kind": "phone"})),
        ("page care close", lambda c: c.post(f"/people/care/{care.pk}/close/", {"reason": "x"})),
        ("page visit photo", lambda c: c.get(f"/people/care/visits/{visit.pk}/photos/{photo.pk}/")),
        ("api applicant", lambda c: c.get(f"/api/people/stewards/{applicant.pk}")),
        ("page applicant", lambda c: c.get(f"/people/stewards/{applicant.pk}/")),
        (
            "api steward transition",
            lambda c: c.post(
                f"/api/people/stewards/{steward.pk}/transition", {"action": "suspend"}, content_type=json
            ),
        ),
        (
            "page steward transition",
            lambda c: c.post(
                f"/people/stewards/{steward.pk}/", {"section": "transition", "action": "suspend"}
            ),
        ),
        ("api grid", lambda c: c.get(f"/api/places/grids/{grid_id}")),
        ("api case", lambda c: c.get(f"/api/cases/{grid.case.pk}")),
        *_patrol_probes(grid),
        *_party_probes(grid.community),
        *_needs_probes(grid),
    ]
    for other in grid.residents[1:]:
        probes.append(("api resident", lambda c, r=other: c.get(f"/api/people/residents/{r.pk}")))
        probes.append(("page resident", lambda c, r=other: c.get(f"/people/residents/{r.pk}/")))
    return probes


def _patrol_probes(grid: Grid) -> list[tuple[str, Probe]]:
    patrol, json = grid.patrol, "application/json"
    return [
        ("api patrol", lambda c: c.get(f"/api/patrols/{patrol.pk}")),
        ("page patrol", lambda c: c.get(f"/patrols/{patrol.pk}/")),
        (
            "api patrol points",
            lambda c: c.post(f"/api/patrols/{patrol.pk}/points", {"points": []}, content_type=json),
        ),
        ("api patrol end", lambda c: c.post(f"/api/patrols/{patrol.pk}/end", {}, content_type=json)),
    ]


def _party_probes(k: Community) -> list[tuple[str, Probe]]:
    v, entry, json = k.volunteer, k.hours, "application/json"
    hours = {"volunteer_id": v.pk, "hours": "1", "served_on": "2026-01-05", "title": "x", "source": "task"}
    return [
        ("page volunteer", lambda c: c.get(f"/party/manage/volunteers/{v.pk}/")),
        ("page certificate", lambda c: c.get(f"/party/certificates/{k.certificate.pk}/")),
        ("page certificate pdf", lambda c: c.get(f"/party/certificates/{k.certificate.pk}/pdf/")),
        (
            "page hours correct",
            lambda c: c.post(
                f"/party/manage/volunteers/{v.pk}/hours/{entry.pk}/correct/", {"hours": "1", "reason": "x"}
            ),
        ),
        ("page certificate issue", lambda c: c.post(f"/party/manage/volunteers/{v.pk}/certificate/")),
        ("api hours record", lambda c: c.post("/api/party/hours", hours, content_type=json)),
        (
            "api hours correct",
            lambda c: c.post(
                f"/api/party/hours/{entry.pk}/correct", {"hours": "1", "reason": "x"}, content_type=json
            ),
        ),
        (
            "api certificate issue",
            lambda c: c.post("/api/party/certificates", {"volunteer_id": v.pk}, content_type=json),
        ),
        (
            "api checkin confirm",
            lambda c: c.post(f"/api/party/checkins/{k.check_in.pk}/confirm", {}, content_type=json),
        ),
        (
            "page checkin reject",
            lambda c: c.post(f"/party/manage/checkins/{k.check_in.pk}/reject/", {"note": "x"}),
        ),
        (
            "api commitment fulfil",
            lambda c: c.post(
                f"/api/party/commitments/{k.commitment.pk}/fulfil",
                {"note": "x", "hours": "1"},
                content_type=json,
            ),
        ),
        (
            "page commitment fulfil",
            lambda c: c.post(f"/party/manage/commitments/{k.commitment.pk}/fulfil/", {"note": "x"}),
        ),
    ]


def _needs_probes(grid: Grid) -> list[tuple[str, Probe]]:
    need, k, json = grid.need, grid.community, "application/json"
    resource, project, org = k.resource, k.project, k.organisation
    volunteer_id = k.volunteer.pk
    return [
        ("api need", lambda c: c.get(f"/api/needs/{need.pk}")),
        ("page need", lambda c: c.get(f"/needs/{need.pk}/")),
        ("api need matches", lambda c: c.get(f"/api/needs/{need.pk}/matches")),
        ("api need suggestions", lambda c: c.get(f"/api/needs/{need.pk}/suggestions")),
        ("page need reveal", lambda c: c.post(f"/needs/{need.pk}/reveal/", {"reason": "核实"})),
        ("page need close", lambda c: c.post(f"/needs/{need.pk}/close/", {"note": "x"})),
        (
            "api need close",
            lambda c: c.post(f"/api/needs/{need.pk}/actions/close", {"note": "x"}, content_type=json),
        ),
        ("api resource", lambda c: c.get(f"/api/needs/resources/{resource.pk}")),
        ("page resource", lambda c: c.get(f"/needs/resources/{resource.pk}/")),
        (
            "api resource patch",
            lambda c: c.patch(f"/api/needs/resources/{resource.pk}", {"capacity": 99}, content_type=json),
        ),
        ("api project", lambda c: c.get(f"/api/needs/projects/{project.pk}")),
        ("page project", lambda c: c.get(f"/needs/projects/{project.pk}/")),
        ("api project services", lambda c: c.get(f"/api/needs/projects/{project.pk}/services")),
        (
            "api project cancel",
            lambda c: c.post(
                f"/api/needs/projects/{project.pk}/actions/cancel", {"note": "x"}, content_type=json
            ),
        ),
        (
            "api project serve",
            lambda c: c.post(
                f"/api/needs/projects/{project.pk}/services",
                {"volunteer_id": volunteer_id, "team_id": resource.volunteer_team_id, "hours": "1"},
                content_type=json,
            ),
        ),
        ("page project cancel", lambda c: c.post(f"/needs/projects/{project.pk}/cancel/", {"note": "x"})),
        ("api organisation", lambda c: c.get(f"/api/needs/organisations/{org.pk}")),
        ("page organisation", lambda c: c.get(f"/needs/orgs/{org.pk}/")),
        ("api representatives", lambda c: c.get(f"/api/needs/organisations/{org.pk}/representatives")),
        (
            "api organisation incubate",
            lambda c: c.post(f"/api/needs/organisations/{org.pk}/incubation/apply", {}, content_type=json),
        ),
    ]


def _ids(response: Any) -> set[int]:
    return {item["id"] for item in response.json()["items"]}


def _list_probes(people: People, grid: Grid) -> list[tuple[str, Callable[[Client], bool]]]:
    """(label, check) pairs: True when the list leaks nothing of ``grid`` (filters pointed at it)."""
    gid = people.d.grids[grid.index].pk
    residents = {r.pk for r in grid.residents}
    buildings = {h.building_id for h in grid.households}
    resident = grid.residents[0]
    json = "application/json"

    def export(c: Client) -> bool:
        r = c.post("/api/people/register/export", {"grid_id": gid})
        return r.status_code == 404 or len(xlsx_cells(r.content)) == 1  # header only

    def lookup(c: Client) -> bool:
        r = c.post("/api/people/residents/lookup", {"id_number": resident.id_number}, content_type=json)
        return r.status_code == 404 or r.json() == []

    def page_register(c: Client) -> bool:
        r = c.get(f"/people/?grid={gid}")
        return r.status_code == 404 or resident.household.address_label not in r.content.decode()

    return [
        (
            "api residents?grid",
            lambda c: _status_or(
                c.get(f"/api/people/residents?grid_id={gid}&status="), lambda r: not (_ids(r) & residents)
            ),
        ),
        (
            "api households?grid",
            lambda c: _status_or(c.get(f"/api/people/households?grid_id={gid}"), lambda r: not _ids(r)),
        ),
        (
            "api care?grid",
            lambda c: _status_or(c.get(f"/api/people/care?grid_id={gid}&status="), lambda r: not _ids(r)),
        ),
        (
            "api stewards?grid",
            lambda c: _status_or(c.get(f"/api/people/stewards?grid_id={gid}"), lambda r: not _ids(r)),
        ),
        ("page register?grid", page_register),
        ("api export?grid", export),
        ("api lookup by id", lookup),
        (
            "api grid-layer",
            lambda c: gid not in {f["id"] for f in c.get("/api/places/grid-layer").json()["features"]},
        ),
        ("api grids", lambda c: gid not in _ids(c.get("/api/places/grids?page_size=100"))),
        (
            "api buildings",
            lambda c: not (_ids(c.get("/api/places/regions?level=building&page_size=100")) & buildings),
        ),
        (
            "api case queue",
            lambda c: _status_or(
                c.get("/api/cases/queue?page_size=100"), lambda r: grid.case.pk not in _ids(r)
            ),
        ),
        ("page station edit", lambda c: c.get(f"/stations/manage/{grid.station_id}/").status_code == 404),
        *_patrol_lists(grid, gid),
        *_party_lists(grid.community),
        *_needs_lists(people, grid),
    ]


def _absent(url: str, marker: str) -> Callable[[Client], bool]:
    """A page that, if the user may open it at all, does not contain ``marker``."""

    def check(c: Client) -> bool:
        r = c.get(url)
        return r.status_code in (302, 404) or (r.status_code == 200 and marker not in r.content.decode())

    return check


def _patrol_lists(grid: Grid, gid: int) -> list[tuple[str, Callable[[Client], bool]]]:
    patrol = grid.patrol.pk
    return [
        (
            "api patrols",
            lambda c: _status_or(c.get("/api/patrols/?page_size=100"), lambda r: patrol not in _ids(r)),
        ),
        ("page patrols?grid", _absent(f"/patrols/?grid={gid}", f"/patrols/{patrol}/")),
        (
            "api coverage",
            lambda c: _status_or(
                c.get("/api/patrols/coverage"), lambda r: gid not in {row["grid_id"] for row in r.json()}
            ),
        ),
        ("page coverage", _absent("/patrols/coverage/", f'?grid={gid}"')),
    ]


def _party_lists(k: Community) -> list[tuple[str, Callable[[Client], bool]]]:
    check_in, volunteer = k.check_in.pk, k.volunteer.pk
    return [
        (
            "api checkins",
            lambda c: _status_or(
                c.get("/api/party/checkins?page_size=100"), lambda r: check_in not in _ids(r)
            ),
        ),
        ("page checkins", _absent("/party/manage/checkins/?status=", k.check_in.member.employer)),
        ("page members", _absent("/party/manage/members/?q=隔离党员", k.check_in.member.employer)),
        ("page volunteers", _absent("/party/manage/volunteers/", f"/party/manage/volunteers/{volunteer}/")),
    ]


def _needs_lists(people: People, grid: Grid) -> list[tuple[str, Callable[[Client], bool]]]:
    need, k = grid.need, grid.community
    cid = people.d.communities[grid.index // 2].pk
    return [
        (
            "api needs?community",
            lambda c: _status_or(
                c.get(f"/api/needs/?community_id={cid}&page_size=100"), lambda r: need.pk not in _ids(r)
            ),
        ),
        ("page needs?community", _absent(f"/needs/?community={cid}", f"/needs/{need.pk}/")),
        ("needs export", _absent(f"/needs/export.csv?community={cid}", need.title)),
        (
            "api resources",
            lambda c: _status_or(
                c.get("/api/needs/resources?page_size=100"), lambda r: k.resource.pk not in _ids(r)
            ),
        ),
        ("page resources", _absent("/needs/resources/", f"/needs/resources/{k.resource.pk}/")),
        (
            "api projects?community",
            lambda c: _status_or(
                c.get(f"/api/needs/projects?community_id={cid}&page_size=100"),
                lambda r: k.project.pk not in _ids(r),
            ),
        ),
        ("page projects", _absent("/needs/projects/", f"/needs/projects/{k.project.pk}/")),
        (
            "api organisations",
            lambda c: _status_or(
                c.get("/api/needs/organisations?page_size=100"), lambda r: k.organisation.pk not in _ids(r)
            ),
        ),
        ("page orgs", _absent("/needs/orgs/", f"/needs/orgs/{k.organisation.pk}/")),
    ]


def _status_or(response: Any, check: Callable[[Any], bool]) -> bool:
    return response.status_code == 404 or (response.status_code == 200 and check(response))


def _counts() -> tuple[int, ...]:
    return (
        Resident.objects.count(),
        ResidentMove.objects.count(),
        CareVisit.objects.count(),
        CareRecord.objects.filter(level__code="red").count(),
        StewardEvent.objects.count(),
        Resident.objects.filter(name="改名").count(),
        PatrolPoint.objects.count(),
        VolunteerHours.objects.count(),
        HoursCertificate.objects.count(),
        CheckIn.objects.filter(status="registered").count(),
        Commitment.objects.filter(fulfilled_at__isnull=True).count(),
        Need.objects.filter(status="closed").count(),
        Project.objects.filter(status="cancelled").count(),
        ProjectService.objects.count(),
        Resource.objects.filter(capacity=99).count(),
        Organisation.objects.filter(incubation_stage="none").count(),
    )


DETAIL_LABELS = [
    "api household", "page household", "page move-in", "page building", "page building qr", "api move-in",
    "api care open", "page care open", "api resident reveal", "page resident reveal", "api move-out",
    "page move-out", "api resident patch", "api care", "page care", "api care patch", "api care visit",
    "page care visit", "page care close", "page visit photo", "api applicant", "page applicant",
    "api steward transition", "page steward transition", "api grid", "api case", "api resident", "page resident",
    # patrols
    "api patrol", "page patrol", "api patrol points", "api patrol end",
    # party
    "page volunteer", "page certificate", "page certificate pdf", "page hours correct", "page certificate issue",
    "api hours record", "api hours correct", "api certificate issue", "api checkin confirm", "page checkin reject",
    "api commitment fulfil", "page commitment fulfil",
    # needs
    "api need", "page need", "api need matches", "api need suggestions", "page need reveal", "page need close",
    "api need close", "api resource", "page resource", "api resource patch", "api project", "page project",
    "api project services", "api project cancel", "api project serve", "page project cancel",
    "api organisation", "page organisation", "api representatives", "api organisation incubate",
]  # fmt: skip
LIST_LABELS = [
    "api residents?grid", "api households?grid", "api care?grid", "api stewards?grid", "page register?grid",
    "api export?grid", "api lookup by id", "api grid-layer", "api grids", "api buildings", "api case queue",
    "page station edit",
    "api patrols", "page patrols?grid", "api coverage", "page coverage",
    "api checkins", "page checkins", "page members", "page volunteers",
    "api needs?community", "page needs?community", "needs export", "api resources", "page resources",
    "api projects?community", "page projects", "api organisations", "page orgs",
]  # fmt: skip
GRIDS_PER_PAIR = 3


def generated_triples(username: str) -> list[tuple[str, int]]:
    """(endpoint label, grid index) for one user: every endpoint against GRIDS_PER_PAIR grids outside the
    user's scope, drawn by a generator seeded with the pair (the same draw on every run and worker)."""
    outside = [g for g in range(8) if g not in SCOPES[username]]
    triples = []
    for label in DETAIL_LABELS + LIST_LABELS:
        rng = random.Random(f"{username}|{label}")
        triples += [(label, g) for g in sorted(rng.sample(outside, min(GRIDS_PER_PAIR, len(outside))))]
    return triples


def test_at_least_500_role_endpoint_object_triples_are_generated() -> None:
    total = sum(len(generated_triples(u)) for u in SCOPES)
    # Each triple's object is the grid's record of that endpoint's kind (household, resident, care record,
    # visit photo, steward, building, grid, case, station) or, for lists, the grid as a filter value.
    assert total >= 500, total


@pytest.mark.django_db
@pytest.mark.parametrize("username", sorted(SCOPES))
def test_no_generated_cross_grid_triple_succeeds(people: People, username: str) -> None:
    grids = _world_extras(people)
    before = _counts()
    client = Client()
    client.force_login(people.users[username])
    leaks: list[str] = []
    triples = generated_triples(username)
    for label, index in triples:
        grid = grids[index]
        detail = dict(_detail_probes(people, grid))
        if label in detail:
            response = detail[label](client)
            if response.status_code != 404:
                leaks.append(f"{label} grid{index}: {response.status_code}")
        elif not dict(_list_probes(people, grid))[label](client):
            leaks.append(f"{label} grid{index}: leaked")
    assert leaks == [], f"{username}: {len(leaks)}/{len(triples)} triples leaked:\n" + "\n".join(leaks)
    assert _counts() == before  # the refused writes changed nothing


@pytest.mark.django_db
def test_may_view_and_for_user_agree_for_every_user_and_record(people: People) -> None:
    """AC-2 on the people models: the Python rule and the SQL filter never disagree."""
    users: list[User] = list(people.users.values())
    objects: list[Any] = [*people.households, *people.residents, *people.care, *people.stewards]
    disagreements = []
    for user in users:
        for obj in objects:
            in_sql = type(obj).objects.for_user(user).filter(pk=obj.pk).exists()
            if in_sql != may_view(user, obj):
                disagreements.append(f"{user.username} {type(obj).__name__}#{obj.pk}")
    assert disagreements == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username", ["window0", "handler0", "auditor", "street0", "red_steward0", "admin", "grid1"]
)
def test_the_care_registry_is_closed_to_roles_without_a_part_in_it(
    client: Client, people: People, username: str
) -> None:
    """PI-3: window staff, unit handlers, auditors, street staff, stewards, the system admin and another
    grid's worker get 404 on grid 0's care record and an empty (or 404) list."""
    record = people.care[0]
    client.force_login(people.users[username])
    assert client.get(f"/api/people/care/{record.pk}").status_code == 404
    assert client.get(f"/people/care/{record.pk}/").status_code == 404
    listing = client.get("/api/people/care")
    assert listing.status_code == 404 or record.pk not in _ids(listing)
    assert client.get("/people/care/").status_code in {200, 404}
    if username != "grid1":
        assert client.get("/people/care/").status_code == 404


STAFF_LISTS = [
    "/people/", "/people/mine/", "/people/care/", "/people/stewards/", "/people/import/", "/people/import/template.xlsx",
    "/api/people/residents", "/api/people/households", "/api/people/care", "/api/people/stewards",
]  # fmt: skip


@pytest.mark.django_db
def test_a_resident_gets_404_on_every_people_staff_url_and_anonymous_must_sign_in(people: People) -> None:
    """AC-3 on this app: a signed-in resident meets 404 everywhere (even on their own grid's records)."""
    grid = _world_extras(people)[0]
    resident_client = Client()
    resident_client.force_login(ResidentFactory())
    anonymous = Client()
    answers = [probe(resident_client).status_code for _label, probe in _detail_probes(people, grid)]
    answers += [resident_client.get(url).status_code for url in STAFF_LISTS]
    answers.append(resident_client.post("/api/people/register/export", {}).status_code)
    assert set(answers) == {404}
    assert {anonymous.get(url).status_code for url in STAFF_LISTS} == {302, 401}


NEW_READS = [
    "api patrol", "page patrol", "page volunteer", "page certificate", "api need", "page need",
    "api need matches", "api need suggestions", "api resource", "page resource", "api project", "page project",
    "api project services", "api organisation", "page organisation", "api representatives",
]  # fmt: skip
NEW_LISTS = [
    "api patrols", "page patrols?grid", "api coverage", "page coverage", "api checkins", "page checkins",
    "page members", "page volunteers", "api needs?community", "page needs?community", "needs export",
    "api resources", "page resources", "api projects?community", "page projects", "api organisations",
    "page orgs",
]  # fmt: skip


@pytest.mark.django_db
def test_the_patrol_party_and_needs_probes_reach_their_objects_inside_the_scope(people: People) -> None:
    """The control for the triples above: the community's secretary opens every detail and finds every
    object in every list, so a 404 outside the scope is the scope's doing, not a wrong URL."""
    grid = _world_extras(people)[0]
    client = Client()
    client.force_login(people.users["secretary0"])
    detail = dict(_detail_probes(people, grid))
    lists = dict(_list_probes(people, grid))
    answers = {label: detail[label](client).status_code for label in NEW_READS}
    assert answers == dict.fromkeys(NEW_READS, 200)
    assert [label for label in NEW_LISTS if lists[label](client)] == []  # each one lists the object
