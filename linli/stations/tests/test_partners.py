"""Partner organisations (以场地换服务) on the station edit page: staff add, change and remove them for their
own stations only (anything else answers 404 and changes nothing), each change one ``config.*`` audit row."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from linli.accounts.roles import Role
from linli.accounts.tests.factories import staff_with_role
from linli.places.tests.factories import SmallDistrict
from linli.security.models import AuditEvent
from linli.stations.models import PartnerKind, Station, StationPartner
from linli.stations.services import StationError, station_partner_delete, station_partner_save
from linli.stations.tests.factories import make_station

pytestmark = pytest.mark.django_db


@pytest.fixture
def stations(small_district: SmallDistrict) -> list[Station]:
    return [make_station(region=c) for c in small_district.communities[:2]]


def _form(prefix: str, **over: Any) -> dict[str, Any]:
    data = {
        "name": "亲子绘本馆",
        "kind": PartnerKind.SOCIAL_ORG,
        "services": "每周二亲子绘本共读",
        "space": "绘本馆",
        "since": "2026-01-01",
        "until": "",
        "is_active": "on",
    }
    data.update(over)
    return {f"{prefix}-{k}": v for k, v in data.items() if v is not None}


def _audits(action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(action=action, object_type="stations.stationpartner").order_by("seq")
    )


def test_the_services_audit_each_change_naming_fields_not_values(stations: list[Station]) -> None:
    station = stations[0]
    partner = station_partner_save(station=station, name="邮储银行", kind="bank", services="防诈骗宣传")
    assert [a.data["fields"] for a in _audits("config.add")] == [
        ["name", "kind", "services", "space", "since", "until", "is_active"]
    ]
    same = station_partner_save(
        station=station, partner=partner, name="邮储银行", kind="bank", services="防诈骗宣传"
    )
    assert same.pk == partner.pk and _audits("config.change") == []  # nothing changed, nothing audited
    station_partner_save(
        station=station,
        partner=partner,
        name="邮储银行",
        kind="bank",
        services="防诈骗宣传",
        until=dt.date(2026, 6, 30),
        is_active=False,
    )
    (change,) = _audits("config.change")
    assert change.data == {"via": "stations", "station_id": station.pk, "fields": ["until", "is_active"]}
    assert "防诈骗" not in str(change.data)
    assert station_partner_delete(station=station, partner_id=partner.pk) is True
    assert station_partner_delete(station=station, partner_id=partner.pk) is False
    assert len(_audits("config.delete")) == 1 and not StationPartner.objects.exists()


def test_a_partner_of_another_station_cannot_be_changed_through_this_one(stations: list[Station]) -> None:
    theirs = station_partner_save(
        station=stations[1], name="向日葵", kind="social_org", services="关爱独居老人"
    )
    with pytest.raises(StationError) as exc:
        station_partner_save(
            station=stations[0], partner=theirs, name="改名", kind="social_org", services="x"
        )
    assert exc.value.code == "partner_not_of_station"
    assert station_partner_delete(station=stations[0], partner_id=theirs.pk) is False
    assert StationPartner.objects.get(pk=theirs.pk).name == "向日葵"


def test_a_secretary_adds_edits_and_removes_partners_of_their_station(
    client: Client, small_district: SmallDistrict, stations: list[Station]
) -> None:
    secretary = staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0)
    client.force_login(secretary)
    url = f"/stations/manage/{stations[0].id}/"
    page = client.get(url).content.decode()
    assert "共建单位(以场地换服务)" in page and 'name="partner-new-name"' in page

    r = client.post(url, {"section": "partner_add", **_form("partner-new")})
    assert r.status_code == 302
    partner = StationPartner.objects.get(station=stations[0])
    assert (partner.name, partner.kind, partner.since) == ("亲子绘本馆", "social_org", dt.date(2026, 1, 1))
    (added,) = _audits("config.add")
    assert (added.actor_id, added.object_id, added.result) == (secretary.pk, str(partner.pk), "ok")

    prefix = f"partner-{partner.pk}"
    assert f'name="{prefix}-services"' in client.get(url).content.decode()
    r = client.post(
        url,
        {
            "section": "partner_edit",
            "partner_id": partner.pk,
            **_form(prefix, services="周六亲子阅读", is_active=None),
        },
    )
    assert r.status_code == 302
    partner.refresh_from_db()
    assert (partner.services, partner.is_active) == ("周六亲子阅读", False)
    assert _audits("config.change")[0].data["fields"] == ["services", "is_active"]

    r = client.post(url, {"section": "partner_remove", "partner_id": partner.pk})
    assert r.status_code == 302 and not StationPartner.objects.exists()
    assert _audits("config.delete")[0].actor_id == secretary.pk


def test_bad_partner_input_is_refused_with_a_clear_message_and_nothing_is_saved(
    client: Client, small_district: SmallDistrict, stations: list[Station]
) -> None:
    client.force_login(staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0))
    url = f"/stations/manage/{stations[0].id}/"
    r = client.post(url, {"section": "partner_add", **_form("partner-new", until="2025-12-31")})
    assert r.status_code == 400 and "合作结束日期不能早于开始日期" in r.content.decode()
    r = client.post(url, {"section": "partner_add", **_form("partner-new", kind="bogus", services="")})
    assert r.status_code == 400
    assert not StationPartner.objects.exists() and not _audits("config.add")


@pytest.mark.parametrize(
    ("role", "index"),
    [
        (Role.COMMUNITY_SECRETARY, 0),  # the neighbouring community's secretary
        (Role.BACK_OFFICE, 0),
        (Role.STREET_STAFF, 1),  # another street
        (Role.WINDOW_STAFF, 1),  # sees the station, edits nothing
        (Role.GRID_WORKER, 1),
    ],
)
def test_staff_outside_the_station_scope_get_404_and_change_nothing(
    client: Client, small_district: SmallDistrict, stations: list[Station], role: str, index: int
) -> None:
    target = stations[1]  # community 1 (street 0)
    theirs = station_partner_save(station=target, name="向日葵", kind="social_org", services="关爱独居老人")
    client.force_login(staff_with_role(role, district=small_district, index=index))
    url = f"/stations/manage/{target.id}/"
    prefix = f"partner-{theirs.pk}"
    for data in (
        {"section": "partner_add", **_form("partner-new")},
        {"section": "partner_edit", "partner_id": theirs.pk, **_form(prefix, name="改名")},
        {"section": "partner_remove", "partner_id": theirs.pk},
    ):
        assert client.post(url, data).status_code == 404, (role, data["section"])
    assert list(StationPartner.objects.values_list("name", flat=True)) == ["向日葵"]
    assert len(_audits("config.add")) == 1 and not _audits("config.change") and not _audits("config.delete")


def test_a_partner_id_of_another_station_answers_404_on_my_own_station(
    client: Client, small_district: SmallDistrict, stations: list[Station]
) -> None:
    """The secretary of community 0 edits station 0, naming a partner of station 1 (outside their scope)."""
    theirs = station_partner_save(
        station=stations[1], name="向日葵", kind="social_org", services="关爱独居老人"
    )
    client.force_login(staff_with_role(Role.COMMUNITY_SECRETARY, district=small_district, index=0))
    url = f"/stations/manage/{stations[0].id}/"
    prefix = f"partner-{theirs.pk}"
    edit = {"section": "partner_edit", "partner_id": theirs.pk, **_form(prefix, name="改名")}
    assert client.post(url, edit).status_code == 404
    assert client.post(url, {"section": "partner_remove", "partner_id": theirs.pk}).status_code == 404
    assert client.post(url, {"section": "partner_remove", "partner_id": "x"}).status_code == 404
    assert StationPartner.objects.get(pk=theirs.pk).name == "向日葵"
