"""Needs found on care-registry visits (走访发现) point at the visit (a nullable foreign key, like a case's),
and only people who may read the care registry there ever see which visit it was (PI-3)."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.needs.errors import NeedsError
from linli.needs.models import Need, NeedSource
from linli.needs.tests.factories import make_need
from linli.people.models import CareVisit
from linli.people.services import care_visit_record
from linli.people.tests.factories import People, build_people
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(small_district: SmallDistrict) -> People:
    return build_people(small_district)


def visit_of(people: People, g: int) -> CareVisit:
    return care_visit_record(
        actor=people.users[f"grid{g}"], record_id=people.care[g].pk, kind="door", notes="老人反映无人送餐"
    )


def test_a_grid_worker_files_a_need_from_their_visit_in_its_estate_and_grid(people: People) -> None:
    visit = visit_of(people, 0)

    need = make_need(people.users["grid0"], None, source_visit_id=visit.pk)  # region and grid: the visit's

    assert need.source_visit == visit
    assert (need.region, need.community) == (people.d.estates[0], people.d.communities[0])
    assert need.grid_id == people.d.grids[0].pk
    assert visit.needs.get() == need
    # One visit may reveal more than one need.
    second = make_need(people.users["grid0"], people.d.estates[0], source_visit_id=visit.pk)
    assert set(visit.needs.all()) == {need, second}


@pytest.mark.parametrize("who", ["grid1", "window0", "street0", "secretary1"])
def test_a_visit_the_filer_may_not_read_is_as_if_absent(people: People, who: str) -> None:
    """Window and street staff file needs but do not read the care registry; another grid's worker and
    another community's secretary read other records."""
    visit = visit_of(people, 0)
    with pytest.raises(NeedsError) as refused:
        make_need(people.users[who], people.d.estates[0], source_visit_id=visit.pk)
    assert (refused.value.code, refused.value.status) == ("not_found", 404)
    assert not Need.objects.exists()


def test_a_visit_source_needs_the_visit_kind(people: People) -> None:
    visit = visit_of(people, 0)
    with pytest.raises(NeedsError) as refused:
        make_need(
            people.users["grid0"],
            people.d.estates[0],
            source_kind=NeedSource.MEETING,
            source_visit_id=visit.pk,
        )
    assert refused.value.code == "source_visit_needs_visit_source"


def test_the_visit_is_named_only_to_readers_of_the_care_registry(people: People) -> None:
    visit = visit_of(people, 0)
    secretary, window = Client(), Client()
    secretary.force_login(people.users["secretary0"])
    window.force_login(people.users["window0"])

    created = secretary.post(
        "/api/needs/",
        {"title": "独居老人助餐", "category": "elderly", "source_kind": "visit", "source_visit_id": visit.pk},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    need_id = created.json()["id"]
    assert created.json()["source_visit_id"] == visit.pk
    assert secretary.get(f"/api/needs/{need_id}").json()["source_visit_id"] == visit.pk
    care_link = f"/people/care/{visit.record_id}/"
    assert care_link in secretary.get(f"/needs/{need_id}/").content.decode()

    assert window.get(f"/api/needs/{need_id}").json()["source_visit_id"] is None
    listed = window.get("/api/needs/?page_size=100").json()["items"]
    assert [n["source_visit_id"] for n in listed if n["id"] == need_id] == [None]
    page = window.get(f"/needs/{need_id}/").content.decode()
    assert "入户走访" in page and care_link not in page


def test_the_care_page_links_to_filing_a_need_and_the_form_carries_the_visit(people: People) -> None:
    visit = visit_of(people, 0)
    client = Client()
    client.force_login(people.users["grid0"])
    care = client.get(f"/people/care/{visit.record_id}/").content.decode()
    assert f"/needs/new/?visit={visit.pk}" in care
    form = client.get(f"/needs/new/?visit={visit.pk}").content.decode()
    assert f'value="{visit.pk}"' in form
    answer = client.post(
        "/needs/new/",
        {
            "title": "需要助餐",
            "category": "elderly",
            "source_kind": "visit",
            "source_visit": visit.pk,
            "beneficiaries": 1,
            "urgency": "normal",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    assert Need.objects.get().source_visit == visit


def test_a_need_outlives_its_visit_when_retention_deletes_it(people: People) -> None:
    visit = visit_of(people, 0)
    need = make_need(people.users["grid0"], people.d.estates[0], source_visit_id=visit.pk)
    CareVisit.objects.filter(pk=visit.pk).delete()
    need.refresh_from_db()
    assert (need.source_visit_id, need.source_kind) == (None, NeedSource.VISIT)
