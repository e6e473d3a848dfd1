"""Open311 answers whatever a client sends with the spec's error list, never a 500, an HTML page or an
unparseable document: characters XML forbids, page numbers past any offset, over-size uploads, building
ids as ``address_id``, unknown paths and methods, a reversed date range."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client

from linli.cases import forms as case_forms
from linli.cases.models import Case, CaseAttachment, CaseEvent, Status
from linli.cases.tests.factories import grid_point
from linli.integrations.open311.clients import open311_client_issue
from linli.integrations.open311.selectors import MAX_PAGE
from linli.integrations.tests.test_open311 import BASE, _file_case, _jpeg
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db


def _xml(body: bytes) -> ET.Element:
    # The standard library's parser, as most clients use it: it refuses any character XML 1.0 forbids.
    return ET.fromstring(body)  # noqa: S314 - our own answer, parsed to prove it well-formed


def _error(response: Any, fmt: str) -> tuple[int, str]:
    """(code, description) of the single error in a spec-shaped error list, in either format."""
    if fmt == "json":
        [error] = response.json()
        return error["code"], error["description"]
    root = _xml(response.content)
    assert root.tag == "errors" and len(root) == 1
    return int(root.findtext("error/code") or 0), root.findtext("error/description") or ""


def _form(key: str, district: SmallDistrict, **extra: Any) -> dict[str, Any]:
    lat, lng = grid_point(district, 0)
    return {
        "api_key": key,
        "service_code": "road.manhole",
        "lat": lat,
        "long": lng,
        "description": "井盖丢了",
        **extra,
    }


# --- 1. XML stays well-formed --------------------------------------------------------------------


def test_a_result_text_with_a_control_character_still_gives_well_formed_xml(
    client: Client, district: SmallDistrict
) -> None:
    # given a solved case whose result text was pasted from Word with a vertical tab in it
    case = _file_case(district)
    result = "井盖已更换\x0b验收合格"
    Case.objects.filter(pk=case.pk).update(status=Status.CLOSED, status_category="done", result_text=result)
    # when it is read in XML, alone and in the list
    one = client.get(f"{BASE}/requests/{case.number}.xml")
    listed = client.get(f"{BASE}/requests.xml?status=closed")
    # then both documents parse, the character replaced by U+FFFD and the rest of the text kept
    assert one.status_code == listed.status_code == 200
    assert _xml(one.content).findtext("request/status_notes") == "井盖已更换\ufffd验收合格"
    assert _xml(listed.content).findtext("request/status_notes") == "井盖已更换\ufffd验收合格"
    # and the JSON, which can carry the character escaped, gives the text as it is
    assert client.get(f"{BASE}/requests/{case.number}.json").json()[0]["status_notes"] == result


@pytest.mark.parametrize(
    "path",
    [
        "requests/%01.xml",  # a request id echoed in the 404
        "services/%01bad.xml",  # a service code echoed in the 404
        "tokens/%01%0B.xml",  # a token echoed in the 404
    ],
)
def test_errors_echoing_a_forbidden_character_from_the_url_are_well_formed_xml(
    client: Client, district: SmallDistrict, path: str
) -> None:
    # given a path carrying characters XML 1.0 forbids, when it is asked for in XML
    response = client.get(f"{BASE}/{path}")
    # then the 404 error list parses, the characters replaced
    code, description = _error(response, "xml")
    assert response.status_code == code == 404
    assert "\ufffd" in description and "\x01" not in description


def test_a_posted_service_code_echoed_in_the_error_is_well_formed_xml_and_exact_in_json(
    client: Client, district: SmallDistrict
) -> None:
    # given a client posting a service code with a control character in it
    key = open311_client_issue(name="App").raw_key
    form = _form(key, district, service_code="road\x01manhole")
    # when it is posted in each format
    as_xml = client.post(f"{BASE}/requests.xml", form)
    as_json = client.post(f"{BASE}/requests.json", form)
    # then both are the 404 list; the XML parses with the character replaced, the JSON echoes it exactly
    assert _error(as_xml, "xml") == (404, "unknown_service: 服务代码 road\ufffdmanhole 不存在")
    assert _error(as_json, "json") == (404, "unknown_service: 服务代码 road\x01manhole 不存在")
    assert Case.objects.count() == 0


# --- 2. page is bounded ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    ("page", "code"),
    [
        ("9223372036854775807", "number_too_large"),  # the offset overflowed: a 500
        (str(MAX_PAGE + 1), "number_too_large"),
        ("9" * 5000, "invalid_number"),  # past Python's digit limit for int()
        ("-1", "invalid_number"),
    ],
)
def test_a_page_beyond_the_maximum_is_400_naming_the_problem(
    client: Client, district: SmallDistrict, fmt: str, page: str, code: str
) -> None:
    # given a list of requests, when a page past the bound (or not a page at all) is asked for
    response = client.get(f"{BASE}/requests.{fmt}", {"page": page})
    # then it is the spec's 400 error list with our machine code first
    status, description = _error(response, fmt)
    assert response.status_code == status == 400
    assert description.startswith(f"{code}: page ")


def test_the_last_allowed_page_and_a_huge_page_size_are_answered(
    client: Client, district: SmallDistrict
) -> None:
    # given one request
    _file_case(district)
    # when the deepest allowed page, and a page size far past the cap, are asked for
    deepest = client.get(f"{BASE}/requests.json", {"page": MAX_PAGE})
    huge_size = client.get(f"{BASE}/requests.xml", {"page_size": "9223372036854775807"})
    # then the first is an empty page and the second is served at the cap (one request here)
    assert (deepest.status_code, deepest.json()) == (200, [])
    assert huge_size.status_code == 200 and len(_xml(huge_size.content).findall("request")) == 1


# --- 3. uploads are bounded before they are read --------------------------------------------------


@pytest.fixture
def small_photo_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """The upload limit the case form uses (linli.cases.attachments.MAX_BYTES, read by photos_read),
    lowered to the size of the test photo so that one byte more is over it."""
    limit = len(_jpeg())
    monkeypatch.setattr(case_forms, "MAX_BYTES", limit)
    return limit


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_request_photo_one_byte_over_the_limit_is_400_and_files_nothing(
    client: Client, district: SmallDistrict, small_photo_limit: int, fmt: str
) -> None:
    # given a client and an upload limit the size of its photo
    key = open311_client_issue(name="App").raw_key
    over = _jpeg() + b"\0"
    assert len(over) == small_photo_limit + 1
    # when it posts a request with a photo one byte over the limit
    response = client.post(f"{BASE}/requests.{fmt}", _form(key, district, media=io.BytesIO(over)))
    # then it is refused with 400 image_too_big and no case is filed
    status, description = _error(response, fmt)
    assert response.status_code == status == 400 and description.startswith("image_too_big:")
    assert Case.objects.count() == 0
    # and a photo exactly at the limit is taken
    accepted = client.post(f"{BASE}/requests.{fmt}", _form(key, district, media=io.BytesIO(_jpeg())))
    assert accepted.status_code == 201, accepted.content
    assert CaseAttachment.objects.count() == 1


def test_more_than_nine_request_photos_are_400(client: Client, district: SmallDistrict) -> None:
    # given a client, when it posts a request with ten photos (the case form's limit is nine)
    key = open311_client_issue(name="App").raw_key
    media = [io.BytesIO(_jpeg()) for _ in range(10)]
    response = client.post(f"{BASE}/requests.json", _form(key, district, media=media))
    # then it is refused and nothing is filed
    assert response.status_code == 400
    assert response.json()[0]["description"].startswith("too_many_photos:")
    assert Case.objects.count() == 0


def test_an_update_photo_one_byte_over_the_limit_is_400_and_records_nothing(
    client: Client, district: SmallDistrict, small_photo_limit: int
) -> None:
    # given a request POSTed by a client, and an upload limit the size of the client's photo
    key = open311_client_issue(name="App").raw_key
    number = client.post(f"{BASE}/requests.json", _form(key, district)).json()[0]["service_request_id"]
    update = {"api_key": key, "service_request_id": number, "description": "已派人维修"}
    # when it posts an update with a photo one byte over the limit
    response = client.post(
        f"{BASE}/servicerequestupdates.xml", {**update, "media": io.BytesIO(_jpeg() + b"\0")}
    )
    # then it is refused with 400 image_too_big and no update is recorded
    assert _error(response, "xml")[0] == response.status_code == 400
    assert _error(response, "xml")[1].startswith("image_too_big:")
    assert not CaseEvent.objects.filter(action="external_update").exists()
    # and one at the limit is recorded with its photo
    ok = client.post(f"{BASE}/servicerequestupdates.json", {**update, "media": io.BytesIO(_jpeg())})
    assert ok.status_code == 201, ok.content
    assert CaseAttachment.objects.filter(event__action="external_update").count() == 1


# --- 5. POST requests ignores media_url -----------------------------------------------------------


def test_a_request_with_a_media_url_is_filed_without_fetching_it(
    client: Client, district: SmallDistrict
) -> None:
    # given a client that names a photo by URL instead of uploading it
    key = open311_client_issue(name="App").raw_key
    # when it posts the request
    response = client.post(f"{BASE}/requests.json", _form(key, district, media_url="http://10.0.0.1/a.jpg"))
    # then the request is filed, without a photo (nothing is fetched; tests block the network anyway)
    assert response.status_code == 201, response.content
    case = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert not CaseAttachment.objects.filter(case=case).exists()


# --- 6. address_id is our building id -------------------------------------------------------------


def test_address_id_locates_the_request_at_that_building(client: Client, district: SmallDistrict) -> None:
    # given a client that knows our building ids
    key = open311_client_issue(name="App").raw_key
    building = district.buildings[5]
    form = _form(key, district, address_id=str(building.pk))
    del form["lat"], form["long"]
    # when it posts a request with address_id as its only location
    response = client.post(f"{BASE}/requests.xml", form)
    # then the case is placed at that building, on its grid and point, as a QR code report would be
    assert response.status_code == 201, response.content
    number = _xml(response.content).findtext("request/service_request_id")
    case = Case.objects.get(number=number)
    assert case.building_id == building.pk and case.grid_id == building.grid_id is not None
    assert (case.lat, case.lng) == (building.lat, building.lng)
    assert case.estate_id == building.parent_id


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("address_id", ["999999999", "abc", "1.5", "9" * 30, "community"])
def test_an_unknown_address_id_is_400_and_files_nothing(
    client: Client, district: SmallDistrict, fmt: str, address_id: str
) -> None:
    # given a client, when it posts a request whose address_id is no building of ours
    key = open311_client_issue(name="App").raw_key
    value = str(district.communities[0].pk) if address_id == "community" else address_id  # not a building
    response = client.post(f"{BASE}/requests.{fmt}", _form(key, district, address_id=value))
    # then it is the spec's 400 list naming address_id, and no case is filed
    status, description = _error(response, fmt)
    assert response.status_code == status == 400
    assert description.startswith("unknown_address_id: address_id ")
    assert Case.objects.count() == 0


# --- 7. unknown paths and methods -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "fmt"),
    [
        ("requests.html", "json"),
        ("requests.JSON", "json"),
        ("requests.json/", "json"),
        ("services/", "json"),
        ("", "json"),
        ("nothing.xml", "xml"),
        ("requests.XML", "xml"),
        ("requests/20261122/000001.xml", "xml"),
        ("requests.json%0A", "json"),
    ],
)
def test_an_unknown_path_is_the_spec_404_in_json_or_by_its_xml_suffix(
    client: Client, district: SmallDistrict, path: str, fmt: str
) -> None:
    # given a path under /open311/v2/ that is no endpoint, when it is asked for
    response = client.get(f"{BASE}/{path}")
    # then the answer is the spec's 404 list, in XML when the path ends in .xml and in JSON otherwise
    assert response["Content-Type"].startswith("text/xml" if fmt == "xml" else "application/json")
    status, description = _error(response, fmt)
    assert response.status_code == status == 404 and description.startswith("unknown_endpoint:")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "requests.json", "GET, POST"),
        ("delete", "servicerequestupdates.xml", "GET, POST"),
        ("post", "services.xml", "GET"),
        ("post", "discovery.json", "GET"),
        ("patch", "tokens/abc.json", "GET"),
    ],
)
def test_a_wrong_method_is_the_spec_405_with_allow(
    district: SmallDistrict, method: str, path: str, allowed: str
) -> None:
    # given a client that sends no CSRF token (a machine), when it uses a method the endpoint does not take
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(f"{BASE}/{path}")
    # then it is a 405 in the spec's shape and the format of the suffix, naming the methods allowed
    status, description = _error(response, path.rsplit(".", 1)[1])
    assert response.status_code == status == 405 and description.startswith("method_not_allowed:")
    assert response["Allow"] == allowed


def test_a_post_to_an_unknown_path_is_the_spec_404_not_the_csrf_page(district: SmallDistrict) -> None:
    # given a client that sends no CSRF token, when it POSTs to a mistyped path
    response = Client(enforce_csrf_checks=True).post(f"{BASE}/request.xml", {"api_key": "x"})
    # then it learns the path is wrong, in the spec's shape
    status, description = _error(response, "xml")
    assert response.status_code == status == 404 and description.startswith("unknown_endpoint:")


# --- 8. servicerequestupdates refuses a reversed range --------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_updates_with_end_date_before_start_date_are_400_as_for_requests(
    client: Client, district: SmallDistrict, fmt: str
) -> None:
    # given a reversed range, when updates and requests are asked for over it
    params = {"start_date": "2026-11-20T00:00:00+08:00", "end_date": "2026-11-01T00:00:00+08:00"}
    updates = client.get(f"{BASE}/servicerequestupdates.{fmt}", params)
    requests = client.get(f"{BASE}/requests.{fmt}", params)
    # then both answer the same 400
    assert updates.status_code == requests.status_code == 400
    assert _error(updates, fmt) == _error(requests, fmt)
    assert _error(updates, fmt)[1].startswith("invalid_date_range:")
