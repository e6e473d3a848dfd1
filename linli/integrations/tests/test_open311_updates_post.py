"""FixMyStreet's POST servicerequestupdates: a client's system adds a progress update (办理进展) to a
request, API-key protected, idempotent by its own update id, answered field by field in both formats."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client

from linli.accounts.models import Unit, UnitKind
from linli.accounts.tests.factories import ResidentFactory
from linli.cases.models import (
    AttachmentKind,
    Case,
    CaseAttachment,
    CaseEvent,
    Channel,
    Status,
    StatusCategory,
)
from linli.cases.services import case_submit
from linli.cases.tests.factories import category, grid_point
from linli.integrations.models import Open311Client
from linli.integrations.open311.clients import open311_client_issue
from linli.integrations.tests.test_open311 import BASE, _jpeg, _xml
from linli.notifications.models import Notification
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db

URL = f"{BASE}/servicerequestupdates"


def _post_request(client: Client, district: SmallDistrict, key: str) -> str:
    lat, lng = grid_point(district, 0)
    response = client.post(
        f"{BASE}/requests.json",
        {"api_key": key, "service_code": "road.manhole", "lat": lat, "long": lng, "description": "井盖丢了"},
    )
    assert response.status_code == 201, response.content
    return str(response.json()[0]["service_request_id"])


def _unit(district: SmallDistrict, index: int) -> Unit:
    community = district.communities[index]
    return Unit.objects.create(
        name=f"物业{index}", kind=UnitKind.PROPERTY, region=community, region_path=community.path
    )


def _update(number: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "api_key": key,
        "service_request_id": number,
        "description": "已派维修人员,明天上午更换井盖",
        **extra,
    }


def test_a_client_adds_an_update_to_its_own_request_once_per_update_id(
    client: Client, district: SmallDistrict
) -> None:
    issued = open311_client_issue(name="市民通App")
    number = _post_request(client, district, issued.raw_key)
    form = _update(
        number,
        issued.raw_key,
        update_id="fms-77",
        status="IN_PROGRESS",
        updated_datetime="2026-11-20T09:30:00+08:00",
        first_name="三",
        last_name="张",
        email="zhang@example.com",
    )
    first = client.post(f"{URL}.json", form)
    assert first.status_code == 201, first.content
    assert first["Cache-Control"] == "no-store"
    body = first.json()
    assert len(body) == 1 and set(body[0]) == {"update_id"}
    event = CaseEvent.objects.get(case__number=number, action="external_update")
    assert body[0]["update_id"] == str(event.pk)
    assert (event.actor_id, event.actor_role, event.is_public) == (None, "system", True)
    assert (event.from_status, event.to_status) == ("submitted", "submitted")  # progress, not a step
    assert event.note == "已派维修人员,明天上午更换井盖"
    assert event.data == {
        "source": f"open311:{issued.client.pk}",
        "ref": "fms-77",
        "client": "市民通App",
        "status": "in_progress",
        "updated_datetime": "2026-11-20T09:30:00+08:00",
    }

    # A retry of the same update (its answer was lost), in XML: the same id, nothing new.
    again = client.post(f"{URL}.xml", form)
    assert again.status_code == 200
    root = _xml(again.content)
    assert root.tag == "service_request_updates"
    assert [child.tag for child in root.find("request_update")] == ["update_id"]
    assert root.findtext("request_update/update_id") == str(event.pk)
    assert CaseEvent.objects.filter(action="external_update").count() == 1

    # Updates without an id of their own are each recorded.
    plain = _update(number, issued.raw_key)
    assert client.post(f"{URL}.json", plain).status_code == 201
    assert client.post(f"{URL}.xml", plain).status_code == 201
    assert CaseEvent.objects.filter(action="external_update").count() == 3

    # GET servicerequestupdates lists the step by its name, never the note.
    listed = client.get(f"{URL}.json?start_date=2000-01-01T00:00:00Z").json()
    mine = [u for u in listed if u["update_id"] == str(event.pk)]
    assert mine == [
        {
            "update_id": str(event.pk),
            "service_request_id": number,
            "status": "open",
            "updated_datetime": mine[0]["updated_datetime"],
            "description": "办理进展(外部系统)",
            "media_url": "",
        }
    ]
    assert "维修人员" not in client.get(f"{URL}.xml?start_date=2000-01-01T00:00:00Z").content.decode()


def test_a_unit_system_updates_its_units_cases_and_the_reporter_hears_of_it(
    client: Client, district: SmallDistrict
) -> None:
    unit, other = _unit(district, 0), _unit(district, 1)
    resident = ResidentFactory()
    lat, lng = grid_point(district, 0)
    case = case_submit(
        text="楼道灯坏了",
        channel=Channel.RESIDENT,
        reporter=resident,
        category_id=category("road.streetlight").pk,
        lat=lat,
        lng=lng,
    ).case
    Case.objects.filter(pk=case.pk).update(unit=unit)
    stranger = open311_client_issue(name="别的系统")
    property_system = open311_client_issue(name="物业工单系统")
    Open311Client.objects.filter(pk=property_system.client.pk).update(unit=unit)

    refused = client.post(f"{URL}.json", _update(case.number, stranger.raw_key))
    assert refused.status_code == 404 and refused.json()[0]["description"].startswith("not_found:")
    refused_xml = _xml(client.post(f"{URL}.xml", _update(case.number, stranger.raw_key)).content)
    assert refused_xml.tag == "errors" and refused_xml.findtext("error/code") == "404"
    assert not CaseEvent.objects.filter(action="external_update").exists()

    accepted = client.post(f"{URL}.json", _update(case.number, property_system.raw_key, update_id="wo-1"))
    assert accepted.status_code == 201
    note = Notification.objects.get(recipient=resident, kind="case.external_update")
    assert note.title == "您的诉求有新的办理进展" and case.number in note.body
    # Another unit's case stays out of reach (answered as if it did not exist).
    Case.objects.filter(pk=case.pk).update(unit=other)
    assert client.post(f"{URL}.json", _update(case.number, property_system.raw_key)).status_code == 404


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_update_errors_follow_the_spec(client: Client, district: SmallDistrict, fmt: str) -> None:
    issued = open311_client_issue(name="App")
    number = _post_request(client, district, issued.raw_key)
    cases = [
        ({**_update(number, "wrong")}, 403, "invalid_api_key"),
        ({**_update(number, issued.raw_key), "service_request_id": ""}, 400, "service_request_id_required"),
        ({**_update(number, issued.raw_key), "description": "  "}, 400, "description_required"),
        ({**_update(number, issued.raw_key), "description": "长" * 1001}, 400, "note_too_long"),
        ({**_update(number, issued.raw_key), "update_id": "x" * 65}, 400, "invalid_update_id"),
        ({**_update(number, issued.raw_key), "updated_datetime": "yesterday"}, 400, "invalid_date"),
        ({**_update("20990101-000001", issued.raw_key)}, 404, "not_found"),
        (
            {**_update(number, issued.raw_key), "media": io.BytesIO(b"GIF89a no")},
            400,
            "image_type_not_allowed",
        ),
        (
            {**_update(number, issued.raw_key), "media": [io.BytesIO(_jpeg()) for _ in range(10)]},
            400,
            "too_many_photos",
        ),
    ]
    for form, status, code in cases:
        response = client.post(f"{URL}.{fmt}", form)
        assert response.status_code == status, (form, response.content)
        if fmt == "json":
            assert response.json()[0]["code"] == status
            assert response.json()[0]["description"].startswith(f"{code}:")
        else:
            root = _xml(response.content)
            assert root.tag == "errors" and root.findtext("error/code") == str(status)
            assert root.findtext("error/description").startswith(f"{code}:")
    assert not CaseEvent.objects.filter(action="external_update").exists()


def test_an_updates_photo_is_stored_clean_and_listed_once_the_case_is_solved_and_public(
    client: Client, district: SmallDistrict
) -> None:
    # given a request POSTed by a client, which sends a progress update with a photo
    issued = open311_client_issue(name="市民通App")
    number = _post_request(client, district, issued.raw_key)
    form = {**_update(number, issued.raw_key, update_id="fms-9"), "media": io.BytesIO(_jpeg())}
    assert client.post(f"{URL}.json", form).status_code == 201
    event = CaseEvent.objects.get(case__number=number, action="external_update")
    photo = CaseAttachment.objects.get(event=event)
    assert (photo.kind, photo.is_public, photo.content_type) == (AttachmentKind.PROGRESS, True, "image/jpeg")
    # a retry of the same update stores nothing new
    retry = {**_update(number, issued.raw_key, update_id="fms-9"), "media": io.BytesIO(_jpeg())}
    assert client.post(f"{URL}.json", retry).status_code == 200
    assert CaseAttachment.objects.filter(case__number=number, kind=AttachmentKind.PROGRESS).count() == 1

    def listed() -> dict[str, Any]:
        rows = client.get(f"{URL}.json?start_date=2000-01-01T00:00:00Z").json()
        return next(u for u in rows if u["update_id"] == str(event.pk))

    # while the case is open, the photo is not shown (the 公示 rule: only with a solved case)
    assert listed()["media_url"] == ""
    # when it is solved (and published), the update links the photo, and the link serves it
    Case.objects.filter(number=number).update(status=Status.CLOSED, status_category=StatusCategory.DONE)
    url = listed()["media_url"]
    assert url.endswith(f"/photos/{photo.pk}/"), url
    served = client.get(url.removeprefix("http://testserver"))
    assert served.status_code == 200 and served["Content-Type"] == "image/jpeg"
    xml = _xml(client.get(f"{URL}.xml?start_date=2000-01-01T00:00:00Z").content)
    assert url in [u.findtext("media_url") for u in xml.findall("request_update")]


def test_an_update_with_a_media_url_is_recorded_and_the_url_is_ignored(
    client: Client, district: SmallDistrict
) -> None:
    # given a request POSTed by a client, and an update as FixMyStreet sends one with a photo: the photo
    # uploaded as media and its URL on FixMyStreet's host as media_url
    issued = open311_client_issue(name="FixMyStreet")
    number = _post_request(client, district, issued.raw_key)
    form = {
        **_update(number, issued.raw_key, update_id="fms-12"),
        "media_url": "http://10.0.0.1/photo/12.jpeg",
        "media": io.BytesIO(_jpeg()),
    }
    # when it is posted (in XML here)
    response = client.post(f"{URL}.xml", form)
    # then the update is recorded with the uploaded photo, and the URL is neither fetched nor kept
    assert response.status_code == 201, response.content
    event = CaseEvent.objects.get(case__number=number, action="external_update")
    assert _xml(response.content).findtext("request_update/update_id") == str(event.pk)
    assert CaseAttachment.objects.filter(event=event).count() == 1
    assert "10.0.0.1" not in str(event.data) and "10.0.0.1" not in event.note
    # and an update with a media_url only is recorded too, without a photo
    bare = {**_update(number, issued.raw_key, update_id="fms-13"), "media_url": "http://10.0.0.1/13.jpeg"}
    assert client.post(f"{URL}.json", bare).status_code == 201
    second = CaseEvent.objects.get(case__number=number, action="external_update", data__ref="fms-13")
    assert not CaseAttachment.objects.filter(event=second).exists()
