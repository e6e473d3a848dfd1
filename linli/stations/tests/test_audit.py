"""AUD-1 for stations: every change to a station's configuration — its info, hours, menu, 七有 checklist and
photos (partners: ``test_partners.py``) — writes exactly one ``config.*`` audit row, in the same transaction,
naming the changed fields and never their values. A refused call writes nothing and records nothing, and so
does a call that changes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from linli.accounts.models import User
from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.catalog.models import ServiceItem
from linli.places.tests.factories import SmallDistrict
from linli.security.models import AuditEvent
from linli.stations.hours import Period
from linli.stations.models import (
    ChecklistItem,
    MenuTier,
    OpeningPeriod,
    Station,
    StationChecklist,
    StationKind,
    StationPhoto,
    StationService,
)
from linli.stations.services import (
    PHOTO_FIELDS,
    STATION_FIELDS,
    StationError,
    station_checklist_set,
    station_create,
    station_hours_replace,
    station_menu_apply_basic,
    station_menu_remove,
    station_menu_set,
    station_photo_add,
    station_photo_delete,
    station_update,
)
from linli.stations.tests.factories import OFFICE_WEEK, make_station

pytestmark = pytest.mark.django_db

PHONE, CONTACT = "0816-2345678", "王小明"  # values that must never reach the audit trail


@pytest.fixture
def stations(small_district: SmallDistrict) -> list[Station]:
    return [make_station(region=c) for c in small_district.communities[:2]]


@pytest.fixture
def items() -> list[ServiceItem]:
    return list(ServiceItem.objects.filter(is_active=True).order_by("sort_order", "code")[:3])


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


class Trail:
    """The ``config.*`` rows written since the last look."""

    def __init__(self) -> None:
        self.mark()

    def mark(self) -> None:
        last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        self.seq = last or 0

    def new(self) -> list[AuditEvent]:
        rows = list(AuditEvent.objects.filter(seq__gt=self.seq, action__startswith="config.").order_by("seq"))
        self.mark()
        return rows

    def one(self, action: str, object_type: str) -> AuditEvent:
        rows = self.new()
        assert [(r.action, r.object_type, r.result) for r in rows] == [(action, object_type, "ok")], rows
        assert PHONE not in str(rows[0].data) and CONTACT not in str(rows[0].data)
        return rows[0]

    def none(self) -> None:
        assert self.new() == []


@pytest.fixture
def trail(stations: list[Station]) -> Trail:
    return Trail()


# --- the services -------------------------------------------------------------------------------------
def test_creating_a_station_is_one_config_add_naming_its_fields(
    small_district: SmallDistrict, trail: Trail
) -> None:
    fields: dict[str, Any] = {
        "code": "AUD-1",
        "name": "审计驿站",
        "kind": StationKind.POST,
        "region": small_district.communities[0],
        "lat": 31.405,
        "lng": 104.605,
        "address": "测试路1号",
        "phone": PHONE,
        "contact_name": CONTACT,
    }
    station = station_create(**fields)
    row = trail.one("config.add", "stations.station")
    assert row.object_id == str(station.pk) and row.actor_id is None
    assert row.data == {"via": "stations", "station_id": station.pk, "fields": list(STATION_FIELDS)}
    for bad in (
        {"code": "AUD-1"},
        {"code": "AUD-2", "lat": 48.85, "lng": 2.35},
        {"code": "AUD-3", "name": " "},
    ):
        with pytest.raises(StationError):
            station_create(**{**fields, **bad})
        trail.none()


def test_editing_station_info_names_only_the_fields_that_changed(
    stations: list[Station], trail: Trail
) -> None:
    station = stations[0]
    station_update(station=station, changes={"phone": PHONE, "contact_name": CONTACT, "name": station.name})
    row = trail.one("config.change", "stations.station")
    assert row.data == {"via": "stations", "station_id": station.pk, "fields": ["contact_name", "phone"]}
    station_update(station=station, changes={"phone": PHONE, "contact_name": f" {CONTACT} "})
    trail.none()  # the same values again: nothing saved, nothing recorded
    for changes in (
        {"name": ""},
        {"region_path": "/"},
        {"lat": 48.85, "lng": 2.35},
        {"office_area_m2": -1.0},
    ):
        with pytest.raises(StationError):
            station_update(station=station, changes={"phone": "0816-1111111", **changes})
        trail.none()
    station.refresh_from_db()
    assert (station.phone, station.contact_name) == (PHONE, CONTACT)


def test_replacing_the_hours_is_one_change_naming_periods_and_flags(
    stations: list[Station], trail: Trail
) -> None:
    station = stations[0]
    station_hours_replace(station=station, periods=OFFICE_WEEK, is_24h=False, hours_note="")
    trail.none()  # the week it already has
    evening = [*OFFICE_WEEK, Period(5, dt.time(9), dt.time(12))]
    station_hours_replace(station=station, periods=evening)
    assert trail.one("config.change", "stations.station").data["fields"] == ["periods"]
    station_hours_replace(station=station, periods=evening, open_on_holidays=True, hours_note="班后在线")
    assert trail.one("config.change", "stations.station").data["fields"] == [
        "open_on_holidays",
        "hours_note",
    ]
    station_hours_replace(station=station, periods=OFFICE_WEEK, is_24h=True)
    assert trail.one("config.change", "stations.station").data["fields"] == ["periods", "is_24h"]
    with pytest.raises(StationError):
        station_hours_replace(
            station=station, periods=[Period(0, dt.time(9), dt.time(12)), Period(0, dt.time(11), dt.time(13))]
        )
    trail.none()
    assert OpeningPeriod.objects.filter(station=station).count() == len(OFFICE_WEEK)


def test_menu_lines_add_change_and_remove_one_row_each(
    stations: list[Station], items: list[ServiceItem], trail: Trail
) -> None:
    station, item = stations[0], items[0]
    line = station_menu_set(station=station, item=item, note="每周三上午")
    added = trail.one("config.add", "stations.stationservice")
    assert added.object_id == str(line.pk)
    assert added.data == {
        "via": "stations",
        "station_id": station.pk,
        "fields": ["item", "tier", "note", "sort_order", "is_active"],
        "item": item.code,
    }
    station_menu_set(station=station, item=item, note="每周三上午")
    trail.none()
    station_menu_set(station=station, item=item, tier=MenuTier.FEATURED, note="每周三上午", is_active=False)
    changed = trail.one("config.change", "stations.stationservice")
    assert changed.data["fields"] == ["tier", "is_active"] and "每周三" not in str(changed.data)
    with pytest.raises(StationError):
        station_menu_set(station=station, item=item, tier="gold")
    trail.none()
    assert station_menu_remove(station=station, item=item) is True
    removed = trail.one("config.delete", "stations.stationservice")
    assert (removed.object_id, removed.data["item"]) == (str(line.pk), item.code)
    assert station_menu_remove(station=station, item=item) is False
    trail.none()


def test_an_inactive_item_is_refused_and_not_recorded(
    stations: list[Station], items: list[ServiceItem], trail: Trail
) -> None:
    item = items[1]
    item.is_active = False
    item.save()
    with pytest.raises(StationError):
        station_menu_set(station=stations[0], item=item)
    trail.none()
    assert not StationService.objects.filter(item=item).exists()


def test_applying_the_basic_menu_is_one_row_listing_the_codes(stations: list[Station], trail: Trail) -> None:
    station = stations[0]
    added = station_menu_apply_basic(station=station)
    row = trail.one("config.change", "stations.station")
    assert row.data["fields"] == ["menu"] and len(row.data["added"]) == added > 0
    assert station_menu_apply_basic(station=station) == 0
    trail.none()


def test_the_checklist_records_each_check_and_refuses_without_a_trace(
    stations: list[Station], secretary: User, trail: Trail
) -> None:
    station = stations[0]
    row = station_checklist_set(station=station, item=ChecklistItem.SIGN, met=True, evidence="门头标识")
    added = trail.one("config.add", "stations.stationchecklist")
    assert added.object_id == str(row.pk) and added.data["item"] == "sign"
    assert added.data["fields"] == ["item", "met", "evidence", "photo", "checked_by", "checked_at"]
    station_checklist_set(
        station=station, item=ChecklistItem.SIGN, met=False, evidence="标识已拆除", user=secretary
    )
    changed = trail.one("config.change", "stations.stationchecklist")
    assert changed.data["fields"] == ["met", "evidence", "checked_by", "checked_at"]
    assert changed.actor_id == secretary.pk  # the checker is the actor
    station_checklist_set(
        station=station, item=ChecklistItem.SIGN, met=False, evidence="标识已拆除", user=secretary
    )
    assert trail.one("config.change", "stations.stationchecklist").data["fields"] == [
        "checked_at"
    ]  # re-check
    theirs = station_photo_add(station=stations[1], file=io.BytesIO(_jpeg()))
    trail.mark()
    for kwargs in (
        {"item": "castle", "met": False},
        {"item": ChecklistItem.SITE, "met": True},  # no evidence
        {"item": ChecklistItem.SITE, "met": True, "photo": theirs},
    ):
        with pytest.raises(StationError):
            station_checklist_set(station=station, **kwargs)
        trail.none()
    assert StationChecklist.objects.filter(station=station).count() == 1


def test_photos_added_and_deleted_one_row_each(stations: list[Station], trail: Trail) -> None:
    station = stations[0]
    photo = station_photo_add(station=station, file=io.BytesIO(_jpeg()), caption="门头")
    row = trail.one("config.add", "stations.stationphoto")
    assert row.object_id == str(photo.pk)
    assert row.data == {"via": "stations", "station_id": station.pk, "fields": list(PHOTO_FIELDS)}
    with pytest.raises(StationError):
        station_photo_add(station=station, file=io.BytesIO(b"GIF89a not a photo"))
    trail.none()
    assert station_photo_delete(station=stations[1], photo_id=photo.pk) is False  # not that station's
    trail.none()
    assert station_photo_delete(station=station, photo_id=photo.pk) is True
    deleted = trail.one("config.delete", "stations.stationphoto")
    assert (deleted.object_id, deleted.data["fields"]) == (str(photo.pk), [])
    assert station_photo_delete(station=station, photo_id=photo.pk) is False
    trail.none()
    assert not StationPhoto.objects.exists()


def test_the_change_and_its_row_commit_or_roll_back_together(
    stations: list[Station], items: list[ServiceItem], trail: Trail, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr("linli.stations.services.audit_record", broken)
    station = stations[0]
    calls: list[Callable[[], Any]] = [
        lambda: station_update(station=station, changes={"name": "改名"}),
        lambda: station_hours_replace(station=station, periods=[]),
        lambda: station_menu_set(station=station, item=items[2]),
        lambda: station_checklist_set(station=station, item=ChecklistItem.RULES, met=False),
    ]
    for call in calls:
        with pytest.raises(RuntimeError):
            call()
    station.refresh_from_db()
    assert station.name != "改名" and station.periods.count() == len(OFFICE_WEEK)
    assert not station.menu.filter(item=items[2]).exists() and not station.checklist.exists()
    trail.none()


# --- the pages and the API ------------------------------------------------------------------------------
@pytest.fixture
def secretary(small_district: SmallDistrict) -> User:
    return staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0)


def _assert_by(row: AuditEvent, user: User) -> None:
    assert row.actor_id == user.pk and row.role and row.ip == "127.0.0.1"


def test_each_section_of_the_edit_page_writes_one_row_by_its_user(
    client: Client, stations: list[Station], items: list[ServiceItem], secretary: User, trail: Trail
) -> None:
    station = stations[0]
    client.force_login(secretary)
    url = f"/stations/manage/{station.id}/"
    trail.mark()
    info = {
        f"info-{k}": v
        for k, v in {
            "name": station.name,
            "address": station.address,
            "phone": PHONE,
            "contact_name": "",
            "description": "",
            "lat": station.lat,
            "lng": station.lng,
            "office_area_m2": "",
            "public_area_m2": "",
            "is_published": "on",
        }.items()
    }
    assert client.post(url, {"section": "info", **info}).status_code == 302
    row = trail.one("config.change", "stations.station")
    _assert_by(row, secretary)
    assert row.data["fields"] == ["phone"]

    hours = {"section": "hours", "hours-day_0": "09:00-12:00", "hours-hours_note": "午休"}
    assert client.post(url, hours).status_code == 302
    _assert_by(trail.one("config.change", "stations.station"), secretary)

    menu = {"section": "menu_add", "menu-item": items[0].pk, "menu-tier": "basic", "menu-note": ""}
    assert client.post(url, menu).status_code == 302
    _assert_by(trail.one("config.add", "stations.stationservice"), secretary)
    line = station.menu.get(item=items[0])
    assert client.post(url, {"section": "menu_remove", "line_id": line.pk}).status_code == 302
    _assert_by(trail.one("config.delete", "stations.stationservice"), secretary)

    check = {"section": "checklist", "item": "rules", "met": "on", "evidence": "制度上墙"}
    assert client.post(url, check).status_code == 302
    _assert_by(trail.one("config.add", "stations.stationchecklist"), secretary)

    upload = io.BytesIO(_jpeg())
    upload.name = "door.jpg"
    photo = {"section": "photo", "photo-file": upload, "photo-caption": "门头"}
    assert client.post(url, photo).status_code == 302
    _assert_by(trail.one("config.add", "stations.stationphoto"), secretary)

    bad_hours = {"section": "hours", "hours-day_0": "09:00-12:00, 11:00-13:00"}
    assert client.post(url, bad_hours).status_code == 400
    trail.none()


def test_each_api_write_writes_one_row_and_refusals_none(
    client: Client, stations: list[Station], items: list[ServiceItem], secretary: User, trail: Trail
) -> None:
    station = stations[0]
    client.force_login(secretary)
    base = f"/api/stations/{station.id}"
    trail.mark()
    ok = [
        ("patch", base, {"contact_name": CONTACT}, "config.change", "stations.station"),
        ("put", f"{base}/hours", {"periods": [], "is_24h": True}, "config.change", "stations.station"),
        ("put", f"{base}/menu/{items[0].code}", {"note": "每周三"}, "config.add", "stations.stationservice"),
        (
            "put",
            f"{base}/menu/{items[0].code}",
            {"sort_order": 5},
            "config.change",
            "stations.stationservice",
        ),
        ("delete", f"{base}/menu/{items[0].code}", None, "config.delete", "stations.stationservice"),
        ("put", f"{base}/checklist/staff", {"met": False}, "config.add", "stations.stationchecklist"),
    ]
    for method, url, body, action, object_type in ok:
        r = getattr(client, method)(url, body, content_type="application/json")
        assert r.status_code in (200, 204), (url, r.content)
        _assert_by(trail.one(action, object_type), secretary)
    r = client.post(f"{base}/photos", {"file": io.BytesIO(_jpeg()), "caption": "门头"})
    assert r.status_code == 201, r.content
    _assert_by(trail.one("config.add", "stations.stationphoto"), secretary)

    refused = [
        ("patch", base, {"lat": 48.85, "lng": 2.35}),
        ("put", f"{base}/hours", {"periods": [{"weekday": 0, "opens": "09:00", "closes": "09:00"}]}),
        ("put", f"{base}/menu/{items[0].code}", {"tier": "gold"}),
        ("put", f"{base}/menu/NO-SUCH", {}),
        ("put", f"{base}/checklist/castle", {"met": False}),
        ("put", f"{base}/checklist/site", {"met": True}),
    ]
    for method, url, body in refused:
        r = getattr(client, method)(url, body, content_type="application/json")
        assert r.status_code == 400, (url, r.content)
        trail.none()


@pytest.mark.parametrize(("role", "index"), [(Role.COMMUNITY_SECRETARY, 0), (Role.WINDOW_STAFF, 1)])
def test_outside_the_scope_nothing_changes_and_no_config_row(
    client: Client,
    small_district: SmallDistrict,
    stations: list[Station],
    items: list[ServiceItem],
    trail: Trail,
    role: str,
    index: int,
) -> None:
    target = stations[1]  # community 1: neither the community-0 secretary's nor editable by window staff
    client.force_login(staff_with_role(role, district=small_district, index=index))
    trail.mark()
    base = f"/api/stations/{target.id}"
    assert client.patch(base, {"name": "改名"}, content_type="application/json").status_code == 404
    assert client.put(f"{base}/menu/{items[0].code}", {}, content_type="application/json").status_code == 404
    page = f"/stations/manage/{target.id}/"
    assert client.post(page, {"section": "checklist", "item": "rules", "evidence": "x"}).status_code == 404
    trail.none()
    target.refresh_from_db()
    assert target.name != "改名" and not target.checklist.exists()
