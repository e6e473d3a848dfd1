"""/api/places: locate, grids, regions, map layers — answers, error codes, pagination, auth and scope."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from linli.accounts.models import Membership, User
from linli.accounts.roles import Role
from linli.accounts.services import membership_grant, membership_revoke
from linli.accounts.tests.factories import PASSWORD, ResidentFactory, staff_with_role
from linli.places.models import Level
from linli.places.tests.factories import LAT0, LNG0, STEP, SmallDistrict

SCOPED_GETS = ["/api/places/grids", "/api/places/regions", "/api/places/grid-layer"]


@pytest.fixture(autouse=True)
def fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def body(response: Any) -> Any:
    return response.json()


# --- locate -------------------------------------------------------------------------------------


def test_locate_returns_the_chain_with_ids_and_chinese_names(
    client: Client, small_district: SmallDistrict
) -> None:
    grid = small_district.grids[1]
    response = client.get("/api/places/locate", {"lat": LAT0 + 0.005, "lng": LNG0 + STEP + 0.005})
    assert response.status_code == 200
    data = body(response)
    assert data["grid"] == {"id": grid.id, "name": "测试网格001", "code": grid.code}
    assert data["estate"]["id"] == small_district.estates[1].id
    assert data["estate"]["name"] == "测试小区001"
    assert (data["community"]["id"], data["community"]["name"]) == (grid.community_id, "测试社区00")
    assert data["street"]["name"] == "测试街道0"
    assert (data["district"]["id"], data["district"]["name"]) == (small_district.district.id, "测试区")
    assert (data["snapped"], data["distance_m"]) == (False, 0.0)


def test_locate_just_outside_is_snapped_with_its_distance(
    client: Client, small_district: SmallDistrict
) -> None:
    response = client.get("/api/places/locate", {"lat": LAT0 - 0.001, "lng": LNG0 + 0.005})
    assert response.status_code == 200
    data = body(response)
    assert data["grid"]["id"] == small_district.grids[0].id
    assert data["snapped"] is True
    assert data["estate"] is None
    assert 100 < data["distance_m"] < 120


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ({"lat": LAT0 - 0.01, "lng": LNG0}, 400, "outside_jurisdiction"),
        ({"lat": 39.9, "lng": 116.4}, 400, "outside_jurisdiction"),
        ({"lat": 48.8566, "lng": 2.3522}, 400, "outside_china"),
        ({"lat": 95, "lng": LNG0}, 400, "invalid_coordinates"),
        ({"lat": LNG0, "lng": LAT0}, 400, "invalid_coordinates"),  # swapped
        ({"lat": "nan", "lng": LNG0}, 400, "invalid_coordinates"),
        ({"lat": LAT0, "lng": "inf"}, 400, "invalid_coordinates"),
        ({"lat": "abc", "lng": LNG0}, 422, "invalid_input"),
        ({"lat": "31,4", "lng": LNG0}, 422, "invalid_input"),
        ({"lng": LNG0}, 422, "invalid_input"),
    ],
)
def test_locate_answers_each_bad_input_with_its_code(
    client: Client, small_district: SmallDistrict, query: dict[str, Any], status: int, code: str
) -> None:
    response = client.get("/api/places/locate", query)
    assert response.status_code == status
    assert body(response)["code"] == code
    assert body(response)["message"]


# --- lists, detail, layers, pagination ----------------------------------------------------------


def test_grid_list_pages_are_capped_and_counted(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    first = body(client.get("/api/places/grids", {"page_size": 3}))
    assert (first["count"], first["page"], first["page_size"]) == (8, 1, 3)
    assert [g["code"] for g in first["items"]] == [g.code for g in small_district.grids[:3]]
    last = body(client.get("/api/places/grids", {"page_size": 3, "page": 3}))
    assert [g["id"] for g in last["items"]] == [g.id for g in small_district.grids[6:]]
    assert last["items"][0]["community_name"] == "测试社区11"
    assert body(client.get("/api/places/grids", {"page": 9}))["items"] == []
    assert client.get("/api/places/grids", {"page_size": 100}).status_code == 200
    for bad in ({"page_size": 1000}, {"page_size": 101}, {"page_size": 0}, {"page": 0}, {"page": "x"}):
        response = client.get("/api/places/grids", bad)
        assert response.status_code == 422, bad
        assert body(response)["code"] == "invalid_input"


def test_grid_list_filters_by_community(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    community = small_district.communities[3]
    data = body(client.get("/api/places/grids", {"community_id": community.id}))
    assert {g["community_id"] for g in data["items"]} == {community.id}
    assert data["count"] == 2


def test_grid_list_query_count_does_not_grow_with_the_page(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    counts = []
    for size in (1, 8):
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/places/grids", {"page_size": size}).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_grid_detail_shows_workers_boundary_and_street(small_district: SmallDistrict) -> None:
    grid = small_district.grids[4]
    worker = staff_with_role(Role.GRID_WORKER, district=small_district, index=4)
    client = as_user(staff_with_role(Role.STREET_STAFF, district=small_district, index=1))
    response = client.get(f"/api/places/grids/{grid.id}")
    assert response.status_code == 200
    data = body(response)
    assert (data["id"], data["name"], data["street_name"]) == (grid.id, "测试网格100", "测试街道1")
    assert data["workers"] == [{"id": worker.id, "name": str(worker)}]
    assert data["boundary"]["type"] == "Polygon"


def test_region_list_filters_by_level_and_parent_and_pages(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    everything = body(client.get("/api/places/regions", {"page_size": 100}))
    assert everything["count"] == 1 + 2 + 4 + 8 + 16
    communities = body(client.get("/api/places/regions", {"level": Level.COMMUNITY}))
    assert [r["name"] for r in communities["items"]] == [
        "测试社区00",
        "测试社区01",
        "测试社区10",
        "测试社区11",
    ]
    street = small_district.streets[0]
    children = body(client.get("/api/places/regions", {"parent_id": street.id}))
    assert {r["id"] for r in children["items"]} == {c.id for c in small_district.communities[:2]}
    page = body(client.get("/api/places/regions", {"page_size": 5, "page": 2}))
    assert (len(page["items"]), page["count"]) == (5, 31)
    assert client.get("/api/places/regions", {"level": "planet"}).status_code == 422
    assert client.get("/api/places/regions", {"page_size": 1000}).status_code == 422


def test_grid_layer_is_geojson_of_visible_grids(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=2))
    data = body(client.get("/api/places/grid-layer"))
    assert data["type"] == "FeatureCollection"
    assert {f["id"] for f in data["features"]} == {g.id for g in small_district.grids[4:6]}
    assert all(f["geometry"]["type"] == "Polygon" for f in data["features"])
    assert "workers" not in data["features"][0]["properties"]


def test_public_layers_need_no_sign_in_and_refuse_other_levels(
    client: Client, small_district: SmallDistrict
) -> None:
    data = body(client.get("/api/places/layers/street"))
    assert [f["properties"]["name"] for f in data["features"]] == ["测试街道0", "测试街道1"]
    for level in ("grid", "building", "estate"):
        response = client.get(f"/api/places/layers/{level}")
        assert response.status_code == 400
        assert body(response)["code"] == "invalid_layer"


# --- authentication -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCOPED_GETS)
def test_anonymous_gets_401_not_authenticated(
    client: Client, small_district: SmallDistrict, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert body(response)["code"] == "not_authenticated"


def test_anonymous_grid_detail_is_401(client: Client, small_district: SmallDistrict) -> None:
    response = client.get(f"/api/places/grids/{small_district.grids[0].id}")
    assert (response.status_code, body(response)["code"]) == (401, "not_authenticated")


def test_bearer_token_from_the_token_endpoint_authenticates(
    client: Client, small_district: SmallDistrict
) -> None:
    user = staff_with_role(Role.DISTRICT_STAFF, district=small_district)
    issued = client.post(
        "/api/accounts/token",
        {"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert issued.status_code == 200, issued.content
    token = body(issued)["token"]
    fresh = Client()  # no session: only the header authenticates
    response = fresh.get("/api/places/grids", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert (response.status_code, body(response)["count"]) == (200, 8)
    wrong = fresh.get("/api/places/grids", HTTP_AUTHORIZATION=f"Bearer {token}x")
    assert (wrong.status_code, body(wrong)["code"]) == (401, "not_authenticated")


def test_session_authenticates(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    assert body(client.get("/api/places/grids"))["count"] == 8


# --- scope: other grids are absent (404), residents see nothing, reassignment is immediate -------


def test_a_grid_worker_reads_only_their_own_grid(small_district: SmallDistrict) -> None:
    grids = small_district.grids
    for index in range(len(grids)):
        client = as_user(staff_with_role(Role.GRID_WORKER, district=small_district, index=index))
        listed = body(client.get("/api/places/grids"))
        assert [g["id"] for g in listed["items"]] == [grids[index].id]
        layer = body(client.get("/api/places/grid-layer"))
        assert [f["id"] for f in layer["features"]] == [grids[index].id]
        for other in grids:
            response = client.get(f"/api/places/grids/{other.id}")
            if other.id == grids[index].id:
                assert response.status_code == 200
            else:
                assert (response.status_code, body(response)["code"]) == (404, "not_found")
        # Filter tampering: asking for another community's grids returns nothing, not them.
        other_community = small_district.communities[(index // 2 + 1) % 4]
        tampered = body(client.get("/api/places/grids", {"community_id": other_community.id}))
        assert tampered["items"] == [] and tampered["count"] == 0


def test_a_missing_grid_is_the_same_404(small_district: SmallDistrict) -> None:
    client = as_user(staff_with_role(Role.DISTRICT_STAFF, district=small_district))
    response = client.get("/api/places/grids/999999")
    assert (response.status_code, body(response)["code"]) == (404, "not_found")


def test_a_resident_on_staff_endpoints_gets_empty_lists_and_404(small_district: SmallDistrict) -> None:
    resident = ResidentFactory()
    membership_grant(user=resident, role=Role.RESIDENT, region_id=small_district.communities[0].id)
    client = as_user(resident)
    for path in SCOPED_GETS:
        response = client.get(path)
        assert response.status_code == 200
        data = body(response)
        assert data.get("count", 0) == 0
        assert data.get("items", data.get("features")) == []
    response = client.get(f"/api/places/grids/{small_district.grids[0].id}")
    assert (response.status_code, body(response)["code"]) == (404, "not_found")


def test_revoked_and_moved_memberships_take_effect_on_the_next_request(small_district: SmallDistrict) -> None:
    worker = staff_with_role(Role.GRID_WORKER, district=small_district, index=0)
    client = as_user(worker)
    first, second = small_district.grids[0], small_district.grids[1]
    assert client.get(f"/api/places/grids/{first.id}").status_code == 200

    # Moved: the old grid is taken away, another given; the same session sees it at once.
    membership_revoke(membership=Membership.objects.get(user=worker, grid=first))
    membership_grant(user=worker, role=Role.GRID_WORKER, grid_id=second.id)
    assert client.get(f"/api/places/grids/{first.id}").status_code == 404
    assert client.get(f"/api/places/grids/{second.id}").status_code == 200

    # Disabled: nothing at all on the next request.
    membership_revoke(membership=Membership.objects.get(user=worker, grid=second))
    assert client.get(f"/api/places/grids/{second.id}").status_code == 404
    assert body(client.get("/api/places/grids"))["count"] == 0
