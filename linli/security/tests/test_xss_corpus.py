"""IO-4: the XSS corpus through every free-text field that exists today renders escaped.

Fields: display names (page header, workbench, admin), unit names, region and grid names (workbench, admin;
the map's cards fill text with ``textContent`` - the browser test in test_headers_csp.py runs a payload
through a real map card). The domain modules' free text (cases, needs, bookings, party, people, stations,
patrols) goes through the same corpus in ``test_xss_corpus_domains.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import Unit, UnitKind, User
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant
from linli.accounts.tests.factories import UserFactory, staff_with_role
from linli.places.models import Grid, Region
from linli.places.tests.factories import SmallDistrict
from linli.security.tests.xss_corpus import XSS_PAYLOADS, assert_escaped


@pytest.fixture(autouse=True)
def _fast_hashing(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def test_every_payload_fits_the_shortest_free_text_field() -> None:
    limit = User._meta.get_field("display_name").max_length
    assert limit is not None
    assert all(len(p) <= limit for p in XSS_PAYLOADS)
    assert len(set(XSS_PAYLOADS)) == len(XSS_PAYLOADS)


def test_display_names_render_escaped_in_the_page_header(
    client: Client, small_district: SmallDistrict
) -> None:
    for i, payload in enumerate(XSS_PAYLOADS):
        user = staff_with_role(Role.DISTRICT_STAFF, district=small_district, username=f"xss{i}")
        User.objects.filter(pk=user.pk).update(display_name=payload)
        client.force_login(user)
        assert_escaped(client.get("/").content.decode(), payload)
        assert_escaped(client.get("/places/map/").content.decode(), payload)


def test_grid_community_and_unit_names_render_escaped_on_the_workbench(
    client: Client, small_district: SmallDistrict
) -> None:
    for i, payload in enumerate(XSS_PAYLOADS):
        grid = small_district.grids[i % len(small_district.grids)]
        Grid.objects.filter(pk=grid.pk).update(name=payload)
        Region.objects.filter(pk=grid.community_id).update(name=payload)
        worker = staff_with_role(Role.GRID_WORKER, district=small_district, index=i % 8, username=f"gw{i}")
        client.force_login(worker)
        assert_escaped(client.get("/").content.decode(), payload)

        unit = Unit.objects.create(
            name=payload,
            kind=UnitKind.PROPERTY,
            region=small_district.communities[0],
            region_path=small_district.communities[0].path,
        )
        handler = UserFactory(username=f"unit{i}")
        membership_grant(user=handler, role=Role.UNIT_HANDLER, unit_id=unit.id)
        client.force_login(handler)
        assert_escaped(client.get("/").content.decode(), payload)


def test_admin_lists_escape_every_payload(
    client: Client, small_district: SmallDistrict, superuser: User
) -> None:
    regions = list(Region.objects.order_by("id")[: len(XSS_PAYLOADS)])
    for i, payload in enumerate(XSS_PAYLOADS):
        UserFactory(username=f"admin-xss{i}", display_name=payload)
        Unit.objects.create(
            name=payload,
            kind=UnitKind.DEPARTMENT,
            region=small_district.district,
            region_path=small_district.district.path,
        )
        Region.objects.filter(pk=regions[i].pk).update(name=payload)
    for i, grid in enumerate(small_district.grids):
        Grid.objects.filter(pk=grid.pk).update(name=XSS_PAYLOADS[i])
    client.force_login(superuser)
    pages = {
        "/admin/accounts/user/": XSS_PAYLOADS,
        "/admin/accounts/unit/": XSS_PAYLOADS,
        "/admin/places/region/": XSS_PAYLOADS,
        "/admin/places/grid/": XSS_PAYLOADS[: len(small_district.grids)],
    }
    for url, payloads in pages.items():
        page = client.get(url)
        assert page.status_code == 200, url
        html = page.content.decode()
        for payload in payloads:
            assert_escaped(html, payload)


def test_json_answers_carry_free_text_as_data_never_as_html(
    client: Client, small_district: SmallDistrict
) -> None:
    payload = XSS_PAYLOADS[2]
    grid = small_district.grids[0]
    Grid.objects.filter(pk=grid.pk).update(name=payload)
    client.force_login(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    answer = client.get(f"/api/places/grids/{grid.pk}")
    assert answer.status_code == 200 and answer.json()["name"] == payload
    assert answer["Content-Type"].startswith("application/json")
    assert answer["X-Content-Type-Options"] == "nosniff"  # never sniffed into HTML
