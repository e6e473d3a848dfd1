"""The admin's GeoJSON import page and export action, end to end through the test client."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linli.accounts.models import User
from linli.accounts.tests.factories import UserFactory
from linli.places.models import GeometryVersion, Grid, Region
from linli.places.tests.factories import SmallDistrict
from linli.places.tests.test_geojson_io import cell, collection, feature, tree
from linli.security.models import AuditEvent

pytestmark = pytest.mark.django_db

IMPORT_URL = "admin:places_region_import_geojson"


@pytest.fixture
def admin_client(client: Client) -> Client:
    # No password: hashing one costs a second, and force_login needs none.
    user = User.objects.create_superuser(username="root", email="root@example.com", password=None)
    client.force_login(user)
    return client


def upload(text: str, name: str = "grids.geojson") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="application/geo+json")


def test_both_changelists_link_to_the_import_page(admin_client: Client) -> None:
    for model in ("region", "grid"):
        page = admin_client.get(reverse(f"admin:places_{model}_changelist"))

        assert page.status_code == 200
        assert reverse(f"admin:places_{model}_import_geojson") in page.content.decode()
        assert "导入GeoJSON" in page.content.decode()


def test_a_superuser_uploads_a_file_and_sees_it_imported(admin_client: Client) -> None:
    form = admin_client.get(reverse(IMPORT_URL))
    assert form.status_code == 200 and 'enctype="multipart/form-data"' in form.content.decode()

    page = admin_client.post(reverse(IMPORT_URL), {"file": upload(collection(*tree())), "crs": "wgs84"})

    assert page.status_code == 200
    assert "已导入" in page.content.decode()
    assert Region.objects.count() == 3 and Grid.objects.count() == 2
    [audit] = AuditEvent.objects.filter(action="data.import")
    assert (audit.result, audit.actor_label, audit.data["created"]) == ("ok", "root", 5)


def test_a_bad_file_shows_the_report_by_name_and_changes_nothing(admin_client: Client) -> None:
    file = collection(
        *tree(
            feature("grid", "NG0", "东网格", "NC", cell(0, 1.5)),
            feature("grid", "NG1", "西网格", "NC", cell(1, 2)),
        )
    )

    page = admin_client.post(
        reverse("admin:places_grid_import_geojson"), {"file": upload(file), "crs": "wgs84"}
    )

    body = page.content.decode()
    assert page.status_code == 200
    assert "东网格" in body and "西网格" in body and "重叠" in body and "未导入" in body
    assert Region.objects.count() == 0 and Grid.objects.count() == 0
    assert not GeometryVersion.objects.exists()
    [audit] = AuditEvent.objects.filter(action="data.import")
    assert audit.result == "failed" and audit.data["problems"] == 1


def test_malformed_json_upload_gets_a_clear_error(admin_client: Client) -> None:
    page = admin_client.post(reverse(IMPORT_URL), {"file": upload("{oops"), "crs": "wgs84"})

    assert "不是有效的JSON" in page.content.decode() and Region.objects.count() == 0


def test_dry_run_from_the_admin_writes_nothing(admin_client: Client) -> None:
    page = admin_client.post(
        reverse(IMPORT_URL), {"file": upload(collection(*tree())), "crs": "wgs84", "dry_run": "on"}
    )

    assert "试运行" in page.content.decode() and Region.objects.count() == 0


def test_the_export_action_downloads_the_selected_rows(
    admin_client: Client, small_district: SmallDistrict
) -> None:
    chosen = small_district.grids[:2]

    response = admin_client.post(
        reverse("admin:places_grid_changelist"),
        {"action": "export_geojson", "_selected_action": [g.pk for g in chosen]},
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    assert "attachment" in response["Content-Disposition"]
    exported = json.loads(response.content)
    assert [f["properties"]["code"] for f in exported["features"]] == [g.code for g in chosen]
    [audit] = AuditEvent.objects.filter(action="data.export")
    assert (audit.object_type, audit.data["rows"]) == ("places.grid", 2)


def test_a_non_staff_user_is_sent_to_the_login_page(client: Client) -> None:
    client.force_login(UserFactory(is_staff=False, password=None))

    for response in (
        client.get(reverse(IMPORT_URL)),
        client.post(reverse(IMPORT_URL), {"file": upload(collection(*tree())), "crs": "wgs84"}),
    ):
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Region.objects.count() == 0


def test_anonymous_is_sent_to_the_login_page(client: Client) -> None:
    response = client.get(reverse(IMPORT_URL))

    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_staff_without_import_permissions_is_refused(client: Client) -> None:
    staff = UserFactory(is_staff=True, password=None)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_region", "change_region"]))
    client.force_login(staff)

    assert client.get(reverse(IMPORT_URL)).status_code == 403
    response = client.post(reverse(IMPORT_URL), {"file": upload(collection(*tree())), "crs": "wgs84"})
    assert response.status_code == 403 and Region.objects.count() == 0
    assert list(AuditEvent.objects.filter(action="data.import").values_list("result", flat=True)) == [
        "denied",
        "denied",
    ]
    assert "导入GeoJSON" not in client.get(reverse("admin:places_region_changelist")).content.decode()


# --- editing one region or grid in the admin goes through the places services ----------------------


def _grid_form(grid: Grid, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "community": grid.community_id,
        "name": grid.name,
        "households": grid.households,
        "boundary": json.dumps(grid.boundary),
    }
    data.update(changes)
    return data


def test_a_boundary_edited_in_the_admin_moves_the_bounding_box_and_the_locator(admin_client: Client) -> None:
    from linli.places.locator import get_locator
    from linli.places.tests.factories import build_small_district, square

    district = build_small_district()
    grid = district.grids[0]
    version = GeometryVersion.objects.get().version
    far = square(100.0, 30.0, 100.01, 30.01)

    page = admin_client.post(
        reverse("admin:places_grid_change", args=[grid.pk]), _grid_form(grid, boundary=json.dumps(far))
    )

    assert page.status_code == 302, page.content.decode()[:2000]
    grid.refresh_from_db()
    assert (grid.min_lng, grid.min_lat) == pytest.approx((100.0, 30.0))
    assert GeometryVersion.objects.get().version == version + 1
    assert get_locator().locate(30.005, 100.005).grid.id == grid.pk
    [audit] = AuditEvent.objects.filter(
        action="config.change", object_type="places.grid", object_id=str(grid.pk)
    )
    assert audit.result == "ok"  # the admin's own change log writes the one row (AUD-1)


def test_an_invalid_boundary_in_the_admin_is_a_form_error_and_changes_nothing(admin_client: Client) -> None:
    from linli.places.tests.factories import build_small_district

    district = build_small_district()
    grid = district.grids[0]
    before = (grid.boundary, GeometryVersion.objects.get().version)
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}

    page = admin_client.post(
        reverse("admin:places_grid_change", args=[grid.pk]), _grid_form(grid, boundary=json.dumps(bowtie))
    )

    assert page.status_code == 200 and "errorlist" in page.content.decode()
    grid.refresh_from_db()
    assert (grid.boundary, GeometryVersion.objects.get().version) == before


def test_an_estate_added_in_the_admin_gets_its_path_and_a_duplicate_code_is_refused(
    admin_client: Client,
) -> None:
    from linli.places.tests.factories import build_small_district

    district = build_small_district()
    community = district.communities[0]
    form = {
        "parent": community.pk,
        "level": "estate",
        "code": "TE-new",
        "name": "新小区",
        "households": 120,
        "population": 300,
        "address": "",
        "boundary": "",
        "lat": "31.405",
        "lng": "104.605",
    }

    first = admin_client.post(reverse("admin:places_region_add"), form)
    second = admin_client.post(reverse("admin:places_region_add"), {**form, "name": "重复小区"})

    assert first.status_code == 302
    estate = Region.objects.get(code="TE-new")
    assert estate.path == f"{community.path}TE-new/" and (estate.lat, estate.lng) == (31.405, 104.605)
    assert second.status_code == 200 and "errorlist" in second.content.decode()
    assert Region.objects.filter(name="重复小区").count() == 0


def test_a_region_under_the_wrong_level_is_refused_in_the_admin(admin_client: Client) -> None:
    from linli.places.tests.factories import build_small_district

    district = build_small_district()
    form = {
        "parent": district.district.pk,
        "level": "estate",
        "code": "TE-wrong",
        "name": "错层小区",
        "households": 0,
        "population": 0,
        "address": "",
        "boundary": "",
        "lat": "",
        "lng": "",
    }

    page = admin_client.post(reverse("admin:places_region_add"), form)

    assert page.status_code == 200 and "上级层级不正确" in page.content.decode()
    assert not Region.objects.filter(code="TE-wrong").exists()
