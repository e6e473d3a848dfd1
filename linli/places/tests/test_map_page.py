"""The district map page: which layers it points at for whom, tiles off by default, everything local."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from linli.accounts.roles import Role
from linli.accounts.tests.factories import ResidentFactory, staff_with_role
from linli.places.tests.factories import SmallDistrict


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def data_attrs(html: str) -> dict[str, str]:
    tag = re.search(r'<div id="map"[^>]*>', html, re.S)
    assert tag, "no #map element"
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0)))


@pytest.mark.django_db
def test_anonymous_map_shows_public_layers_only(client: Client) -> None:
    response = client.get(reverse("places:map"))
    assert response.status_code == 200
    html = response.content.decode()
    attrs = data_attrs(html)
    assert attrs["street-url"] == "/api/places/layers/street"
    assert attrs["community-url"] == "/api/places/layers/community"
    assert attrs["grid-layer-url"] == ""
    assert attrs["grid-detail-url"] == ""
    assert attrs["locate-url"] == "/api/places/locate"
    assert 'data-layer="grid"' not in html
    assert "我的位置" in html
    assert "base.html" in [t.name for t in response.templates]
    assert "base_workbench.html" not in [t.name for t in response.templates]


@pytest.mark.django_db
def test_resident_map_has_no_grid_layer(client: Client) -> None:
    client.force_login(ResidentFactory(), backend="linli.accounts.backends.PhoneCodeBackend")
    attrs = data_attrs(client.get(reverse("places:map")).content.decode())
    assert attrs["grid-layer-url"] == ""


@pytest.mark.parametrize(
    "role",
    [Role.GRID_WORKER, Role.COMMUNITY_SECRETARY, Role.STREET_STAFF, Role.DISTRICT_STAFF, Role.ADMIN],
)
def test_staff_who_may_view_places_get_the_scoped_grid_layer_in_the_workbench(
    client: Client, small_district: SmallDistrict, role: str
) -> None:
    user = staff_with_role(role, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    response = client.get(reverse("places:map"))
    html = response.content.decode()
    attrs = data_attrs(html)
    assert attrs["grid-layer-url"] == "/api/places/grid-layer"
    assert attrs["grid-detail-url"] == "/api/places/grids/0"
    assert 'data-layer="grid"' in html
    assert "base_workbench.html" in [t.name for t in response.templates]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.UNIT_HANDLER])
def test_staff_without_the_places_capability_get_no_grid_layer(
    client: Client, small_district: SmallDistrict, role: str
) -> None:
    user = staff_with_role(role, district=small_district)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    attrs = data_attrs(client.get(reverse("places:map")).content.decode())
    assert attrs["grid-layer-url"] == ""


def test_the_urls_the_map_page_names_answer_for_a_grid_worker(
    client: Client, small_district: SmallDistrict
) -> None:
    """The page and the API agree: each URL map.js will fetch exists and is scoped."""
    user = staff_with_role(Role.GRID_WORKER, district=small_district, index=2)
    client.force_login(user, backend="linli.accounts.backends.StaffPasswordBackend")
    attrs = data_attrs(client.get(reverse("places:map")).content.decode())

    streets = client.get(attrs["street-url"]).json()
    assert {f["properties"]["name"] for f in streets["features"]} == {"测试街道0", "测试街道1"}
    communities = client.get(attrs["community-url"]).json()
    assert len(communities["features"]) == 4
    grids = client.get(attrs["grid-layer-url"]).json()
    assert [f["id"] for f in grids["features"]] == [small_district.grids[2].id]

    own = small_district.grids[2]
    detail = client.get(re.sub(r"0$", str(own.id), attrs["grid-detail-url"])).json()
    assert detail["community_name"] == own.community.name
    assert detail["households"] == 200
    assert [w["name"] for w in detail["workers"]] == [str(user)]
    other = small_district.grids[5]
    assert client.get(re.sub(r"0$", str(other.id), attrs["grid-detail-url"])).status_code == 404

    centre = f"?lat={own.lat}&lng={own.lng}"
    located = client.get(attrs["locate-url"] + centre).json()
    assert located["grid"]["id"] == own.id
    outside = client.get(attrs["locate-url"] + "?lat=39.9&lng=116.4").json()
    assert outside["code"] == "outside_jurisdiction"
    assert re.search(r"[\u4e00-\u9fff]", outside["message"])


@pytest.mark.django_db
def test_no_base_map_tiles_unless_configured(client: Client, settings) -> None:
    assert data_attrs(client.get(reverse("places:map")).content.decode())["tile-url"] == ""
    settings.LINLI_MAP_TILE_URL = "/tiles/{z}/{x}/{y}.png"
    settings.LINLI_MAP_TILE_ATTRIBUTION = "天地图"
    attrs = data_attrs(client.get(reverse("places:map")).content.decode())
    assert attrs["tile-url"] == "/tiles/{z}/{x}/{y}.png"
    assert attrs["tile-attribution"] == "天地图"


@pytest.mark.django_db
def test_map_texts_for_the_script_are_chinese(client: Client) -> None:
    attrs = data_attrs(client.get(reverse("places:map")).content.decode())
    for key in ("msg-loading", "msg-load-failed", "msg-geo-denied", "msg-no-geo", "msg-kind-grid"):
        assert re.search(r"[\u4e00-\u9fff]", attrs[key]), key
