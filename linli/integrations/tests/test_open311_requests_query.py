"""GET requests and GET tokens against GeoReport v2, in both formats: the 90-day window without dates,
the date range rules, ``status`` as a comma list, and tokens (signed, unguessable) of requests POSTed here
that are not public."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing
from django.test import Client

from linli.cases.models import Case, CaseKind, Channel, Status
from linli.cases.tests.factories import grid_point
from linli.integrations.open311.clients import open311_client_issue
from linli.integrations.open311.tokens import token_for
from linli.integrations.tests.test_open311 import BASE, _file_case, _xml
from linli.places.tests.factories import SmallDistrict

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def ids_json(client: Client, **params: Any) -> set[str]:
    response = client.get(f"{BASE}/requests.json", params)
    assert response.status_code == 200, response.content
    return {r["service_request_id"] for r in response.json()}


def ids_xml(client: Client, **params: Any) -> set[str]:
    response = client.get(f"{BASE}/requests.xml", params)
    assert response.status_code == 200, response.content
    root = _xml(response.content)
    assert root.tag == "service_requests"
    return {r.findtext("service_request_id") for r in root.findall("request")}


def ago(days: int, hours: int = 0) -> dt.datetime:
    return NOW - dt.timedelta(days=days, hours=hours)


@pytest.fixture
def aged(district: SmallDistrict) -> dict[int, Case]:
    """Requests filed 100, 89 and 1 days before NOW."""
    return {d: _file_case(district, now=ago(d), idempotency_key=f"aged-key-{d:04d}") for d in (100, 89, 1)}


def test_without_dates_only_the_last_90_days_are_listed(client: Client, aged: dict[int, Case]) -> None:
    recent = {aged[89].number, aged[1].number}
    with time_machine.travel(NOW, tick=False):
        assert ids_json(client) == recent
        assert ids_xml(client) == recent
        assert ids_json(client, service_code="road.manhole") == recent
        # A list of ids overrides every other parameter, the window included.
        assert ids_json(client, service_request_id=aged[100].number) == {aged[100].number}
        assert ids_xml(client, service_request_id=aged[100].number) == {aged[100].number}


def test_a_date_range_is_honoured_up_to_90_days_and_one_date_opens_a_90_day_window(
    client: Client, aged: dict[int, Case]
) -> None:
    with time_machine.travel(NOW, tick=False):
        both = {"start_date": ago(120).isoformat(), "end_date": ago(80).isoformat()}
        assert ids_json(client, **both) == ids_xml(client, **both) == {aged[100].number, aged[89].number}
        # Only a start: the 90 days from it (100 days ago + 90 days = 10 days ago; the 1-day-old is out).
        start = {"start_date": ago(100, 1).isoformat()}
        assert ids_json(client, **start) == ids_xml(client, **start) == {aged[100].number, aged[89].number}
        # Only an end: the 90 days up to it.
        end = {"end_date": ago(95).isoformat()}
        assert ids_json(client, **end) == ids_xml(client, **end) == {aged[100].number}


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"start_date": ago(120).isoformat(), "end_date": ago(0).isoformat()}, "date_range_too_long"),
        ({"start_date": ago(1).isoformat(), "end_date": ago(2).isoformat()}, "invalid_date_range"),
        ({"status": "open,bogus"}, "invalid_status"),
        ({"status": "pending"}, "invalid_status"),
    ],
)
def test_bad_windows_and_statuses_are_400_in_both_formats(
    client: Client, district: SmallDistrict, params: dict[str, str], code: str
) -> None:
    as_json = client.get(f"{BASE}/requests.json", params)
    assert as_json.status_code == 400
    assert as_json.json()[0]["code"] == 400 and as_json.json()[0]["description"].startswith(f"{code}:")
    as_xml = client.get(f"{BASE}/requests.xml", params)
    root = _xml(as_xml.content)
    assert as_xml.status_code == 400 and root.tag == "errors"
    assert root.findtext("error/code") == "400" and root.findtext("error/description").startswith(f"{code}:")


def test_status_takes_a_comma_list(client: Client, district: SmallDistrict) -> None:
    open_case = _file_case(district, idempotency_key="status-open-01")
    done = _file_case(district, idempotency_key="status-done-01")
    Case.objects.filter(pk=done.pk).update(status=Status.CLOSED, status_category="done", result_text="已修好")
    both = {open_case.number, done.number}
    for value in ("open,closed", "closed,open", "OPEN, closed", "open,closed,open"):
        assert ids_json(client, status=value) == both, value
        assert ids_xml(client, status=value) == both, value
    assert ids_json(client, status="open,") == ids_xml(client, status="open,") == {open_case.number}
    assert ids_json(client, status="closed") == {done.number}
    rows = {
        r["service_request_id"]: r["status"]
        for r in client.get(f"{BASE}/requests.json?status=open,closed").json()
    }
    assert rows == {open_case.number: "open", done.number: "closed"}


def test_a_request_posted_here_resolves_by_token_even_when_it_is_not_public(
    client: Client, district: SmallDistrict
) -> None:
    # given a request POSTed here (later taken off 公示) and a tip-off filed through Open311 (never public)
    key = open311_client_issue(name="App").raw_key
    lat, lng = grid_point(district, 0)
    posted = client.post(
        f"{BASE}/requests.json",
        {"api_key": key, "service_code": "road.manhole", "lat": lat, "long": lng, "description": "井盖丢了"},
    )
    assert posted.status_code == 201
    number, posted_token = posted.json()[0]["service_request_id"], posted.json()[0]["token"]
    Case.objects.filter(number=number).update(is_public=False)  # e.g. taken off 公示
    tip = _file_case(district, kind=CaseKind.TIP_OFF, idempotency_key="tip-off-0001")  # never public

    for token, case_number in ((posted_token, number), (token_for(tip.pk), tip.number)):
        # when each is looked up by its token, then the id comes back (and nothing else), in both formats
        assert client.get(f"{BASE}/requests/{case_number}.json").status_code == 404  # the request: not shown
        as_json = client.get(f"{BASE}/tokens/{token}.json")
        assert as_json.status_code == 200
        assert as_json.json() == [{"service_request_id": case_number, "token": token}]
        root = _xml(client.get(f"{BASE}/tokens/{token}.xml").content)
        assert root.tag == "service_requests"
        assert [child.tag for child in root.find("request")] == ["service_request_id", "token"]
        assert root.findtext("request/service_request_id") == case_number
        assert root.findtext("request/token") == token

    # A token is what POST returned: a case from another channel has none, public or not.
    resident_case = _file_case(district, channel=Channel.RESIDENT, idempotency_key="resident-0001")
    assert Case.objects.get(pk=resident_case.pk).is_public
    assert client.get(f"{BASE}/tokens/{token_for(resident_case.pk)}.json").status_code == 404
    missing = _xml(client.get(f"{BASE}/tokens/20990101-000001.xml").content)
    assert missing.tag == "errors" and missing.findtext("error/code") == "404"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_case_number_or_a_forged_token_is_404_so_tokens_cannot_be_probed(
    client: Client, district: SmallDistrict, fmt: str
) -> None:
    # given a tip-off filed through Open311 (not public), whose number is sequential and so guessable
    tip = _file_case(district, kind=CaseKind.TIP_OFF, idempotency_key="tip-off-0002")
    genuine = token_for(tip.pk)
    case_id, _, signature = genuine.partition(":")
    other_salt = signing.Signer(salt="linli.something.else").sign(case_id)
    forged = [
        tip.number,  # what the token used to be
        case_id,  # the id without a signature
        f"{case_id}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # a signature one letter off
        f"{int(case_id) + 1}:{signature}",  # a genuine signature moved to the next id
        other_salt,  # signed by us, but for something else
        token_for(tip.pk + 1000),  # a valid signature of a case that does not exist
        "x" * 300,
    ]
    for token in forged:
        # when each is looked up, then it is 404 in the spec's error shape, whether the case exists or not
        response = client.get(f"{BASE}/tokens/{token}.{fmt}")
        assert response.status_code == 404, token
        if fmt == "json":
            assert response.json()[0]["code"] == 404
            assert response.json()[0]["description"].startswith("not_found:")
        else:
            root = _xml(response.content)
            assert root.tag == "errors" and root.findtext("error/code") == "404"
    # and the genuine token still resolves
    assert client.get(f"{BASE}/tokens/{genuine}.{fmt}").status_code == 200
