"""Deleting a station photo: the edit page and the staff API, within the editor's scope only; the file
leaves storage after the commit and one ``config.delete`` row records who did it."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from django.test import Client

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.places.tests.factories import SmallDistrict
from linli.security.denials import ScopeDenied
from linli.security.models import AuditEvent
from linli.stations.models import Station, StationPhoto
from linli.stations.services import station_photo_add, station_photo_delete
from linli.stations.tests.factories import make_station
from linli.stations.tests.test_audit import _jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture
def stations(small_district: SmallDistrict) -> list[Station]:
    return [make_station(region=c) for c in small_district.communities[:2]]


@pytest.fixture
def secretary(small_district: SmallDistrict) -> User:
    """The community-0 secretary: edits stations[0], not stations[1]."""
    return staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0)


def _photo(station: Station) -> StationPhoto:
    photo = station_photo_add(station=station, file=io.BytesIO(_jpeg()), caption="门头")
    assert default_storage.exists(photo.file)
    return photo


def _config_rows(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, object_type="stations.stationphoto").order_by("seq"))


def test_the_edit_page_deletes_a_photo_after_confirmation(
    client: Client, stations: list[Station], secretary: User, django_capture_on_commit_callbacks: object
) -> None:
    station = stations[0]
    photo = _photo(station)
    client.force_login(secretary)
    page = f"/stations/manage/{station.id}/"
    assert "删除这张照片" in client.get(page).content.decode()
    # without the confirmation box nothing happens
    r = client.post(page, {"section": "photo_remove", "photo_id": photo.pk}, follow=True)
    assert "请先勾选" in r.content.decode()
    assert StationPhoto.objects.filter(pk=photo.pk).exists() and default_storage.exists(photo.file)
    assert _config_rows("config.delete") == []

    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        r = client.post(page, {"section": "photo_remove", "photo_id": photo.pk, "confirm": "on"})
    assert r.status_code == 302
    assert not StationPhoto.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(photo.file)  # the file is gone too
    [row] = _config_rows("config.delete")
    assert (row.actor_id, row.object_id, row.result) == (secretary.pk, str(photo.pk), "ok")
    assert row.data["station_id"] == station.pk and row.ip == "127.0.0.1"
    # the same photo again, or another station's photo posted to this page: 404, nothing audited
    assert (
        client.post(page, {"section": "photo_remove", "photo_id": photo.pk, "confirm": "on"}).status_code
        == 404
    )
    theirs = _photo(stations[1])
    assert (
        client.post(page, {"section": "photo_remove", "photo_id": theirs.pk, "confirm": "on"}).status_code
        == 404
    )
    assert StationPhoto.objects.filter(pk=theirs.pk).exists()
    assert len(_config_rows("config.delete")) == 1


def test_the_api_deletes_a_photo_of_a_station_in_scope(
    client: Client, stations: list[Station], secretary: User, django_capture_on_commit_callbacks: object
) -> None:
    station = stations[0]
    photo = _photo(station)
    client.force_login(secretary)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        r = client.delete(f"/api/stations/{station.id}/photos/{photo.pk}")
    assert r.status_code == 204, r.content
    assert not StationPhoto.objects.filter(pk=photo.pk).exists()
    assert not default_storage.exists(photo.file)
    [row] = _config_rows("config.delete")
    assert (row.actor_id, row.object_id) == (secretary.pk, str(photo.pk))
    again = client.delete(f"/api/stations/{station.id}/photos/{photo.pk}")
    assert again.status_code == 404 and again.json()["code"]


@pytest.mark.parametrize(("role", "index"), [(Role.COMMUNITY_SECRETARY, 0), (Role.WINDOW_STAFF, 1)])
def test_outside_the_scope_the_photo_stays_and_the_answer_is_404(
    client: Client,
    small_district: SmallDistrict,
    stations: list[Station],
    role: str,
    index: int,
    django_capture_on_commit_callbacks: object,
) -> None:
    target = stations[1]  # neither the community-0 secretary's nor editable by window staff
    photo = _photo(target)
    client.force_login(staff_with_role(role, district=small_district, index=index))
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        api = client.delete(f"/api/stations/{target.id}/photos/{photo.pk}")
        page = client.post(
            f"/stations/manage/{target.id}/",
            {"section": "photo_remove", "photo_id": photo.pk, "confirm": "on"},
        )
    assert (api.status_code, page.status_code) == (404, 404)
    assert StationPhoto.objects.filter(pk=photo.pk).exists() and default_storage.exists(photo.file)
    assert _config_rows("config.delete") == []


def test_the_service_refuses_an_actor_outside_the_scope(
    stations: list[Station], secretary: User, django_capture_on_commit_callbacks: object
) -> None:
    photo = _photo(stations[1])
    with pytest.raises(ScopeDenied), django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        station_photo_delete(station=stations[1], photo_id=photo.pk, actor=secretary)
    assert StationPhoto.objects.filter(pk=photo.pk).exists() and default_storage.exists(photo.file)
    assert _config_rows("config.delete") == []
