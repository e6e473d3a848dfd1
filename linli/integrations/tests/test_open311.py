"""Open311 GeoReport v2: fields against the spec in both formats, errors, keys, idempotency, pagination."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from defusedxml import ElementTree as SafeET
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from PIL import Image

from linli.cases.models import Case, CaseAttachment, CaseKind, Channel, Status
from linli.cases.services import case_submit
from linli.cases.tests.factories import category, grid_point
from linli.integrations.models import Open311Client
from linli.integrations.open311.clients import open311_client_issue
from linli.integrations.open311.tokens import token_for
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db

BASE = "/open311/v2"
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}


def _xml(body: bytes) -> Any:
    return SafeET.fromstring(body)  # parse what we serve the way a careful client would


def _file_case(d: SmallDistrict, **kw: Any) -> Case:
    lat, lng = grid_point(d, 0)
    fields: dict[str, Any] = {
        "text": "张三 13800138000 反映楼下井盖丢了",
        "channel": Channel.OPEN311,
        "category_id": category("road.manhole").pk,
        "lat": lat,
        "lng": lng,
        "contact_name": "张三",
        "contact_phone": "13800138000",
        "client_id": "t",
    }
    fields.update(kw)
    return case_submit(**fields).case


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buf, "JPEG")
    return buf.getvalue()


def test_discovery_lists_the_endpoint_in_both_formats(client: Client, district: SmallDistrict) -> None:
    # given the discovery document, when it is asked for in JSON and in XML,
    # then both list the endpoint, and the XML opens with the declaration as the spec's samples write it
    data = client.get(f"{BASE}/discovery.json").json()
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(data)
    endpoint = data["endpoints"][0]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    as_xml = client.get(f"{BASE}/discovery.xml").content
    assert as_xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<discovery>')
    root = _xml(as_xml)
    assert root.tag == "discovery"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == endpoint["formats"]


def test_services_are_the_category_leaves_with_every_spec_field(
    client: Client, district: SmallDistrict
) -> None:
    data = client.get(f"{BASE}/services.json").json()
    codes = {s["service_code"] for s in data}
    assert "road.manhole" in codes and "city.litter" in codes
    assert "road" not in codes and "city" not in codes  # groups are not services
    manhole = next(s for s in data if s["service_code"] == "road.manhole")
    assert set(manhole) == SERVICE_FIELDS
    assert manhole["group"] == "路灯/井盖/道路" and manhole["metadata"] is False
    assert manhole["type"] == "realtime"
    root = _xml(client.get(f"{BASE}/services.xml").content)
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(data)
    first = services[0]
    assert {child.tag for child in first} == SERVICE_FIELDS
    assert first.findtext("metadata") == "false"


def test_service_definition_has_an_empty_attribute_list_and_unknown_codes_are_404(
    client: Client, district: SmallDistrict
) -> None:
    data = client.get(f"{BASE}/services/road.manhole.json").json()
    assert data == {"service_code": "road.manhole", "attributes": []}
    root = _xml(client.get(f"{BASE}/services/road.manhole.xml").content)
    assert root.tag == "service_definition" and root.findtext("service_code") == "road.manhole"
    assert list(root.find("attributes")) == []
    missing = client.get(f"{BASE}/services/nope.json")
    assert missing.status_code == 404
    assert missing.json()[0]["code"] == 404
    missing_xml = _xml(client.get(f"{BASE}/services/nope.xml").content)
    assert missing_xml.tag == "errors" and missing_xml.findtext("error/code") == "404"


def test_post_creates_one_case_through_case_submit_with_a_photo(
    client: Client, district: SmallDistrict
) -> None:
    issued = open311_client_issue(name="市民通App")
    lat, lng = grid_point(district, 1)
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": issued.raw_key,
            "service_code": "road.manhole",
            "lat": str(lat),
            "long": str(lng),
            "description": "井盖丢了",
            "first_name": "三",
            "last_name": "张",
            "phone": "13800138000",
            "media": io.BytesIO(_jpeg()),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body[0]) == {"service_request_id", "token", "service_notice", "account_id"}
    case = Case.objects.get(number=body[0]["service_request_id"])
    assert case.channel == Channel.OPEN311 and case.grid_id == district.grids[1].pk
    assert case.category_id == category("road.manhole").pk and case.events.count() == 1
    assert case.contact_name == "张 三" and case.contact_phone_masked == "138****8000"
    assert CaseAttachment.objects.filter(case=case).count() == 1


def test_post_with_the_same_idempotency_key_yields_one_case(client: Client, district: SmallDistrict) -> None:
    issued = open311_client_issue(name="App")
    lat, lng = grid_point(district, 0)
    form = {
        "api_key": issued.raw_key,
        "service_code": "city.litter",
        "lat": lat,
        "long": lng,
        "description": "垃圾",
    }
    first = client.post(f"{BASE}/requests.xml", form, HTTP_IDEMPOTENCY_KEY="retry-key-0001")
    again = client.post(f"{BASE}/requests.xml", form, HTTP_IDEMPOTENCY_KEY="retry-key-0001")
    assert (first.status_code, again.status_code) == (201, 200)
    assert _xml(first.content).findtext("request/service_request_id") == _xml(again.content).findtext(
        "request/service_request_id"
    )
    assert Case.objects.count() == 1


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_valid_active_key_is_403_in_the_spec_shape(
    client: Client, district: SmallDistrict, fmt: str
) -> None:
    issued = open311_client_issue(name="App")
    Open311Client.objects.filter(pk=issued.client.pk).update(is_active=False)
    lat, lng = grid_point(district, 0)
    for key in ["", "wrong", issued.raw_key]:
        response = client.post(
            f"{BASE}/requests.{fmt}",
            {"api_key": key, "service_code": "city.litter", "lat": lat, "long": lng, "description": "x"},
        )
        assert response.status_code == 403
        if fmt == "json":
            assert response.json()[0]["code"] == 403
            assert "invalid_api_key" in response.json()[0]["description"]
        else:
            root = _xml(response.content)
            assert root.tag == "errors" and root.findtext("error/code") == "403"
            assert root.findtext("error/description")
    assert Case.objects.count() == 0


def test_post_errors_name_the_problem(client: Client, district: SmallDistrict) -> None:
    key = open311_client_issue(name="App").raw_key
    cases = [
        ({"service_code": "city.litter", "description": "x"}, 400, "location_required"),
        ({"lat": "31.405", "long": "104.605", "description": "x"}, 400, "service_code_required"),
        (
            {"service_code": "nope", "lat": "31.405", "long": "104.605", "description": "x"},
            404,
            "unknown_service",
        ),
        ({"service_code": "city.litter", "lat": "0", "long": "0", "description": "x"}, 400, ""),
        (
            {"service_code": "city.litter", "lat": "31.405", "long": "104.605", "description": ""},
            400,
            "text_required",
        ),
    ]
    for form, status, code in cases:
        response = client.post(f"{BASE}/requests.json", {"api_key": key, **form})
        assert response.status_code == status, (form, response.content)
        assert code in response.json()[0]["description"]
    bad_photo = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": "city.litter",
            "lat": "31.405",
            "long": "104.605",
            "description": "x",
            "media": io.BytesIO(b"GIF89a not allowed"),
        },
    )
    assert bad_photo.status_code == 400 and "image_type_not_allowed" in bad_photo.json()[0]["description"]
    assert Case.objects.count() == 0


def test_get_request_has_every_spec_field_and_no_contact_details(
    client: Client, district: SmallDistrict
) -> None:
    case = _file_case(district)
    data = client.get(f"{BASE}/requests/{case.number}.json").json()
    assert len(data) == 1 and set(data[0]) == REQUEST_FIELDS
    row = data[0]
    assert row["service_request_id"] == case.number and row["status"] == "open"
    assert row["service_code"] == "road.manhole" and row["requested_datetime"].endswith("+08:00")
    assert row["lat"] == round(case.lat, 3)
    root = _xml(client.get(f"{BASE}/requests/{case.number}.xml").content)
    assert root.tag == "service_requests"
    assert {child.tag for child in root.find("request")} == REQUEST_FIELDS
    for fmt in ("json", "xml"):
        body = client.get(f"{BASE}/requests/{case.number}.{fmt}").content.decode()
        assert "13800138000" not in body and "张三" not in body and "138****8000" not in body


def test_tip_offs_and_unknown_ids_are_404(client: Client, district: SmallDistrict) -> None:
    tip = _file_case(district, kind=CaseKind.TIP_OFF)
    assert client.get(f"{BASE}/requests/{tip.number}.json").status_code == 404
    assert client.get(f"{BASE}/requests/20990101-000001.xml").status_code == 404
    assert client.get(f"{BASE}/tokens/20990101-000001.json").status_code == 404


def test_closed_status_maps_from_done_and_cancelled_categories(
    client: Client, district: SmallDistrict
) -> None:
    open_case = _file_case(district)
    done = _file_case(district, idempotency_key="k-done-0001")
    cancelled = _file_case(district, idempotency_key="k-canc-0001")
    Case.objects.filter(pk=done.pk).update(status=Status.CLOSED, status_category="done", result_text="已修好")
    Case.objects.filter(pk=cancelled.pk).update(status=Status.WITHDRAWN, status_category="cancelled")
    closed = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=closed").json()}
    opened = {r["service_request_id"] for r in client.get(f"{BASE}/requests.json?status=open").json()}
    assert closed == {done.number, cancelled.number} and opened == {open_case.number}
    one = client.get(f"{BASE}/requests/{done.number}.json").json()[0]
    assert one["status_notes"] == "已修好" and one["expected_datetime"] is None
    assert client.get(f"{BASE}/requests.json?status=bogus").status_code == 400


def test_list_filters_by_ids_service_code_and_dates(client: Client, district: SmallDistrict) -> None:
    a = _file_case(district)
    b = _file_case(district, category_id=category("city.litter").pk, idempotency_key="k-b-000001")
    by_ids = client.get(f"{BASE}/requests.json?service_request_id={a.number},{b.number}&status=closed").json()
    assert {r["service_request_id"] for r in by_ids} == {a.number, b.number}  # ids override the rest
    litter = client.get(f"{BASE}/requests.json?service_code=city.litter").json()
    assert [r["service_request_id"] for r in litter] == [b.number]
    future = client.get(f"{BASE}/requests.json?start_date=2099-01-01T00:00:00%2B08:00").json()
    assert future == []
    assert client.get(f"{BASE}/requests.json?start_date=yesterday").status_code == 400


def test_list_is_paginated_and_page_size_is_capped_at_100(client: Client, district: SmallDistrict) -> None:
    for i in range(5):
        _file_case(district, idempotency_key=f"page-key-{i:04d}")
    page1 = client.get(f"{BASE}/requests.json?page_size=2").json()
    page3 = client.get(f"{BASE}/requests.json?page_size=2&page=3").json()
    assert len(page1) == 2 and len(page3) == 1
    assert page1[0]["requested_datetime"] >= page1[1]["requested_datetime"]
    with CaptureQueriesContext(connection) as queries:
        client.get(f"{BASE}/requests.json?page_size=1000")
    assert any("LIMIT 100" in q["sql"] for q in queries.captured_queries)
    assert client.get(f"{BASE}/requests.json?page=0").status_code == 400


def test_tokens_resolve_to_the_request_id(client: Client, district: SmallDistrict) -> None:
    # given a request filed through Open311 and the signed token POST would have answered for it
    case = _file_case(district)
    token = token_for(case.pk)
    # when the token is looked up, then it answers the request's id (and the token), in both formats
    data = client.get(f"{BASE}/tokens/{token}.json").json()
    assert data == [{"service_request_id": case.number, "token": token}]
    root = _xml(client.get(f"{BASE}/tokens/{token}.xml").content)
    assert root.findtext("request/service_request_id") == case.number
    # and the case number itself is no token
    assert client.get(f"{BASE}/tokens/{case.number}.json").status_code == 404


def test_service_request_updates_show_public_steps_without_notes(
    client: Client, district: SmallDistrict
) -> None:
    case = _file_case(district)
    case.events.create(
        actor_role="system",
        action="resolve",
        from_status="in_progress",
        to_status="resolved",
        note="内部备注 13800138000",
        is_public=True,
        created_at=case.created_at,
    )
    data = client.get(f"{BASE}/servicerequestupdates.json?start_date=2000-01-01T00:00:00Z").json()
    assert len(data) == 1
    assert set(data[0]) == {
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
        "media_url",
    }
    assert data[0]["service_request_id"] == case.number and data[0]["status"] == "closed"
    root = _xml(client.get(f"{BASE}/servicerequestupdates.xml?start_date=2000-01-01T00:00:00Z").content)
    assert root.tag == "service_request_updates" and root.findtext("request_update/update_id")
    assert "13800138000" not in json.dumps(data, ensure_ascii=False)
    assert client.get(f"{BASE}/servicerequestupdates.json").status_code == 400


def test_issued_keys_are_stored_only_as_a_hash(district: SmallDistrict) -> None:
    issued = open311_client_issue(name="App")
    row = Open311Client.objects.get(pk=issued.client.pk)
    assert issued.raw_key not in (row.key_hash, row.key_prefix) and len(row.key_hash) == 64
    assert str(row).startswith("App")


def test_reads_over_the_public_limit_get_429_in_the_spec_shape(
    client: Client, district: SmallDistrict, settings: Any
) -> None:
    settings.LINLI_RATE_LIMITS = {**settings.LINLI_RATE_LIMITS, "public_api": "2/m"}
    codes = [client.get(f"{BASE}/services.json").status_code for _ in range(2)]
    over_json = client.get(f"{BASE}/services.json")
    over_xml = client.get(f"{BASE}/services.xml")

    assert codes == [200, 200]
    assert over_json.status_code == 429 and int(over_json["Retry-After"]) >= 1
    [error] = over_json.json()
    assert error["code"] == 429 and error["description"].startswith("rate_limited: ")
    root = SafeET.fromstring(over_xml.content)
    assert over_xml.status_code == 429 and root.tag == "errors" and root.find("error/code").text == "429"  # type: ignore[union-attr]
