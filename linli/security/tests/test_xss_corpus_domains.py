"""IO-4 through the domain modules: every XSS payload goes into the free-text fields people type (through
the services, as a form or the API would) and comes back escaped on every page that shows it, and as
plain data in the JSON answers.

One test per module; each builds its data once (one object per payload) and then fetches every page
that renders it (resident, workbench, manage, public 公示 pages, the station list/map and the JSON API):
seven data sets of 20 objects, ~30 s of test time on a busy 2-core machine. ``test_xss_corpus.py`` covers names of places,
units and users; the map's cards and Leaflet tooltips fill text with ``textContent`` (browser test in
test_headers_csp.py).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils.html import escape

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.sms import ConsoleSmsBackend
from linli.accounts.tests.factories import ResidentFactory, UserFactory, staff_with_role
from linli.bookings.services import (
    agency_request,
    agency_step,
    appointment_book,
    room_book,
    service_record_create,
)
from linli.bookings.services import resource_create as booking_resource_create
from linli.bookings.tests.factories import MONDAY, T0, at, build_booking_world, make_item
from linli.cases.models import Rating
from linli.cases.services import (
    case_accept,
    case_assign,
    case_comment,
    case_publish,
    case_rate,
    case_resolve,
)
from linli.cases.tests.factories import World, build_world, case_rules_ensure, category, grid_point, submit
from linli.needs.services import project_act, project_claim, project_report
from linli.needs.tests.factories import build_needs_world, make_need, make_org, make_project, make_resource
from linli.party.models import CommitmentKind
from linli.party.services import (
    checkin_activate,
    checkin_confirm,
    checkin_register,
    commitment_fulfil,
    team_create,
)
from linli.patrols.services import patrol_end, patrol_problem_report, patrol_start
from linli.people.models import CareCategory, StewardKind
from linli.people.services import (
    care_record_open,
    care_visit_record,
    household_get_or_create,
    resident_move_in,
    steward_buildings_set,
    steward_register,
    steward_transition,
)
from linli.people.tests.factories import care_config_ensure, synthetic_ids
from linli.places.tests.factories import SmallDistrict
from linli.security.tests.xss_corpus import XSS_PAYLOADS, assert_escaped, assert_no_raw_markup
from linli.stations.models import ChecklistItem, PartnerKind, StationKind
from linli.stations.services import (
    station_checklist_set,
    station_create,
    station_menu_set,
    station_partner_save,
)
from linli.workdays.rules import calendar_invalidate

P = XSS_PAYLOADS


@pytest.fixture(autouse=True)
def _env(settings: Any, tmp_path: object) -> Iterator[None]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SMS_BACKEND = "linli.accounts.sms.ConsoleSmsBackend"
    settings.MEDIA_ROOT = str(tmp_path)
    settings.LINLI_RATE_LIMITS_ENABLED = False  # one client fetches many pages
    ConsoleSmsBackend.reset()
    calendar_invalidate()
    yield
    calendar_invalidate()


def as_user(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert response["Content-Type"].startswith("text/html"), url
    return response.content.decode()


def assert_page_escapes(client: Client, url: str, shown: list[str]) -> None:
    """No live payload markup anywhere in the page, and each payload in ``shown`` (fields the page prints
    in full) is there in its escaped form."""
    html = page(client, url)
    try:
        assert_no_raw_markup(html)
        for payload in shown:
            assert_escaped(html, payload)
    except AssertionError as exc:
        raise AssertionError(f"{url}: {exc}") from None


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def assert_json_carries(client: Client, url: str, payloads: list[str]) -> None:
    """A JSON answer holds each payload verbatim as a string value (data, not markup), never sniffed."""
    response = client.get(url)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert response["Content-Type"].startswith("application/json"), url
    assert response["X-Content-Type-Options"] == "nosniff", url
    values = list(_strings(json.loads(response.content)))
    for payload in payloads:
        assert any(payload in v for v in values), f"{url}: {payload!r} not carried as data"


def test_the_raw_markup_check_catches_every_payload_and_passes_its_escaped_form() -> None:
    for payload in P:
        with pytest.raises(AssertionError):
            assert_no_raw_markup(f"<p>{payload}</p>")
        assert_no_raw_markup(f"<p>{escape(payload)}</p>")
        assert_no_raw_markup(f"<p>{escape(payload)[:20]}</p>")  # shortened by truncatechars


# --- cases: text, address, comments, assignment notes, result text, rating comment ----------------------
def test_case_free_text_renders_escaped_for_resident_staff_and_public(small_district: SmallDistrict) -> None:
    w: World = build_world(small_district)
    cases = []
    for payload in P:
        case = submit(w, grid=0, text=f"{payload} 描述", address=payload)
        case_comment(case_id=case.pk, actor=w.resident, note=payload)
        case_assign(case_id=case.pk, actor=w.secretary0, unit_id=w.unit0.pk, note=payload)
        case_accept(case_id=case.pk, actor=w.handler0)
        case_resolve(case_id=case.pk, actor=w.handler0, result_text=payload)
        case_rate(case_id=case.pk, actor=w.resident, rating=Rating.SATISFIED, comment=payload)
        case_publish(case_id=case.pk, actor=w.secretary0, public=True)
        cases.append(case)

    resident, secretary, handler = as_user(w.resident), as_user(w.secretary0), as_user(w.handler0)
    anonymous = Client()
    for case, payload in zip(cases, P, strict=True):
        assert_page_escapes(resident, f"/cases/mine/{case.pk}/", [payload])
        assert_page_escapes(secretary, f"/cases/wb/{case.pk}/", [payload])
        assert_page_escapes(handler, f"/cases/wb/{case.pk}/", [payload])
        assert_page_escapes(anonymous, f"/cases/public/{case.pk}/", [payload])
        assert_json_carries(resident, f"/api/cases/{case.pk}", [payload])
    assert_page_escapes(resident, "/cases/mine/", [])  # numbers and categories only
    assert_page_escapes(secretary, "/cases/wb/?queue=all", [])  # titles shortened to 40 characters
    assert_page_escapes(anonymous, "/cases/public/", P)
    assert_json_carries(resident, "/api/cases/mine?limit=100", P)
    assert_json_carries(anonymous, "/api/cases/public?limit=100", P)


# --- needs, resources, projects (三清单), organisations; the public 公示 page ------------------------------
def test_needs_resources_and_projects_render_escaped(small_district: SmallDistrict) -> None:
    w = build_needs_world(small_district)
    s, community = w.secretary0, small_district.communities[0]
    rows = []
    for payload in P:
        need = make_need(s, community, title=payload, description=payload)
        resource = make_resource(s, community, name=payload, description=payload, provider_name=payload)
        org = make_org(s, community, name=payload, description=payload, services=payload, address=payload)
        project = make_project(s, community, [need], title=payload, summary=payload, description=payload)
        project_claim(actor=s, project_id=project.pk, organisation_id=org.pk, note=payload)
        project_act(actor=s, project_id=project.pk, action="start", note=payload)
        project_report(actor=s, project_id=project.pk, text_=payload, progress=50)
        rows.append((need, resource, org, project))

    staff, anonymous = as_user(s), Client()
    for (need, resource, org, project), payload in zip(rows, P, strict=True):
        assert_page_escapes(staff, f"/needs/{need.pk}/", [payload])
        assert_page_escapes(staff, f"/needs/resources/{resource.pk}/", [payload])
        assert_page_escapes(staff, f"/needs/orgs/{org.pk}/", [payload])
        assert_page_escapes(staff, f"/needs/projects/{project.pk}/", [payload])
        assert_json_carries(staff, f"/api/needs/{need.pk}", [payload])
        assert_json_carries(staff, f"/api/needs/resources/{resource.pk}", [payload])
        assert_json_carries(staff, f"/api/needs/organisations/{org.pk}", [payload])
        assert_json_carries(staff, f"/api/needs/projects/{project.pk}", [payload])
    for url in ("/needs/", "/needs/resources/", "/needs/projects/", "/needs/orgs/"):
        assert_page_escapes(staff, url, P)
    assert_page_escapes(anonymous, "/needs/public/", [])
    assert_page_escapes(anonymous, f"/needs/public/{community.code}/", P)
    assert_json_carries(anonymous, f"/api/needs/public/{community.code}", P)


# --- bookings: appointment notes, window records, 代办 requests and steps, rooms -------------------------
def test_booking_notes_agency_requests_and_rooms_render_escaped(small_district: SmallDistrict) -> None:
    with time_machine.travel(T0, tick=False):
        case_rules_ensure()  # an agency request is a case
        bw = build_booking_world(small_district)
        station = bw.station0.pk
        slot = bw.slot(hour=9, capacity=len(P))
        residents, appointments, details = [], [], []
        for payload in P:
            resident = ResidentFactory()
            residents.append(resident)
            appointments.append(appointment_book(resident=resident, slot_id=slot.pk, note=payload))
            service_record_create(
                actor=bw.window0, station_id=station, item_id=bw.item2.pk, outcome="consulted", minutes=2,
                note=payload,
            )  # fmt: skip
            detail = agency_request(
                requester=resident, item_id=bw.agency_item.pk, text=payload, station_id=station
            )
            agency_step(detail_id=detail.pk, actor=bw.window0, action="collect", note=payload)
            details.append(detail)
            room = booking_resource_create(
                actor=None, station_id=station, kind="room", name=payload, description=payload, capacity=30
            )
            room_book(
                user=resident, resource_id=room.pk, starts_at=at(MONDAY, 14), ends_at=at(MONDAY, 15),
                purpose=payload,
            )  # fmt: skip

        window, anonymous = as_user(bw.window0), Client()
        for resident, appointment, detail, payload in zip(residents, appointments, details, P, strict=True):
            mine = as_user(resident)
            assert_page_escapes(mine, "/bookings/mine/", [])
            assert_page_escapes(mine, "/bookings/agency/", [payload])  # the step's note
            assert_page_escapes(mine, "/bookings/rooms/mine/", [payload])
            assert_page_escapes(mine, f"/cases/mine/{detail.case_id}/", [payload])
            assert_page_escapes(window, f"/cases/wb/{detail.case_id}/", [payload])
            assert_json_carries(mine, f"/api/bookings/appointments/{appointment.pk}", [payload])
            assert_json_carries(mine, "/api/bookings/room-bookings/mine", [payload])
            assert_json_carries(mine, "/api/bookings/agency/mine", [payload])
        assert_page_escapes(window, f"/bookings/desk/{station}/", [])
        assert_page_escapes(window, "/bookings/agency/desk/", [])
        assert_page_escapes(window, "/bookings/resources/", P)  # room names and purposes
        assert_page_escapes(anonymous, f"/bookings/stations/{station}/rooms/", P)
        assert_json_carries(anonymous, f"/api/bookings/stations/{station}/resources", P)
        assert_json_carries(window, "/api/bookings/records?limit=100", P)


# --- party: check-ins (employer, skills, commitments, notes), 践诺, hours, volunteer teams ----------------
def test_party_checkins_commitments_and_teams_render_escaped(small_district: SmallDistrict) -> None:
    secretary = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0)
    community = small_district.communities[0]
    members, teams = [], []
    for payload in P:
        member = ResidentFactory()
        check_in = checkin_register(
            user=member, community_id=community.pk, name="李卫东", employer=payload, employer_org=payload,
            skills=payload, commitments=[(CommitmentKind.VOLUNTEER, payload)],
        )  # fmt: skip
        checkin_confirm(check_in_id=check_in.pk, actor=secretary, note=payload)
        checkin_activate(check_in_id=check_in.pk, actor=secretary, note=payload)
        commitment = check_in.commitments.get()
        commitment_fulfil(commitment_id=commitment.pk, actor=secretary, note=payload, hours=2)
        members.append(member)
        teams.append(
            team_create(actor=secretary, community_id=community.pk, name=payload, description=payload)
        )

    staff, anonymous = as_user(secretary), Client()
    for member, team, payload in zip(members, teams, P, strict=True):
        mine = as_user(member)
        assert_page_escapes(mine, "/party/checkin/", [payload])  # commitments and the community's notes
        assert_page_escapes(mine, "/party/my-hours/", [payload])  # "践诺:<commitment>"
        assert_json_carries(mine, "/api/party/checkins?mine=true", [payload])
        assert_json_carries(mine, "/api/party/me/hours", [payload])
        assert_page_escapes(anonymous, f"/party/teams/{team.pk}/", [payload])
        assert_json_carries(anonymous, f"/api/party/teams/{team.pk}", [payload])
    assert_page_escapes(staff, "/party/manage/", P)  # the teams
    assert_page_escapes(staff, "/party/manage/checkins/?status=active", P)
    assert_page_escapes(staff, "/party/manage/members/", P)  # employers
    assert_page_escapes(staff, "/party/manage/volunteers/", [])
    assert_page_escapes(anonymous, "/party/teams/", P)
    assert_json_carries(staff, "/api/party/checkins?limit=100", P)


# --- people: household notes, move reasons, care situations and visit notes, stewards' duties and notes --
def test_people_register_care_and_stewards_render_escaped(small_district: SmallDistrict) -> None:
    d, community = small_district, small_district.communities[0]
    care_config_ensure()
    secretary = staff_with_role(Role.COMMUNITY_SECRETARY, district=d, index=0)
    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    buildings = [b for b in d.buildings if b.path.startswith(community.path)]
    alone = list(CareCategory.objects.filter(code="alone-elderly").values_list("pk", flat=True))
    ids = iter(synthetic_ids(len(P), seed=3))
    rows = []
    for i, payload in enumerate(P):
        building = buildings[i % len(buildings)]
        household, _ = household_get_or_create(
            building=building, unit_no="9", room=f"{i + 1}09", note=payload
        )
        resident = resident_move_in(
            actor=secretary, household=household, name="王芳", id_number=next(ids), reason=payload,
            moved_on=dt.date(2020, 1, 1),
        )  # fmt: skip
        record = care_record_open(
            actor=secretary, resident=resident, category_ids=alone, level_code="red", situation=payload,
            opened_on=dt.date(2024, 1, 1),
        )  # fmt: skip
        care_visit_record(actor=secretary, record_id=record.pk, kind="door", notes=payload)
        steward = steward_register(
            actor=None, kind=StewardKind.RED, name="赵一", community=community, duty=payload, note=payload
        )
        for action in ("vet", "activate"):
            steward_transition(steward_id=steward.pk, action=action, actor=None, note=payload)
        steward_buildings_set(steward_id=steward.pk, building_ids=[building.pk])
        rows.append((household, resident, record, steward))

    staff, admin, anonymous = as_user(secretary), as_user(root), Client()
    for (household, resident, record, steward), payload in zip(rows, P, strict=True):
        assert_page_escapes(staff, f"/people/households/{household.pk}/", [payload])  # the move's reason
        assert_page_escapes(staff, f"/people/residents/{resident.pk}/", [payload])
        assert_page_escapes(staff, f"/people/care/{record.pk}/", [payload])  # situation and visit notes
        assert_page_escapes(staff, f"/people/stewards/{steward.pk}/", [payload])
        assert_page_escapes(admin, f"/admin/people/household/{household.pk}/change/", [payload])
        assert_json_carries(staff, f"/api/people/households/{household.pk}", [payload])
        assert_json_carries(staff, f"/api/people/residents/{resident.pk}", [payload])
        assert_json_carries(staff, f"/api/people/care/{record.pk}", [payload])
        assert_json_carries(staff, f"/api/people/stewards/{steward.pk}", [payload])
    for building in buildings:
        assert_page_escapes(staff, f"/people/buildings/{building.pk}/", [])
        assert_page_escapes(anonymous, f"/people/building/{building.code}/card/", [])
    cards = "".join(page(anonymous, f"/people/building/{b.code}/card/") for b in buildings)
    for payload in P:
        assert_escaped(cards, payload)  # each steward's duty on the card of their building
    assert_page_escapes(staff, "/people/care/", [])
    assert_page_escapes(staff, "/people/stewards/", P)
    assert_page_escapes(staff, "/people/", [])


# --- stations: names, addresses, descriptions, hours notes, service menu notes, 七有 evidence, partners ---
def test_stations_render_escaped_on_the_map_list_detail_and_manage_pages(
    small_district: SmallDistrict,
) -> None:
    community = small_district.communities[0]
    editor = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0)
    item = make_item(name="居住证办理")
    stations = []
    for payload in P:
        station = station_create(
            code=f"XSS-{len(stations):03d}", name=payload, kind=StationKind.COMMUNITY_CENTER, region=community,
            lat=community.lat or 31.4, lng=community.lng or 104.6, address=payload, description=payload,
            hours_note=payload,
        )  # fmt: skip
        station_menu_set(station=station, item=item, note=payload)
        station_checklist_set(station=station, item=ChecklistItem.SIGN, met=True, evidence=payload)
        station_partner_save(
            station=station, name=payload, kind=PartnerKind.SOCIAL_ORG, services=payload, space=payload
        )
        stations.append(station)

    staff, anonymous = as_user(editor), Client()
    for station, payload in zip(stations, P, strict=True):
        assert_page_escapes(anonymous, f"/stations/{station.pk}/", [payload])
        assert_page_escapes(staff, f"/stations/manage/{station.pk}/", [payload])
        assert_json_carries(anonymous, f"/api/stations/{station.pk}", [payload])
    assert_page_escapes(anonymous, "/stations/", P)
    assert_page_escapes(anonymous, f"/stations/?lat={community.lat or 31.4}&lng={community.lng or 104.6}", P)
    assert_page_escapes(anonymous, f"/catalog/{item.code}/", [])
    assert_page_escapes(staff, "/stations/manage/", P)
    assert_page_escapes(staff, "/stations/coverage/", [])
    assert_page_escapes(staff, "/places/map/", [])
    assert_json_carries(anonymous, "/api/stations/?limit=100", P)
    assert_json_carries(anonymous, "/api/stations/layer", P)
    assert_json_carries(staff, "/api/stations/manage/list?limit=100", P)


# --- patrols: problems reported on patrol (text and address) --------------------------------------------
def test_patrol_problem_texts_render_escaped(small_district: SmallDistrict) -> None:
    w = build_world(small_district)
    patrol = patrol_start(worker=w.grid0, client_key="xss-patrol-0001").patrol
    lat, lng = grid_point(w.d, 0)
    cases = [
        patrol_problem_report(
            patrol_id=patrol.pk, worker=w.grid0, text=payload, address=payload, lat=lat, lng=lng,
            category_id=category("city.litter").pk, idempotency_key=f"xss-problem-{i:04d}",
        ).case
        for i, payload in enumerate(P)
    ]  # fmt: skip
    worker, secretary = as_user(w.grid0), as_user(w.secretary0)
    for client in (worker, secretary):
        assert_page_escapes(client, f"/patrols/{patrol.pk}/", P)  # the problems' titles; the track is JSON
        assert_json_carries(client, f"/api/patrols/{patrol.pk}", P)
    patrol_end(patrol_id=patrol.pk, worker=w.grid0)
    assert_page_escapes(worker, f"/patrols/{patrol.pk}/", P)
    assert_page_escapes(secretary, "/patrols/", [])
    assert_page_escapes(secretary, "/patrols/coverage/", [])
    for case, payload in zip(cases, P, strict=True):
        assert_page_escapes(worker, f"/cases/wb/{case.pk}/", [payload])
        assert_page_escapes(secretary, f"/cases/wb/{case.pk}/", [payload])
