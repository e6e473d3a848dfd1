"""Every people page answers for the roles it is for (and the forms render without inline styles)."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.people.tests.factories import People


@pytest.mark.django_db
@pytest.mark.parametrize("user", ["grid0", "secretary0", "back_office0"])
def test_the_pages_of_the_register_care_and_stewards_open(client: Client, people: People, user: str) -> None:
    client.force_login(people.users[user])
    household = people.households[0]
    resident = people.residents[0]
    record = people.care[0]
    steward = people.stewards[0]
    urls = [
        "/people/",
        "/people/mine/",
        f"/people/buildings/{household.building_id}/",
        f"/people/buildings/{household.building_id}/qr/",
        f"/people/households/{household.pk}/",
        f"/people/residents/{resident.pk}/",
        "/people/care/",
        "/people/care/?overdue=1&mine=on",
        f"/people/care/{record.pk}/",
        f"/people/care/new/{resident.pk}/",
        "/people/stewards/",
        f"/people/stewards/{steward.pk}/",
        f"/people/building/{household.building.code}/card/",
        "/people/import/",
        "/people/import/template.xlsx",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
