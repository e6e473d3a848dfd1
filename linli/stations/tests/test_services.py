"""Station services: bad input gets a specific error code and nothing already saved is lost."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from linli.catalog.models import ServiceItem
from linli.places.tests.factories import SmallDistrict
from linli.stations.hours import Period
from linli.stations.models import OFFICE_SHARE_MAX, StationIndexVersion, StationKind, StationPartner
from linli.stations.services import (
    StationError,
    station_create,
    station_hours_replace,
    station_menu_apply_basic,
    station_menu_set,
    station_partner_save,
    station_photo_add,
    station_update,
)
from linli.stations.tests.factories import make_station


def create(district: SmallDistrict, **overrides: object) -> object:
    fields: dict[str, object] = {
        "code": "X-1",
        "name": "测试驿站",
        "kind": StationKind.POST,
        "region": district.communities[0],
        "lat": 31.405,
        "lng": 104.605,
        "address": "测试路1号",
    }
    fields.update(overrides)
    return station_create(**fields)  # type: ignore[arg-type]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"lat": 48.85, "lng": 2.35}, "outside_china"),
        ({"lat": float("nan")}, "invalid_coordinates"),
        ({"lat": 104.6, "lng": 31.4}, "invalid_coordinates"),
        ({"kind": StationKind.DISTRICT_CENTER}, "region_level_mismatch"),
        ({"kind": "castle"}, "invalid_kind"),
        ({"office_area_m2": -1.0}, "invalid_area"),
        ({"name": "  "}, "missing_field"),
    ],
)
def test_bad_station_input_is_refused_with_its_code(
    small_district: SmallDistrict, overrides: dict[str, object], code: str
) -> None:
    with pytest.raises(StationError) as exc:
        create(small_district, **overrides)
    assert exc.value.code == code and exc.value.message


@pytest.mark.django_db
def test_duplicate_codes_are_refused(small_district: SmallDistrict) -> None:
    create(small_district)
    with pytest.raises(StationError) as exc:
        create(small_district)
    assert exc.value.code == "duplicate_code"


@pytest.mark.django_db
def test_every_change_moves_the_index_version(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])
    before = StationIndexVersion.objects.get().version
    station_update(station=station, changes={"name": "新名字"})
    assert StationIndexVersion.objects.get().version == before + 1


@pytest.mark.django_db
def test_overlapping_hours_keep_the_old_hours(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])
    before = list(station.periods.values_list("weekday", "opens", "closes"))
    with pytest.raises(StationError) as exc:
        station_hours_replace(
            station=station,
            periods=[Period(0, dt.time(9), dt.time(12)), Period(0, dt.time(11), dt.time(13))],
            is_24h=True,
        )
    assert exc.value.code == "overlapping_hours"
    station.refresh_from_db()
    assert list(station.periods.values_list("weekday", "opens", "closes")) == before
    assert station.is_24h is False


@pytest.mark.django_db
def test_moving_a_station_to_another_community_moves_its_scope(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])
    station_update(station=station, changes={"region": small_district.communities[3]})
    station.refresh_from_db()
    assert station.region_path == small_district.communities[3].path
    with pytest.raises(StationError) as exc:
        station_update(station=station, changes={"region_path": "/"})
    assert exc.value.code == "invalid_field"


@pytest.mark.django_db
def test_menus_basic_items_and_inactive_items(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])
    added = station_menu_apply_basic(station=station)
    assert added == ServiceItem.objects.filter(basic=True, is_active=True).count() > 20
    assert station_menu_apply_basic(station=station) == 0
    item = ServiceItem.objects.get(code="GY-004")
    item.is_active = False
    item.save()
    with pytest.raises(StationError) as exc:
        station_menu_set(station=station, item=item)
    assert exc.value.code == "unknown_service"


@pytest.mark.django_db
def test_office_share_follows_seed_004(small_district: SmallDistrict) -> None:
    after = create(small_district, office_area_m2=100.0, public_area_m2=4187.0)
    before = create(small_district, code="X-2", office_area_m2=625.0, public_area_m2=2275.0)
    assert after.office_share_ok is True and before.office_share_ok is False  # type: ignore[attr-defined]
    assert before.office_share > OFFICE_SHARE_MAX > after.office_share  # type: ignore[attr-defined]


@pytest.mark.django_db
def test_partners_are_validated(small_district: SmallDistrict) -> None:
    station = make_station(region=small_district.communities[0])
    partner = station_partner_save(station=station, name="亲子绘本馆", kind="social_org", services="绘本共读")
    with pytest.raises(StationError) as exc:
        station_partner_save(
            station=station,
            name="x",
            kind="social_org",
            services="y",
            since=dt.date(2025, 2, 1),
            until=dt.date(2025, 1, 1),
        )
    assert exc.value.code == "invalid_dates"
    assert StationPartner.objects.filter(station=station).count() == 1 and partner.pk


def _jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x8825] = {2: (31, 24, 0), 4: (104, 36, 0)}  # GPSInfo
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


@pytest.mark.django_db
def test_photos_go_through_the_upload_pipeline_and_lose_their_gps(
    small_district: SmallDistrict, client: object
) -> None:
    station = make_station(region=small_district.communities[0])
    photo = station_photo_add(station=station, file=io.BytesIO(_jpeg_with_gps()), caption="门头")
    assert photo.file.startswith("stations/") and photo.width == 64
    r = client.get(f"/stations/{station.id}/photos/{photo.id}")  # type: ignore[attr-defined]
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    stored = Image.open(io.BytesIO(b"".join(r.streaming_content)))
    assert not stored.getexif().get(0x8825)
    with pytest.raises(StationError) as exc:
        station_photo_add(station=station, file=io.BytesIO(b"GIF89a not a photo"))
    assert exc.value.code == "upload_type_not_allowed"
    station_update(station=station, changes={"is_published": False})
    assert client.get(f"/stations/{station.id}/photos/{photo.id}").status_code == 404  # type: ignore[attr-defined]
